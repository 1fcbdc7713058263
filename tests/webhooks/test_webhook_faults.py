"""Webhook delivery when things go wrong around the worker: a worker that may not send to
the address, and a worker that dies mid-delivery. Each test runs its own worker, with no
other worker on the database."""

import os
import signal
import subprocess
import time

import pytest

from console.tenancy.audit import Actor
from tests.factories import make_merchant
from tests.hooks import FAST, endpoint_for, wait_final
from tests.receiver import Receiver, Reply
from tests.worker import celery_worker, wait_until
from webhooks import services
from webhooks.models import Attempt

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_blocked_address_is_refused_at_save_and_again_at_send(receiver, settings):
    from django.core.exceptions import ValidationError

    merchant = make_merchant("Blocked")
    for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/hook", "http://2130706433/"):
        with pytest.raises(ValidationError) as exc:
            endpoint_for(merchant, url)
        assert "url" in exc.value.message_dict
    # Saved while loopback was allowed; a worker that allows nothing refuses to send.
    endpoint_for(merchant, receiver.url("/blocked"))
    with celery_worker(extra_env={**FAST, "WEBHOOK_ALLOWED_NETWORKS": ""}) as strict:
        strict.wait_ready()
        settings.WEBHOOK_QUEUE = strict.queue
        delivery, _ = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
        attempt = wait_final(delivery).attempts.get()
    assert attempt.error_kind == "blocked" and "loopback" in attempt.error_message
    assert not [r for r in receiver.requests if r.path == "/blocked"]


def test_a_worker_dying_mid_delivery_still_delivers_once_more_with_the_same_id(receiver, settings):
    """The pool process sending a webhook is killed while the receiver holds the request.
    Celery requeues the task (acks_late + reject_on_worker_lost); the lease keeps anyone from
    sending while it may still be in flight; once it expires, dispatch_due (what beat runs)
    queues the delivery again and a new pool process sends it, with the same webhook-id."""
    merchant = make_merchant("Phoenix")
    receiver.script("/phoenix", [Reply(200, b"too late", delay=20), Reply(200, b"ok")])
    endpoint_for(merchant, receiver.url("/phoenix"))
    # The send is still in flight when the worker dies (its deadline is under the lease).
    env = {**FAST, "WEBHOOK_READ_TIMEOUT": "30", "WEBHOOK_SEND_DEADLINE": "4", "WEBHOOK_LEASE_SECONDS": "5"}
    with celery_worker(concurrency=1, extra_env=env) as mortal:  # no embedded beat: only pool children
        mortal.wait_ready()
        settings.WEBHOOK_QUEUE = mortal.queue
        settings.WEBHOOK_LEASE_SECONDS = 5
        delivery, _ = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
        first = receiver.wait_for(1, "/phoenix")[0]
        children = subprocess.run(["pgrep", "-P", str(mortal.proc.pid)], capture_output=True, text=True)
        pids = [int(p) for p in children.stdout.split()]
        assert pids, "the worker has no pool process"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)  # the process sending the webhook dies mid-request
        deadline = time.monotonic() + 40
        while len([r for r in receiver.requests if r.path == "/phoenix"]) < 2:
            assert time.monotonic() < deadline, "the delivery was not sent again"
            services.dispatch_due()  # as celery beat does every few seconds
            time.sleep(0.5)
        second = receiver.wait_for(2, "/phoenix")[1]
        delivery = wait_final(delivery)
        # The pool process really died (the worker logs it as it notices: waited for, bounded).
        wait_until(lambda: "signal 9" in mortal.output(), timeout=30)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert delivery.status == "succeeded"
    assert Attempt.objects.filter(delivery=delivery, response_status=200).exists()
