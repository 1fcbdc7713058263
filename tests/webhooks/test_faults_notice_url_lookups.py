"""Issue 20, item 9: a request that names many ``notice_url``s looks none of them up. Their form
is checked in the request (no lookup: ``webhooks.net.check_url_form``); their host is resolved
when a webhook is sent to it, where the delivery engine refuses a private address.

Every lookup goes through ``socket.getaddrinfo``; the tests count its calls during the request."""

import json
import socket
import time

import pytest

from api_keys.services import api_keys
from channels.models import SharedTestCredential
from console.tenancy.audit import SYSTEM
from payments.domain import billing_keys
from payments.domain.errors import PaymentError
from payments.models import Payment, Schedule
from payments.sandbox import window
from tests.factories import make_merchant
from webhooks.models import Delivery
from webhooks.services import engine

pytestmark = pytest.mark.django_db

_real_getaddrinfo = socket.getaddrinfo
IP = "198.51.100.5"


@pytest.fixture
def lookups(monkeypatch):
    """The names looked up while the test runs; ``answers[name]`` answers one without the
    network (an address for it)."""
    seen, answers = [], {}

    def getaddrinfo(host, port, *args, **kwargs):
        seen.append(host)
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return seen, answers


def _shop(name="Lookups"):
    for provider, module, mid in (("ksnet", "api_subscription", "2999199990"), ("kcp", "window_general", "T0000")):
        SharedTestCredential.objects.get_or_create(provider=provider, module=module, mid=mid,
                                                   defaults={"pg_provider": provider})
    return make_merchant(name)


def _token(client, merchant) -> str:
    issued = api_keys.api_key_create(actor=SYSTEM, merchant=merchant, name="order server")
    response = client.post("/users/getToken", {"imp_key": issued.api_key.key, "imp_secret": issued.secret},
                           REMOTE_ADDR=IP)
    return response.json()["response"]["access_token"]


def test_a_call_of_1000_schedules_naming_5000_notice_urls_looks_none_up(client, lookups):
    merchant = _shop()
    billing_keys.billing_key_issue(merchant=merchant, customer_uid="cust_1", card_number="9410-0000-7000-0000",
                                   expiry="2030-12", birth="900101", pg="ksnet.2999199990")
    token = _token(client, merchant)
    seen, _answers = lookups
    at = int(time.time()) + 3600
    schedules = [{"merchant_uid": f"plan_{i}", "schedule_at": at, "amount": 9900, "name": "Monthly plan",
                  "notice_url": [f"https://hook-{i}-{j}.shop.example/portone" for j in range(5)]}
                 for i in range(1000)]
    response = client.post("/subscribe/payments/schedule", json.dumps({"customer_uid": "cust_1",
                                                                       "schedules": schedules}),
                           content_type="application/json", HTTP_AUTHORIZATION=token, REMOTE_ADDR=IP)
    assert response.status_code == 200, response.content[:300]
    assert seen == []  # 5,000 distinct names, not one looked up in the request
    assert Schedule.objects.filter(merchant=merchant).count() == 1000
    assert Schedule.objects.get(merchant=merchant, merchant_uid="plan_999").notice_urls == [
        f"https://hook-999-{j}.shop.example/portone" for j in range(5)]


def test_the_window_with_5_notice_urls_looks_none_up(client, lookups):
    merchant = _shop()
    seen, _answers = lookups
    urls = [f"https://hook-{j}.shop.example/portone" for j in range(5)]
    response = client.post("/sandbox/pay/", {
        "imp_code": merchant.code, "origin": "http://shop.test:8000", "pg": "kcp.T0000", "merchant_uid": "order_1",
        "amount": "1000", "name": "Blue mug", "notice_url": json.dumps(urls)})
    assert response.status_code == 200, response.content[:300]
    assert seen == []
    assert Payment.objects.get(merchant=merchant, merchant_uid="order_1").notice_urls == urls


@pytest.mark.parametrize("notice_url", ["ftp://hooks.shop.example/", "https://user:pw@hooks.shop.example/",
                                        "https://hooks.shop.example:99999/", "http://10.0.0.5/hook",
                                        "http://2130706433/hook", "https://" + "a" * 2000 + ".example/"])
def test_a_notice_url_of_a_bad_form_is_still_refused_in_the_request(lookups, notice_url):
    merchant = _shop()
    seen, _answers = lookups
    with pytest.raises(PaymentError) as refused:
        window.window_open(merchant_code=merchant.code, tier_code=None, user_agent="pytest", params={
            "pg": "kcp.T0000", "merchant_uid": "order_1", "amount": 1000, "notice_url": notice_url})
    assert refused.value.code == "invalid" and "notice_url" in refused.value.message
    assert seen == [] and not Payment.objects.exists()


def test_a_name_that_resolves_to_a_private_address_is_refused_when_the_webhook_is_sent(lookups):
    """Taken in the request (no lookup there); the send resolves it and refuses 10.0.0.5."""
    merchant = _shop()
    seen, answers = lookups
    answers["intranet.shop.example"] = "10.0.0.5"
    url = "http://intranet.shop.example/hook"
    payment = window.window_open(merchant_code=merchant.code, tier_code=None, user_agent="pytest", params={
        "pg": "kcp.T0000", "merchant_uid": "order_1", "amount": 1000, "notice_url": url})
    assert seen == [] and payment.notice_urls == [url]
    window.window_approve(imp_uid=payment.imp_uid, token=window.window_token(payment))
    delivery = Delivery.objects.get(merchant=merchant, url=url)
    attempt = engine.deliver(delivery.pk)
    assert "intranet.shop.example" in seen
    assert attempt.error_kind == "blocked" and "10.0.0.5" in attempt.error_message
