"""A payment's ``notice_url`` (IMP.request_pay): its webhooks go to those URLs instead of the
merchant's endpoint, as PortOne sends them, signed with the endpoint's secret, in the
payment's transaction (an outbox), and checked again at send time.

Real things: a Celery worker process with beat on the configured broker, a real HTTP receiver
on loopback, the real database."""

import json
import socket

import pytest
from django.urls import reverse
from standardwebhooks import Webhook

from channels.models import SharedTestCredential
from console.models import AuditEvent
from console.tenancy.audit import Actor
from payments.domain import cancels
from payments.domain.errors import PaymentError
from payments.models import Payment
from payments.sandbox import window
from tests.factories import make_member, make_merchant, make_sub_merchant
from tests.hooks import endpoint_for, secret_of, wait_final
from tests.receiver import Receiver, Reply
from webhooks import services
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.services import engine

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def worker(shared_worker):
    return shared_worker  # retries in seconds (hooks.FAST), with beat: see tests/worker.py


@pytest.fixture
def to_worker(settings, worker):
    settings.WEBHOOK_QUEUE = worker.queue
    return worker


def shop(name="Notice Shop"):
    """A merchant with the shared KCP test channel (a transactional test's flush empties the
    seeded credential, so it is made again first)."""
    SharedTestCredential.objects.get_or_create(
        provider="kcp", module="window_general", mid="T0000", defaults={"pg_provider": "kcp"})
    return make_merchant(name)


def open_payment(merchant, notice_url=None, *, merchant_uid="order_1", tier_code=None):
    params = {"pg": "kcp.T0000", "merchant_uid": merchant_uid, "amount": 1000, "name": "Blue mug"}
    if notice_url is not None:
        params["notice_url"] = notice_url
    return window.window_open(merchant_code=merchant.code, tier_code=tier_code, params=params,
                              user_agent="pytest")


def approve(payment) -> Payment:
    return window.window_approve(imp_uid=payment.imp_uid, token=window.window_token(payment))


def verified(request, secret) -> dict:
    """The body, after checking its Standard Webhooks signature with ``secret``."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    return Webhook(secret).verify(request.body, headers)  # raises if the signature is wrong


def of_payment(payment):
    return Delivery.objects.filter(body__contains=payment.imp_uid).order_by("id")


# --------------------------------------------------------------- sent to the notice_url


def test_a_notice_url_gets_the_signed_webhooks_instead_of_the_endpoint(to_worker, receiver):
    merchant = shop()
    endpoint = endpoint_for(merchant, receiver.url("/one-endpoint"))
    payment = open_payment(merchant, receiver.url("/one-notice"))
    assert payment.notice_urls == [receiver.url("/one-notice")]

    approve(payment)
    paid = receiver.wait_for(1, "/one-notice")[0]
    assert verified(paid, secret_of(endpoint)) == {
        "imp_uid": payment.imp_uid, "merchant_uid": "order_1", "status": "paid"}

    cancels.payment_cancel(actor=Actor(), payment=payment)  # the cancel goes there too
    cancelled = receiver.wait_for(2, "/one-notice")[1]
    body = verified(cancelled, secret_of(endpoint))
    assert (body["imp_uid"], body["status"]) == (payment.imp_uid, "cancelled")
    assert body["cancellation_id"] == payment.cancellations.get().cancellation_id

    deliveries = [wait_final(d) for d in of_payment(payment)]
    assert [(d.url, d.to_notice_url, d.status) for d in deliveries] == [
        (receiver.url("/one-notice"), True, "succeeded")] * 2
    assert {paid.headers["webhook-id"], cancelled.headers["webhook-id"]} == {d.message_id for d in deliveries}
    assert not [r for r in receiver.requests if r.path == "/one-endpoint"]


def test_each_of_two_notice_urls_gets_its_own_signed_delivery(to_worker, receiver):
    merchant = shop()
    endpoint = endpoint_for(merchant, receiver.url("/two-endpoint"), version="v2")
    urls = [receiver.url("/two-a"), receiver.url("/two-b")]
    payment = open_payment(merchant, urls)
    approve(payment)
    first = receiver.wait_for(1, "/two-a")[0]
    second = receiver.wait_for(1, "/two-b")[0]
    for request in (first, second):  # the endpoint's payload version (V2) and secret
        body = verified(request, secret_of(endpoint))
        assert body["type"] == "Transaction.Paid" and body["data"]["paymentId"] == "order_1"
    assert first.body == second.body and first.headers["webhook-id"] != second.headers["webhook-id"]
    assert sorted(d.url for d in of_payment(payment)) == urls
    assert all(wait_final(d).status == "succeeded" for d in of_payment(payment))
    assert not [r for r in receiver.requests if r.path == "/two-endpoint"]


def test_without_a_notice_url_the_endpoint_gets_it_as_before(to_worker, receiver):
    merchant = shop()
    endpoint = endpoint_for(merchant, receiver.url("/plain-endpoint"))
    payment = approve(open_payment(merchant))
    request = receiver.wait_for(1, "/plain-endpoint")[0]
    assert verified(request, secret_of(endpoint))["imp_uid"] == payment.imp_uid
    delivery = wait_final(of_payment(payment).get())
    assert (delivery.url, delivery.to_notice_url, delivery.status) == (endpoint.url, False, "succeeded")


def test_a_merchant_without_an_endpoint_gets_a_secret_that_signs_its_notice_urls(to_worker, receiver):
    agency = shop("No Endpoint Agency")
    sub = make_sub_merchant(agency, "SEL")  # uses its agency's webhook: the agency's secret signs
    payment = approve(open_payment(agency, receiver.url("/bare-notice"), tier_code="SEL"))
    assert payment.merchant == sub
    endpoint = WebhookEndpoint.objects.get(merchant=agency, mode="test")
    assert endpoint.url == "" and endpoint.enabled and endpoint.secrets.count() == 1
    request = receiver.wait_for(1, "/bare-notice")[0]
    assert verified(request, secret_of(endpoint))["imp_uid"] == payment.imp_uid
    assert request.headers["Content-Type"] == "application/json"
    made = AuditEvent.objects.get(merchant=agency, action="webhook_endpoint.update")
    assert made.actor is None  # the system made it
    assert not WebhookEndpoint.objects.filter(merchant=sub).exists()


def test_a_disabled_endpoint_does_not_stop_a_notice_url_and_its_410_leaves_the_endpoint_alone(
        to_worker, receiver):
    merchant = shop()
    endpoint = services.endpoint_save(actor=Actor(), merchant=merchant, mode="test",
                                      url=receiver.url("/off-endpoint"), content_type="json",
                                      version="v1", enabled=False)
    approve(open_payment(merchant, merchant_uid="no_notice"))  # the endpoint's own: not sent
    assert not Delivery.objects.filter(merchant=merchant).exists()

    receiver.script("/off-notice", [Reply(410, b"gone")])
    payment = approve(open_payment(merchant, receiver.url("/off-notice")))
    receiver.wait_for(1, "/off-notice")
    delivery = wait_final(of_payment(payment).get())
    assert delivery.status == "failed" and delivery.attempt_count == 1  # a 4xx is not retried
    endpoint.enabled = True
    endpoint.save(update_fields=["enabled"])
    payment = approve(open_payment(merchant, receiver.url("/off-notice"), merchant_uid="order_2"))
    wait_final(of_payment(payment).get())
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.disabled_reason == ""  # a notice_url is not the endpoint
    assert not AuditEvent.objects.filter(action="webhook_endpoint.disabled_gone").exists()
    assert not [r for r in receiver.requests if r.path == "/off-endpoint"]


def test_resend_goes_to_the_same_notice_url(to_worker, receiver):
    merchant = shop()
    endpoint_for(merchant, receiver.url("/again-endpoint"))
    payment = approve(open_payment(merchant, receiver.url("/again-notice")))
    delivery = wait_final(of_payment(payment).get())
    services.delivery_resend(actor=Actor(), delivery=delivery)
    first, second = receiver.wait_for(2, "/again-notice")[:2]
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.body == second.body
    assert wait_final(delivery).attempt_count == 2
    assert not [r for r in receiver.requests if r.path == "/again-endpoint"]


# ------------------------------------------------------------------------------ outbox


def test_a_payment_change_that_rolls_back_leaves_no_delivery(receiver, monkeypatch):
    """Something fails after the delivery rows were written, in the same transaction: the
    payment stays ready, no delivery is left, nothing reaches the broker or the receiver."""
    from webhooks.services import deliveries

    merchant = shop()
    payment = open_payment(merchant, [receiver.url("/rolled-a"), receiver.url("/rolled-b")])
    written, queued = [], []

    def failing_audit(**fields):
        written.extend(Delivery.objects.filter(body__contains=payment.imp_uid).values_list("pk", flat=True))
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(deliveries, "audit_record", failing_audit)
    monkeypatch.setattr(deliveries, "_enqueue", queued.append)
    with pytest.raises(RuntimeError):
        approve(payment)
    assert len(written) == 2  # they were written, then rolled back with the payment
    payment.refresh_from_db()
    assert payment.status == "ready"
    assert not Delivery.objects.exists() and queued == []
    assert not [r for r in receiver.requests if r.path.startswith("/rolled-")]


def test_recorded_while_the_broker_is_down_it_is_sent_by_dispatch_due(to_worker, receiver, monkeypatch,
                                                                     caplog):
    from config.celery_app import app

    merchant = shop()
    endpoint = endpoint_for(merchant, receiver.url("/offline-endpoint"))
    payment = open_payment(merchant, receiver.url("/offline-notice"))
    real = app.conf.broker_url
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    app._pool = None
    app.amqp._producer_pool = None
    try:
        approve(payment)
    finally:
        monkeypatch.setattr(app.conf, "broker_url", real)
        app._pool = None
        app.amqp._producer_pool = None
    assert "broker unavailable, 1 deliveries stay queued" in caplog.text  # refused after the commit
    delivery = of_payment(payment).get()
    assert delivery.to_notice_url  # committed with the payment all the same
    # The worker's beat runs dispatch_due: the saved delivery goes out to the notice_url.
    request = receiver.wait_for(1, "/offline-notice", timeout=30)[0]
    assert verified(request, secret_of(endpoint))["imp_uid"] == payment.imp_uid
    assert wait_final(delivery).status == "succeeded"
    assert len([r for r in receiver.requests if r.path == "/offline-notice"]) == 1
    assert not [r for r in receiver.requests if r.path == "/offline-endpoint"]


# --------------------------------------------------------------------- the URL's safety


@pytest.fixture
def dns(monkeypatch):
    """Names resolved as the test says (``dns["name"] = "10.0.0.5"``), the rest as usual."""
    answers = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.django_db  # not transactional: nothing is committed, so nothing reaches a broker
def test_a_notice_url_that_now_resolves_to_a_private_address_is_refused_at_send_time(receiver, dns):
    """Checked when the window opened (loopback is open in the test settings), then its name
    points at 10.0.0.5 (DNS rebinding): the send is refused, not made."""
    merchant = shop()
    dns["hooks.shop.example"] = "127.0.0.1"
    url = f"http://hooks.shop.example:{receiver.port}/rebound"
    payment = approve(open_payment(merchant, url))
    delivery = of_payment(payment).get()
    assert (delivery.url, delivery.to_notice_url) == (url, True)

    dns["hooks.shop.example"] = "10.0.0.5"
    attempt = engine.deliver(delivery.pk)
    assert attempt.error_kind == "blocked" and "10.0.0.5" in attempt.error_message
    assert not [r for r in receiver.requests if r.path == "/rebound"]


@pytest.mark.django_db
def test_a_private_notice_url_fails_the_window():
    """Refused by its form alone (a private address written in it, credentials, six URLs); a
    name that resolves to a private address is refused when a webhook is sent to it (above)."""
    merchant = shop()
    for notice_url in ("http://10.0.0.5/hook", "http://user:pw@shop.example/hook", ["https://a.test/"] * 6):
        with pytest.raises(PaymentError) as refused:
            open_payment(merchant, notice_url)
        assert refused.value.code == "invalid" and "notice_url" in refused.value.message
    assert not Payment.objects.exists()


def test_opening_the_window_looks_no_notice_url_up_and_keeps_each_once(monkeypatch):
    """No network call in the request, let alone in its transaction: notice_url's host is
    resolved when a webhook is sent to it (tests/webhooks/test_faults_notice_url_lookups.py counts)."""
    merchant = shop()
    looked_up = []

    def getaddrinfo(host, port, *args, **kwargs):
        looked_up.append(host)
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    payment = open_payment(merchant, ["http://slow.shop.example:9/a", "http://slow.shop.example:9/a",
                                      "http://slow.shop.example:9/b"])
    assert looked_up == []
    assert payment.notice_urls == ["http://slow.shop.example:9/a", "http://slow.shop.example:9/b"]


# --------------------------------------------------------------------------- the pages


@pytest.mark.django_db  # not transactional: the deliveries stay pending, nothing is queued
def test_the_payment_page_and_the_delivery_log_show_where_each_delivery_went(client):
    merchant = shop()
    client.force_login(make_member(merchant, "owner"))
    endpoint_for(merchant, "http://127.0.0.1:9/endpoint")
    urls = ["http://127.0.0.1:9/notice-a", "http://127.0.0.1:9/notice-b"]
    payment = approve(open_payment(merchant, urls))
    deliveries = list(of_payment(payment))
    assert len(deliveries) == 2

    detail = client.get(reverse("payment_activity:detail", kwargs={
        "merchant_code": merchant.code, "imp_uid": payment.imp_uid})).content.decode()
    log = client.get(reverse("webhooks:deliveries", kwargs={"merchant_code": merchant.code})).content.decode()
    for html in (detail, log):
        for delivery in deliveries:
            assert delivery.message_id in html and delivery.url in html
        assert "http://127.0.0.1:9/endpoint" not in html
    one = client.get(reverse("webhooks:delivery", kwargs={
        "merchant_code": merchant.code, "message_id": deliveries[0].message_id})).content.decode()
    assert "<code>notice_url</code>" in one and urls[0] in one
    assert json.loads(deliveries[0].body)["imp_uid"] == payment.imp_uid
