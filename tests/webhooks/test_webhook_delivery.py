"""Webhook delivery against real things: a Celery worker process on the configured broker
(Redis in CI), a real HTTP receiver on loopback, the real database."""

import json
import time
from urllib.parse import parse_qs

import pytest
from standardwebhooks import Webhook

from console.tenancy.audit import Actor
from tests.factories import make_merchant, make_sub_merchant
from tests.hooks import endpoint_for, secret_of, wait_final
from tests.receiver import Receiver, Reply
from webhooks import services
from webhooks.models import Delivery

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]



@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def worker(shared_worker):
    return shared_worker  # retries in seconds (hooks.FAST), with beat: see tests/worker.py


@pytest.fixture(autouse=True)
def _route_to_worker(settings, worker):
    settings.WEBHOOK_QUEUE = worker.queue
    settings.WEBHOOK_RETRY_UNIT_SECONDS = 1
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 1, 1, 1, 1]
    settings.WEBHOOK_LEASE_SECONDS = 4


@pytest.mark.parametrize(("version", "content_type"), [("v1", "json"), ("v1", "form"), ("v2", "json")])
def test_signed_test_notification_reaches_the_receiver(receiver, version, content_type):
    merchant = make_merchant("Signer")
    path = f"/signed-{version}-{content_type}"
    receiver.script(path, [Reply(200, b'{"received": true}', {"Content-Type": "application/json"})])
    endpoint = endpoint_for(merchant, receiver.url(path), version=version, content_type=content_type)

    delivery, enqueued = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
    assert enqueued
    request = receiver.wait_for(1, path)[0]
    delivery = wait_final(delivery)
    assert delivery.status == "succeeded" and delivery.attempt_count == 1

    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["webhook-id"] == delivery.message_id
    assert headers["user-agent"].startswith("PG-Console-Webhooks/")
    hook = Webhook(secret_of(endpoint))
    if content_type == "json":
        payload = hook.verify(request.body, headers)  # raises if the signature is wrong
        assert headers["content-type"] == "application/json"
    else:
        # standardwebhooks parses JSON after checking; check the same signature for a form body.
        stamp = time.gmtime(int(headers["webhook-timestamp"]))
        from datetime import UTC, datetime
        expected = hook.sign(headers["webhook-id"], datetime(*stamp[:6], tzinfo=UTC), request.body.decode())
        assert expected in headers["webhook-signature"].split(" ")
        assert headers["content-type"] == "application/x-www-form-urlencoded"
        payload = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
    if version == "v1":
        assert payload["status"] == "paid"
        assert payload["imp_uid"].startswith("imp_test_") and payload["merchant_uid"].startswith("test_")
    else:
        assert payload["type"] == "Transaction.Paid"
        assert payload["data"]["storeId"] == merchant.code
        assert payload["timestamp"].endswith("Z")

    attempt = delivery.attempts.get()
    assert attempt.response_status == 200 and attempt.response_body == '{"received": true}'
    assert attempt.request_body == request.body.decode()
    assert attempt.request_headers["webhook-id"] == delivery.message_id
    assert attempt.duration_ms >= 0 and attempt.error_kind == ""


def test_500_then_200_is_retried_with_the_same_webhook_id(receiver):
    merchant = make_merchant("Retrier")
    receiver.script("/flaky", [Reply(500, b"boom"), Reply(200, b"ok")])
    endpoint_for(merchant, receiver.url("/flaky"), mode="live")
    delivery = services.notify_event(merchant=merchant, mode="live", imp_uid="imp_1", merchant_uid="o_1",
                                     status="paid")
    first, second = receiver.wait_for(2, "/flaky", timeout=40)[:2]
    delivery = wait_final(delivery)
    assert delivery.status == "succeeded"
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    attempts = list(delivery.attempts.order_by("number"))
    assert [(a.number, a.response_status, a.error_kind) for a in attempts] == [
        (1, 500, "http_status"), (2, 200, "")]
    assert "500" in attempts[0].error_message


@pytest.mark.parametrize(
    ("path", "reply", "kind"),
    [("/hang", Reply(200, b"late", delay=4), "timeout"),
     ("/redirect", Reply(302, b"", {"Location": "http://127.0.0.1:9/elsewhere"}), "redirect"),
     ("/gone-test", Reply(404, b"nope"), "http_status")],
)
def test_failures_are_recorded_in_plain_words(receiver, path, reply, kind):
    merchant = make_merchant("Failer")
    receiver.script(path, [reply])
    endpoint_for(merchant, receiver.url(path))
    delivery, _ = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
    delivery = wait_final(delivery)
    attempt = delivery.attempts.get()
    assert delivery.status == "failed" and attempt.error_kind == kind, attempt.error_message
    assert attempt.error_message
    assert len(receiver.wait_for(1, path)) == 1  # a test makes one attempt; a redirect is not followed
    if kind == "redirect":
        assert "302" in attempt.error_message
        assert not [r for r in receiver.requests if r.path == "/elsewhere"]


def test_a_5mb_answer_is_capped(receiver):
    merchant = make_merchant("Big")
    receiver.script("/big", [Reply(200, b"x" * (5 * 1024 * 1024))])
    endpoint_for(merchant, receiver.url("/big"))
    delivery, _ = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
    attempt = wait_final(delivery).attempts.get()
    assert attempt.response_status == 200
    assert len(attempt.response_body) == 64 * 1024 and attempt.response_truncated


def test_connection_refused(receiver):
    import socket

    merchant = make_merchant("Refused")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint_for(merchant, f"http://127.0.0.1:{port}/hook")
    delivery, _ = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
    attempt = wait_final(delivery).attempts.get()
    assert attempt.error_kind == "refused" and attempt.response_status is None


def test_410_disables_the_endpoint_with_an_audit_event(receiver):
    from console.models import AuditEvent

    merchant = make_merchant("Gone")
    receiver.script("/gone", [Reply(410, b"gone")])
    endpoint = endpoint_for(merchant, receiver.url("/gone"), mode="live")
    delivery = services.notify_event(merchant=merchant, mode="live", imp_uid="imp_2", merchant_uid="o_2",
                                     status="paid")
    delivery = wait_final(delivery)
    assert delivery.status == "failed" and delivery.attempt_count == 1  # 4xx is not retried
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert AuditEvent.objects.filter(action="webhook_endpoint.disabled_gone", merchant=merchant).exists()
    # later events are not sent to a disabled endpoint
    assert services.notify_event(merchant=merchant, mode="live", imp_uid="imp_3", merchant_uid="o_3",
                                 status="paid") is None


def test_sub_merchant_events_go_to_its_own_endpoint_when_set(receiver):
    agency = make_merchant("Agency")
    sub = make_sub_merchant(agency, "S01")
    endpoint_for(agency, receiver.url("/agency"), mode="live")
    delivery = services.notify_event(merchant=sub, mode="live", imp_uid="i", merchant_uid="m", status="paid")
    assert delivery.endpoint.merchant == agency
    services.sub_merchant_set_own_webhook(actor=Actor(), merchant=sub, use_own=True)
    sub.refresh_from_db()
    endpoint_for(sub, receiver.url("/sub-own"), mode="live")
    delivery = services.notify_event(merchant=sub, mode="live", imp_uid="i2", merchant_uid="m2",
                                     status="cancelled", cancellation_id="c_1")
    body = json.loads(receiver.wait_for(1, "/sub-own")[0].body)
    assert body == {"imp_uid": "i2", "merchant_uid": "m2", "status": "cancelled", "cancellation_id": "c_1"}
    assert wait_final(delivery).status == "succeeded"


def test_resend_keeps_the_webhook_id(receiver):
    merchant = make_merchant("Resender")
    receiver.script("/resend", [Reply(200, b"ok")])
    endpoint_for(merchant, receiver.url("/resend"))
    delivery, _ = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
    wait_final(delivery)
    services.delivery_resend(actor=Actor(), delivery=delivery)
    first, second = receiver.wait_for(2, "/resend")[:2]
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.body == second.body
    delivery = wait_final(delivery)
    assert delivery.attempt_count == 2 and delivery.status == "succeeded"


def test_rotation_signs_with_both_secrets(receiver):
    merchant = make_merchant("Rotator")
    receiver.script("/rotate", [Reply(200, b"ok")])
    endpoint = endpoint_for(merchant, receiver.url("/rotate"))
    old = secret_of(endpoint)
    services.secret_rotate(actor=Actor(), endpoint=endpoint)
    new = secret_of(endpoint)
    assert old != new
    services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
    request = receiver.wait_for(1, "/rotate")[0]
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, headers)
    Webhook(new).verify(request.body, headers)


def test_broker_down_keeps_the_delivery_and_the_periodic_job_sends_it(receiver, monkeypatch):
    from config.celery_app import app

    merchant = make_merchant("Offline")
    receiver.script("/offline", [Reply(200, b"ok")])
    endpoint_for(merchant, receiver.url("/offline"))
    real = app.conf.broker_url
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    app._pool = None
    app.amqp._producer_pool = None
    try:
        delivery, enqueued = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
    finally:
        monkeypatch.setattr(app.conf, "broker_url", real)
        app._pool = None
        app.amqp._producer_pool = None
    assert enqueued is False  # the broker refused it, yet the delivery row was committed
    assert Delivery.objects.filter(pk=delivery.pk).exists()
    # The worker's beat runs dispatch_due: the saved delivery goes out once the broker is back.
    receiver.wait_for(1, "/offline", timeout=30)
    assert wait_final(delivery).status == "succeeded"
    assert len([r for r in receiver.requests if r.path == "/offline"]) == 1
