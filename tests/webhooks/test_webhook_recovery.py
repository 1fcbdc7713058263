"""Recovery after a fix (issue 22, items 1–3), against real things: the session's Celery worker
(retries in seconds, its beat dispatching what is due), a real HTTP receiver on loopback, the
real database.

1. Every attempt to the endpoint goes to its URL as it is now (a retry, a resend); a payment's
   notice_url keeps its own; each attempt records where it went.
2. Send now on a Retrying delivery: at once, one send however many presses, and no retry after
   a send-now that is received.
3. Resend failed deliveries since a time: counted, bounded, one audit row, queued by a task.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from console.models import AuditEvent
from console.tenancy.audit import Actor
from tests.factories import make_merchant
from tests.hooks import endpoint_for, wait_final
from tests.receiver import Receiver, Reply
from tests.worker import wait_until
from webhooks import selectors, services
from webhooks.models import Delivery
from webhooks.services import ResendOutcome

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _route_to_worker(settings, shared_worker):
    settings.WEBHOOK_QUEUE = shared_worker.queue  # the session's (tests/worker.py, hooks.FAST)
    settings.WEBHOOK_RETRY_UNIT_SECONDS = 1
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 1, 1, 1, 1]
    settings.WEBHOOK_LEASE_SECONDS = 4


def _paths(receiver, path):
    return [r for r in receiver.requests if r.path == path]


def _event(merchant, n=1, mode="test"):
    return services.notify_event(merchant=merchant, mode=mode, imp_uid=f"imp_{merchant.pk}_{n}",
                                 merchant_uid=f"order_{n}", status="paid")


# --- 1. The URL as it is now ------------------------------------------------------------------

def test_a_retry_goes_to_the_url_fixed_since_the_first_attempt(receiver):
    merchant = make_merchant("Fixer")
    receiver.script("/r-broken", [Reply(503, b"down")])
    receiver.script("/r-fixed", [Reply(200, b"ok")])
    endpoint_for(merchant, receiver.url("/r-broken"))
    delivery = _event(merchant)
    receiver.wait_for(1, "/r-broken")
    endpoint_for(merchant, receiver.url("/r-fixed"))  # the operator fixes the URL

    delivery = wait_final(delivery)
    assert delivery.status == "succeeded"
    assert delivery.url == receiver.url("/r-fixed")
    attempts = list(delivery.attempts.order_by("number"))
    assert attempts[-1].url == receiver.url("/r-fixed") and attempts[-1].response_status == 200
    assert {a.url for a in attempts[:-1]} == {receiver.url("/r-broken")}
    assert len(_paths(receiver, "/r-fixed")) == 1
    assert _paths(receiver, "/r-fixed")[0].headers["webhook-id"] == delivery.message_id


def test_a_resend_goes_to_the_endpoints_url_now_and_each_attempt_says_where(receiver):
    merchant = make_merchant("Mover")
    receiver.script("/m-old", [Reply(404, b"no such hook")])
    receiver.script("/m-new", [Reply(200, b"ok")])
    endpoint_for(merchant, receiver.url("/m-old"))
    delivery, _ = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
    assert wait_final(delivery).status == "failed"
    endpoint_for(merchant, receiver.url("/m-new"))

    done = services.delivery_resend(actor=Actor(), delivery=delivery, seen_attempts=1)
    assert done.outcome is ResendOutcome.QUEUED and done.enqueued
    new = receiver.wait_for(1, "/m-new")[0]
    delivery = wait_final(delivery)
    assert delivery.status == "succeeded" and delivery.url == receiver.url("/m-new")
    assert [(a.number, a.url, a.response_status) for a in delivery.attempts.order_by("number")] == [
        (1, receiver.url("/m-old"), 404), (2, receiver.url("/m-new"), 200)]
    old = _paths(receiver, "/m-old")[0]
    assert old.headers["webhook-id"] == new.headers["webhook-id"] == delivery.message_id
    assert old.body == new.body


def test_a_notice_url_delivery_stays_with_its_url_whatever_the_endpoint_says(receiver):
    merchant = make_merchant("Noticer")
    receiver.script("/n-notice", [Reply(404, b"not yet"), Reply(200, b"ok")])
    endpoint_for(merchant, receiver.url("/n-endpoint"))
    with transaction.atomic():
        [delivery] = services.payment_event_record(
            merchant=merchant, mode="test", imp_uid="imp_notice_1", merchant_uid="order_n1", status="paid",
            notice_urls=[receiver.url("/n-notice")])
    assert wait_final(delivery).status == "failed"
    endpoint_for(merchant, receiver.url("/n-endpoint-fixed"))

    services.delivery_resend(actor=Actor(), delivery=delivery)
    receiver.wait_for(2, "/n-notice")
    delivery = wait_final(delivery)
    assert delivery.status == "succeeded" and delivery.url == receiver.url("/n-notice")
    assert {a.url for a in delivery.attempts.all()} == {receiver.url("/n-notice")}
    assert not _paths(receiver, "/n-endpoint") and not _paths(receiver, "/n-endpoint-fixed")


# --- 2. Send now -------------------------------------------------------------------------------

def _retrying(receiver, path, merchant_name):
    """A payment notification whose first attempt failed and whose next one is an hour away
    (the receiver asked for it with Retry-After)."""
    merchant = make_merchant(merchant_name)
    receiver.script(path, [Reply(503, b"later", {"Retry-After": "3600"}), Reply(200, b"ok")])
    endpoint_for(merchant, receiver.url(path))
    delivery = _event(merchant)

    def retrying():
        delivery.refresh_from_db()
        return delivery.status == "retrying" and delivery.attempt_count == 1

    wait_until(retrying)
    assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=50)
    return delivery


def test_send_now_sends_at_once_and_leaves_no_retry_behind(receiver):
    delivery = _retrying(receiver, "/s-now", "Send now")

    done = services.delivery_resend(actor=Actor(), delivery=delivery, seen_attempts=1)
    assert done.outcome is ResendOutcome.QUEUED
    receiver.wait_for(2, "/s-now", timeout=10)  # now, not in an hour
    delivery = wait_final(delivery)
    assert delivery.status == "succeeded" and delivery.attempt_count == 2
    assert delivery.next_attempt_at is None
    # The worker's beat runs every half second: nothing else goes out for this delivery.
    threading.Event().wait(3)
    assert len(_paths(receiver, "/s-now")) == 2
    audit = AuditEvent.objects.filter(action="webhook.resend", target_id=str(delivery.pk)).get()
    assert "next_attempt_at" in audit.changes


def test_a_send_now_that_fails_goes_on_with_the_schedule(receiver):
    merchant = make_merchant("Still down")
    receiver.script("/s-down", [Reply(503, b"later", {"Retry-After": "3600"}), Reply(500, b"still down"),
                                Reply(200, b"ok")])
    endpoint_for(merchant, receiver.url("/s-down"))
    delivery = _event(merchant)
    wait_until(lambda: Delivery.objects.filter(pk=delivery.pk, status="retrying", attempt_count=1).exists())

    services.delivery_resend(actor=Actor(), delivery=delivery, seen_attempts=1)
    # The send-now fails (500); the schedule goes on (its next step is a second here) and the
    # third attempt is received.
    receiver.wait_for(3, "/s-down", timeout=20)
    delivery = wait_final(delivery)
    assert delivery.status == "succeeded"
    assert [a.response_status for a in delivery.attempts.order_by("number")] == [503, 500, 200]
    assert delivery.max_attempts == 6  # a send-now spends no extra attempt


def test_send_now_pressed_twice_at_once_sends_once(receiver):
    delivery = _retrying(receiver, "/s-twice", "Double click")
    outcomes, start = [], threading.Barrier(2)

    def press():
        try:
            start.wait()
            outcomes.append(services.delivery_resend(actor=Actor(), delivery=delivery, seen_attempts=1).outcome)
        finally:
            connection.close()

    presses = [threading.Thread(target=press) for _ in range(2)]
    for thread in presses:
        thread.start()
    for thread in presses:
        thread.join()
    assert len(outcomes) == 2 and outcomes.count(ResendOutcome.QUEUED) == 1
    assert wait_final(delivery).status == "succeeded"
    threading.Event().wait(2)
    assert len(_paths(receiver, "/s-twice")) == 2  # the first attempt and one send-now

    # A second tab that still shows attempt 1 sends nothing more either.
    late = services.delivery_resend(actor=Actor(), delivery=delivery, seen_attempts=1)
    assert late.outcome is ResendOutcome.ATTEMPTED
    threading.Event().wait(1.5)
    assert len(_paths(receiver, "/s-twice")) == 2
    assert AuditEvent.objects.filter(action="webhook.resend", target_id=str(delivery.pk)).count() == 1


# --- 3. Recover --------------------------------------------------------------------------------

def test_resend_failed_deliveries_since_a_time_resends_exactly_those(receiver):
    merchant = make_merchant("Recoverer")
    receiver.script("/rc-broken", [Reply(404, b"wrong path")])
    receiver.script("/rc-notice", [Reply(404, b"wrong path")])
    receiver.script("/rc-fixed", [Reply(200, b"ok")])
    endpoint = endpoint_for(merchant, receiver.url("/rc-broken"))
    events = [_event(merchant, n) for n in range(3)]
    old = _event(merchant, 99)
    test, _ = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
    with transaction.atomic():
        [notice] = services.payment_event_record(
            merchant=merchant, mode="test", imp_uid="imp_rc_n", merchant_uid="order_rc_n", status="paid",
            notice_urls=[receiver.url("/rc-notice")])
    for delivery in [*events, old, test, notice]:
        assert wait_final(delivery).status == "failed"
    since = timezone.now() - timedelta(minutes=10)
    Delivery.objects.filter(pk=old.pk).update(created_at=since - timedelta(minutes=1))  # before the time
    endpoint = endpoint_for(merchant, receiver.url("/rc-fixed"))

    assert selectors.recoverable_deliveries(endpoint=endpoint, since=since).count() == 3
    done = services.deliveries_recover(actor=Actor(), endpoint=endpoint, since=since)
    assert (done.count, done.left, done.enqueued) == (3, 0, True)

    got = receiver.wait_for(3, "/rc-fixed")
    for delivery in events:
        delivery = wait_final(delivery)
        assert delivery.status == "succeeded" and delivery.attempt_count == 2
    assert sorted(r.headers["webhook-id"] for r in got) == sorted(d.message_id for d in events)
    threading.Event().wait(1.5)
    assert len(_paths(receiver, "/rc-fixed")) == 3  # nothing else: not the old one, not the test
    assert len(_paths(receiver, "/rc-notice")) == 1  # the notice_url one was left alone
    for left_alone in (old, test, notice):
        left_alone.refresh_from_db()
        assert left_alone.status == "failed" and left_alone.attempt_count == 1
    audit = AuditEvent.objects.get(action="webhook.recover", merchant=merchant)
    assert audit.target_id == str(endpoint.pk) and audit.changes["resent"]["new"] == 3

    # Again: nothing is failed since then any more.
    again = services.deliveries_recover(actor=Actor(), endpoint=endpoint, since=since)
    assert (again.count, again.left) == (0, 0)


def test_a_recover_is_bounded_oldest_first_and_says_how_many_are_left(receiver, monkeypatch):
    from webhooks.services import deliveries

    monkeypatch.setattr(deliveries, "RECOVER_MAX", 2)
    merchant = make_merchant("Bounded")
    receiver.script("/b-broken", [Reply(404, b"wrong path")])
    receiver.script("/b-fixed", [Reply(200, b"ok")])
    endpoint_for(merchant, receiver.url("/b-broken"))
    events = [_event(merchant, n) for n in range(3)]
    for delivery in events:
        wait_final(delivery)
    endpoint = endpoint_for(merchant, receiver.url("/b-fixed"))

    done = services.deliveries_recover(actor=Actor(), endpoint=endpoint, since=timezone.now() - timedelta(hours=1))
    assert (done.count, done.left) == (2, 1)
    got = receiver.wait_for(2, "/b-fixed")
    assert sorted(r.headers["webhook-id"] for r in got) == sorted(d.message_id for d in events[:2])
    newest = wait_final(events[2])
    assert newest.status == "failed" and newest.attempt_count == 1
