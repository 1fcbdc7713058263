"""A worker records an attempt only while it holds the delivery's lease, and the lease
outlives the task: defaults derived from each other, checked at start-up."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.utils import timezone

from console.tenancy.audit import Actor
from tests.factories import make_merchant
from tests.receiver import Receiver, Reply
from webhooks import services
from webhooks.models import Attempt, Delivery
from webhooks.services import engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _delivery(url: str) -> Delivery:
    merchant = make_merchant("Leaseholder")
    endpoint = services.endpoint_save(actor=Actor(), merchant=merchant, mode="test", url=url,
                                      content_type="json", version="v1")
    return Delivery.objects.create(merchant=merchant, endpoint=endpoint, mode="test", trigger="event",
                                   event="paid", url=url, content_type="json", version="v1", body="{}",
                                   next_attempt_at=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_a_worker_whose_lease_was_taken_during_the_send_records_nothing(receiver, settings):
    """The receiver holds the answer while the lease runs out and a second worker takes the
    delivery (as dispatch_due would have it). When the first send ends, its worker no longer
    holds the lease: it writes neither an attempt nor the delivery's state; the new holder
    will record its own attempt."""
    settings.WEBHOOK_LEASE_SECONDS = 60
    answer = threading.Event()
    receiver.script("/held", [Reply(200, b"ok", hold=answer)])
    delivery = _delivery(receiver.url("/held"))
    taken = {}

    def second_worker():
        try:
            receiver.wait_for(1, "/held")
            Delivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now())  # ran out
            taken["claim"] = engine._claim(delivery.pk)
        finally:
            connection.close()  # this thread's own connection
            answer.set()

    thief = threading.Thread(target=second_worker)
    thief.start()
    assert services.deliver(delivery.pk) is None
    thief.join(30)

    assert taken["claim"] is not None, "the second worker could not take the expired lease"
    _claimed, token = taken["claim"]
    delivery.refresh_from_db()
    assert not Attempt.objects.filter(delivery=delivery).exists()
    assert (delivery.attempt_count, delivery.status, delivery.lock_token) == (0, "pending", token)
    assert delivery.last_error == "" and delivery.last_error_params == {}


@pytest.mark.django_db
def test_record_writes_the_attempt_and_the_state_together_while_the_lease_holds(receiver):
    receiver.script("/kept", [Reply(200, b"ok")])
    delivery = _delivery(receiver.url("/kept"))
    attempt = services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert attempt is not None and attempt.number == 1 and attempt.response_status == 200
    assert (delivery.status, delivery.attempt_count, delivery.lock_token) == ("succeeded", 1, "")


@pytest.mark.django_db
def test_record_with_a_lost_token_changes_nothing(receiver):
    delivery = _delivery(receiver.url("/never"))
    claimed, token = engine._claim(delivery.pk)
    Delivery.objects.filter(pk=delivery.pk).update(lock_token="someone-else")
    from webhooks.net import SendResult

    result = SendResult(status=200, body="ok", duration_ms=5)
    assert engine._record(claimed, token, timezone.now(), {}, result) is None
    delivery.refresh_from_db()
    assert (delivery.attempt_count, delivery.status, delivery.lock_token) == (0, "pending", "someone-else")
    assert not Attempt.objects.exists()


# ------------------------------------------------------------------------ settings


def _webhook_checks():
    return sorted(m.id for m in run_checks() if m.id and m.id.startswith("webhooks."))


# run_checks() runs the model checks too, and on SQLite those ask the database what it supports
# (JSONField): without the mark, they fail unless an earlier test happened to ask first.
@pytest.mark.django_db
def test_the_default_timings_pass_the_check(settings):
    assert settings.WEBHOOK_SEND_DEADLINE < settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT < settings.WEBHOOK_LEASE_SECONDS
    assert settings.WEBHOOK_SEND_DEADLINE >= (settings.WEBHOOK_DNS_TIMEOUT + settings.WEBHOOK_CONNECT_TIMEOUT
                                              + settings.WEBHOOK_READ_TIMEOUT)
    assert _webhook_checks() == []


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [({"WEBHOOK_LEASE_SECONDS": 50}, "webhooks.E004"),  # the lease of the old defaults
     ({"WEBHOOK_SEND_DEADLINE": 95.0}, "webhooks.E002"),
     ({"WEBHOOK_SEND_DEADLINE": 20.0, "CELERY_TASK_SOFT_TIME_LIMIT": 15,
       "WEBHOOK_LEASE_SECONDS": 18}, "webhooks.E003"),
     ({"WEBHOOK_LEASE_SECONDS": 100}, "webhooks.W001"),
     ({"CELERY_TASK_TIME_LIMIT": 90}, "webhooks.E006"),  # killed before the soft limit can stop it
     ({"WEBHOOK_READ_TIMEOUT": 0}, "webhooks.E007"),
     # the deadline of the old defaults: 30 s cuts a receiver answering at 29 s after a slow connect
     ({"WEBHOOK_SEND_DEADLINE": 30.0}, "webhooks.W002")],
)
@pytest.mark.django_db
def test_timings_that_let_a_lease_run_out_mid_send_are_reported(settings, overrides, problem):
    for name, value in overrides.items():
        setattr(settings, name, value)
    assert problem in _webhook_checks()


TIMINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "from django.core.checks import run_checks; "
    "print(json.dumps([s.WEBHOOK_CONNECT_TIMEOUT, s.WEBHOOK_READ_TIMEOUT, s.WEBHOOK_DNS_TIMEOUT, "
    "s.WEBHOOK_SEND_DEADLINE, s.CELERY_TASK_SOFT_TIME_LIMIT, s.CELERY_TASK_TIME_LIMIT, "
    "s.WEBHOOK_LEASE_SECONDS, [m.id for m in run_checks() if (m.id or '').startswith('webhooks.')]]))"
)


@pytest.mark.script
@pytest.mark.parametrize(
    ("environ", "expected"),
    [  # connect, read, DNS, deadline, soft, hard, lease
        ({}, (10, 30, 3, 45, 90, 120, 150)),  # PortOne's first send: 10 s connect, 30 s read
        # Raising the soft time limit alone moves the hard limit and the lease with it.
        ({"CELERY_TASK_SOFT_TIME_LIMIT": "300"}, (10, 30, 3, 45, 300, 330, 360)),
        # Raising a timeout alone moves the deadline with it: they cannot drift apart.
        ({"WEBHOOK_READ_TIMEOUT": "60"}, (10, 60, 3, 75, 90, 120, 150)),
    ],
)
def test_the_timings_derive_from_each_other(environ, expected):
    """In a fresh interpreter with no CELERY_ or WEBHOOK_ variable but these: the base
    settings' defaults (the test settings override none of them), and the nesting checked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "WEBHOOK_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", **environ)
    shown = subprocess.run([sys.executable, "-c", TIMINGS], env=env, cwd=ROOT, capture_output=True,
                           text=True, check=True, timeout=60)
    *timings, problems = json.loads(shown.stdout.strip().splitlines()[-1])
    assert tuple(timings) == expected
    assert problems == []
