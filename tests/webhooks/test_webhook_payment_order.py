"""One payment's webhooks to one URL arrive in the order they happened: a later event waits
until the earlier one is delivered or given up, whichever worker process holds which. The
claim's rule on the database, then a real worker pool (two processes, beat) and the real
receiver."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from console.tenancy.audit import SYSTEM
from tests.factories import make_merchant
from tests.hooks import endpoint_for, wait_final
from tests.receiver import Receiver, Reply
from webhooks import services
from webhooks.models import Delivery
from webhooks.services import engine


def _events(merchant, imp_uid, *statuses):
    return [services.notify_event(merchant=merchant, mode="test", imp_uid=imp_uid, merchant_uid=f"o_{imp_uid}",
                                  status=status, cancellation_id="cancel_1" if "cancel" in status else None)
            for status in statuses]


@pytest.mark.django_db
def test_a_later_event_of_a_payment_waits_for_the_earlier_one(monkeypatch):
    merchant = make_merchant("Orderly")
    endpoint_for(merchant, "http://127.0.0.1:9/hook", mode="test")
    paid, partial = _events(merchant, "imp_1", "paid", "partial_cancelled")
    [other] = _events(merchant, "imp_2", "paid")
    assert paid.sequence_key == partial.sequence_key != other.sequence_key != ""

    Delivery.objects.update(enqueued_at=None, next_attempt_at=timezone.now() - timedelta(seconds=60))
    assert engine._claim(partial.pk) is None  # imp_1's paid is not delivered yet
    queued = []
    monkeypatch.setattr(engine, "_enqueue", queued.extend)  # what dispatch_due hands to the broker
    engine.dispatch_due()
    assert sorted(queued) == sorted([paid.pk, other.pk])  # the waiting one is left alone

    claimed = engine._claim(paid.pk)
    assert claimed is not None
    assert engine._claim(partial.pk) is None  # still waiting while paid is being sent
    Delivery.objects.filter(pk=paid.pk).update(status=Delivery.Status.RETRYING, locked_until=None)
    assert engine._claim(partial.pk) is None  # and while paid waits for its retry
    Delivery.objects.filter(pk=paid.pk).update(status=Delivery.Status.FAILED)  # given up
    assert engine._claim(partial.pk) is not None
    assert engine._claim(other.pk) is not None


@pytest.mark.django_db
def test_a_test_notification_waits_for_nothing():
    merchant = make_merchant("Tester")
    endpoint_for(merchant, "http://127.0.0.1:9/hook", mode="test")
    _events(merchant, "imp_1", "paid")
    delivery, _queued = services.delivery_send_test(actor=SYSTEM, merchant=merchant, mode="test")
    assert delivery.sequence_key == ""


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("first_replies", "first_status"), [
    ([Reply(500, b"boom"), Reply(500, b"boom"), Reply(200, b"ok")], "succeeded"),  # delivered late
    ([Reply(404, b"no")], "failed"),  # given up: the next goes then
])
def test_a_partial_cancel_never_arrives_before_its_paid(receiver, shared_worker, settings, first_replies,
                                                         first_status):
    """The paid webhook fails twice (retried a second later each time); the partial cancel,
    written meanwhile, reaches the receiver only after paid was delivered or given up."""
    settings.WEBHOOK_QUEUE = shared_worker.queue
    path = f"/line-{first_status}"
    merchant = make_merchant(f"In line {first_status}")
    endpoint_for(merchant, receiver.url(path), mode="test")
    # The receiver answers as scripted, then 200 (the last reply repeats).
    receiver.script(path, [*first_replies, Reply(200, b"ok")])
    paid, partial = _events(merchant, "imp_9", "paid", "partial_cancelled")
    for delivery in (paid, partial):
        wait_final(delivery, timeout=40)
    paid.refresh_from_db()
    partial.refresh_from_db()
    assert (paid.status, partial.status) == (first_status, "succeeded")
    received = [json.loads(r.body) for r in receiver.requests if r.path == path]
    of_payment = [body["status"] for body in received if body["imp_uid"] == "imp_9"]
    expected_paid = len(first_replies) if first_status == "succeeded" else 1
    assert of_payment == ["paid"] * expected_paid + ["cancelled"], of_payment
    assert partial.attempts.get().started_at >= paid.attempts.order_by("-number").first().started_at
