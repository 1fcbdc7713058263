"""The delivery engine's rules, without a worker: claiming, schedule, dispatching."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from console.tenancy.audit import Actor
from tests.factories import make_merchant
from webhooks import services
from webhooks.models import Delivery
from webhooks.services import endpoints as endpoint_services
from webhooks.services import engine

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(db):
    merchant = make_merchant("Engine")
    endpoint = services.endpoint_save(actor=Actor(), merchant=merchant, mode="test",
                                      url="http://127.0.0.1:9/h", content_type="json", version="v1")
    return Delivery.objects.create(merchant=merchant, endpoint=endpoint, mode="test", trigger="event",
                                   event="paid", url=endpoint.url, content_type="json", version="v1",
                                   body="{}", next_attempt_at=timezone.now())


def test_only_one_claim_wins(delivery):
    first = engine._claim(delivery.pk)
    assert first is not None
    claimed, token = first
    assert claimed.message_id == delivery.message_id and claimed.body == "{}"
    assert engine._claim(delivery.pk) is None  # another worker finds it taken
    Delivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert engine._claim(delivery.pk) is not None  # an expired lease (dead worker) can be retaken


def test_not_due_and_final_deliveries_are_not_claimed(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert engine._claim(delivery.pk) is None
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now(), status="succeeded")
    assert engine._claim(delivery.pk) is None


def test_retry_schedule_with_jitter_and_retry_after(settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 4, 16, 64, 256]
    settings.WEBHOOK_RETRY_UNIT_SECONDS = 60
    for number, minutes in enumerate([1, 4, 16, 64, 256], start=1):
        for _ in range(20):
            delay = engine._retry_delay(number, None).total_seconds()
            assert minutes * 60 * 0.8 <= delay <= minutes * 60 * 1.2
    assert engine._retry_delay(6, None) is None
    assert engine._retry_delay(1, "120").total_seconds() == 120
    assert engine._retry_delay(1, "999999").total_seconds() == 6 * 3600  # bounded
    assert engine._retry_delay(1, "0").total_seconds() == 1
    http_date = (timezone.now() + timedelta(seconds=300)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 290 <= engine._retry_delay(1, http_date).total_seconds() <= 301
    assert 48 <= engine._retry_delay(1, "soon").total_seconds() <= 72  # unreadable: ignored


def test_dispatch_due_queues_unqueued_and_stale_only(delivery, monkeypatch, settings):
    queued = []
    monkeypatch.setattr(engine, "_enqueue", lambda ids: queued.extend(ids) or True)
    assert services.dispatch_due() == 0  # just created: its own request is queueing it
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=3))
    assert services.dispatch_due() == 1 and queued == [delivery.pk]  # never queued (broker was down)
    queued.clear()
    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=timezone.now())
    assert services.dispatch_due() == 0  # queued a moment ago: the worker will take it
    Delivery.objects.filter(pk=delivery.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS + 5))
    assert services.dispatch_due() == 1  # queued long ago and never taken: queue again
    Delivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now() + timedelta(seconds=30))
    queued.clear()
    assert services.dispatch_due() == 0 and queued == []  # a worker holds it


def test_every_active_secret_signs():
    a, b = endpoint_services._new_secret_value(), endpoint_services._new_secret_value()
    now = datetime.now(UTC)
    header = services.sign(message_id="msg_1", timestamp=now, body='{"x":1}', secret_values=[a, b])
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": header}
    assert Webhook(a).verify('{"x":1}', headers) == {"x": 1}
    assert Webhook(b).verify('{"x":1}', headers) == {"x": 1}
    assert len(header.split(" ")) == 2


def test_v1_status_mapping_for_a_v2_only_event(delivery):
    merchant = delivery.merchant
    services.endpoint_save(actor=Actor(), merchant=merchant, mode="live", url="http://127.0.0.1:9/h",
                           content_type="form", version="v1")
    sent = services.notify_event(merchant=merchant, mode="live", imp_uid="i", merchant_uid="m",
                                 status="partial_cancelled")
    assert sent.body == "imp_uid=i&merchant_uid=m&status=cancelled"
