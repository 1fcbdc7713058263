"""Issue 20, item 12: text the database cannot store (a NUL, which PostgreSQL refuses; half of a
surrogate pair, which no UTF-8 column or answer holds) is refused with a 400 in the door's own
words, wherever the request carries it: the public payment window (i'mport's ``F400`` to the
shop), the REST API's bodies, queries and headers (its envelope), and the console's paths,
queries, forms and cookies (the 400 page). Nothing is saved.

A NUL ended in a 500 on PostgreSQL only, a lone surrogate on both databases; the tests run on
whichever ``DATABASE_URL`` names (CI runs them on both)."""

import json
import re
import time
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from api_keys.services import api_keys
from channels.models import Channel, SharedTestCredential
from console.models import ApiKey
from console.tenancy.audit import SYSTEM
from console.tenancy.inputs import unstorable_field
from payments.domain import billing_keys
from payments.models import Payment, Schedule
from tests.factories import make_channel, make_member, make_merchant, make_sub_merchant
from tests.receiver import Receiver, Reply
from webhooks.models import Delivery
from webhooks.services import endpoint_save, engine

pytestmark = pytest.mark.django_db

IP = "198.51.100.5"
SHOP = "http://shop.test:8000"
NUL = "a\x00b"
APPROVE = "9410-0000-7000-0000"


def test_unstorable_field_names_where_it_is():
    assert unstorable_field({"a": "ok", "schedules": [{"x": 1}, {"custom_data": NUL}]}) == "schedules[1].custom_data"
    assert unstorable_field({"a": ["ok", "\ud800"]}) == "a[1]"
    assert unstorable_field({"k\x00": "v"}) == "k\ufffd"
    assert unstorable_field({"a": "ok", "b": [1, None, {"c": "한글 ✓"}]}) is None


@pytest.fixture
def shop():
    for provider, module, mid in (("kcp", "window_general", "T0000"), ("nice", "api_keyin", "iamport01m"),
                                  ("ksnet", "api_subscription", "2999199990")):
        SharedTestCredential.objects.get_or_create(provider=provider, module=module, mid=mid,
                                                   defaults={"pg_provider": provider})
    merchant = make_merchant("Unstorable")
    make_sub_merchant(merchant, "A01")
    return merchant


# --- the payment window (no login) ----------------------------------------------------------


def _rsp(response) -> dict | None:
    found = re.search(r'<script id="pgconsole-message" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    return json.loads(found.group(1))["data"]["rsp"] if found else None


@pytest.mark.parametrize("field", ["custom_data", "tier", "imp_code", "merchant_uid", "name", "notice_url"])
def test_the_window_refuses_a_nul_as_a_bad_request_pay(client, shop, field):
    data = {"imp_code": shop.code, "origin": SHOP, "pg": "kcp.T0000", "merchant_uid": "order_1", "amount": "1000",
            "name": "Blue mug", field: NUL}
    for response in (client.generic("POST", "/sandbox/pay/", urlencode(data),  # the SDK's form
                                    content_type="application/x-www-form-urlencoded"),
                     client.post("/sandbox/pay/", data)):  # multipart
        assert response.status_code == 400, response.content[:300]
        rsp = _rsp(response)  # the shop's callback hears of it, as of any bad request_pay
        assert rsp["success"] is False and rsp["error_code"] == "F400" and field in rsp["error_msg"]
    assert not Payment.objects.exists()


def test_the_window_refuses_a_lone_surrogate_in_a_notice_url_list(client, shop):
    response = client.post("/sandbox/pay/", {"imp_code": shop.code, "origin": SHOP, "pg": "kcp.T0000",
                                             "merchant_uid": "order_1", "amount": "1000",
                                             "notice_url": '["https://a.test/\\ud800"]'})
    assert response.status_code == 400 and _rsp(response)["error_code"] == "F400"
    assert not Payment.objects.exists()


def test_the_window_refuses_a_nul_in_its_query_or_user_agent(client, shop):
    data = {"imp_code": shop.code, "origin": SHOP, "pg": "kcp.T0000", "merchant_uid": "order_1", "amount": "1000"}
    by_agent = client.post("/sandbox/pay/", data, HTTP_USER_AGENT="Mozilla\x00")
    assert by_agent.status_code == 400 and "User-Agent" in _rsp(by_agent)["error_msg"]
    by_query = client.post("/sandbox/pay/?x=%00", data)
    assert by_query.status_code == 400 and _rsp(by_query)["error_code"] == "F400"
    assert not Payment.objects.exists()


def test_a_window_button_refuses_a_nul(client, shop):
    for data in ({"token": NUL, "action": "approve"}, {"token": "t", "action": NUL}, {"origin": NUL}):
        response = client.post("/sandbox/pay/imp_123456789012/", data)
        assert response.status_code == 400
    assert client.post("/sandbox/pay/imp_1%00/", {"action": "approve"}).status_code == 400


# --- the REST API ---------------------------------------------------------------------------


@pytest.fixture
def api(client, shop):
    billing_keys.billing_key_issue(merchant=shop, customer_uid="cust_1", card_number=APPROVE, expiry="2030-12",
                                   birth="900101", pg="ksnet.2999199990")
    issued = api_keys.api_key_create(actor=SYSTEM, merchant=shop, name="order server")
    token = client.post("/users/getToken", {"imp_key": issued.api_key.key, "imp_secret": issued.secret},
                        REMOTE_ADDR=IP).json()["response"]["access_token"]

    def call(method, path, body=None, *, form=False, **headers):
        if form:
            return getattr(client, method)(path, body, HTTP_AUTHORIZATION=token, REMOTE_ADDR=IP, **headers)
        return client.generic(method.upper(), path, body if isinstance(body, str) else json.dumps(body or {}),
                              content_type="application/json", HTTP_AUTHORIZATION=token, REMOTE_ADDR=IP,
                              **headers)
    return call


def _refused(response, *words):
    # A 400 where the operation documents one, else i'mport's refusal: HTTP 200, code -1.
    assert response.status_code in (200, 400), (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] != 0 and body["response"] is None
    for word in words:
        assert word in body["message"], body["message"]


def _bodies():
    at = int(time.time()) + 3600
    return {
        "/subscribe/payments/onetime": {"merchant_uid": "keyin_1", "amount": 1000, "card_number": APPROVE,
                                        "expiry": "2030-12", "birth": "900101", "pg": "nice", "name": "Blue mug"},
        "/subscribe/payments/again": {"customer_uid": "cust_1", "merchant_uid": "again_1", "amount": 1000,
                                      "name": "Blue mug"},
        "/subscribe/payments/schedule": {"customer_uid": "cust_1", "schedules": [
            {"merchant_uid": "plan_1", "schedule_at": at, "amount": 1000, "name": "Monthly plan"}]},
        "/vbanks": {"merchant_uid": "vbank_1", "amount": 1000, "vbank_code": "004", "vbank_due": at, "pg": "nice"},
    }


@pytest.mark.parametrize("path", list(_bodies()))
@pytest.mark.parametrize("text", [NUL, "\ud800"], ids=["nul", "surrogate"])
def test_custom_data_that_cannot_be_stored_is_a_400(api, shop, path, text):
    body = _bodies()[path]
    target = body["schedules"][0] if "schedules" in body else body
    target["custom_data"] = text
    _refused(api("post", path, body), "custom_data")
    assert not Payment.objects.filter(merchant=shop).exclude(customer_uid="cust_1", amount=0).exists()
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("path", ["/subscribe/payments/onetime", "/subscribe/payments/again", "/vbanks"])
def test_a_nul_in_a_form_body_is_a_400(api, shop, path):
    _refused(api("post", path, {**_bodies()[path], "custom_data": NUL}, form=True), "custom_data")
    assert not Payment.objects.filter(merchant=shop, merchant_uid__in=["keyin_1", "again_1", "vbank_1"]).exists()


def test_a_lone_surrogate_anywhere_in_a_json_body_is_a_400(api, shop):
    """Written as JSON escapes, as a client would send them. A field the API does not read is
    ignored whatever it holds, as any unknown field (the description allows them)."""
    for raw in ('{"merchant_uid": "order_1", "amount": 1000, "currency": "\\ud800"}',
                '{"merchant_uid": "order_1\\ud800", "amount": 1000}'):
        _refused(api("post", "/payments/prepare", raw))
    _refused(api("post", "/subscribe/payments/unschedule", '{"customer_uid": "cust_1", "merchant_uid": ["\\ud800"]}'))
    _refused(api("post", "/subscribe/payments/schedule", '{"customer_uid": "cust_1", "schedules": [{"merchant_uid": '
                                                         '"plan_1", "schedule_at": 1, "amount": 1, "name": "\\udfff"}]}'))
    ignored = api("post", "/payments/prepare", '{"merchant_uid": "order_1", "amount": 1000, "\\udfff\\u0000": 1}')
    assert ignored.status_code == 200 and ignored.json()["response"]["merchant_uid"] == "order_1"


def test_a_nul_in_the_apis_path_query_or_headers_is_a_400_in_the_envelope(api, shop):
    _refused(api("get", "/payments/status/all?page=1&sorting=%00"), "sorting")
    _refused(api("get", "/subscribe/customers/cust%00_1"), "path")
    _refused(api("get", "/users/pg", HTTP_TIER="A0\x00"), "Tier")
    _refused(api("get", "/vbanks/x%00/y"))  # no endpoint: the API's 404 view
    assert api("get", "/users/pg", HTTP_TIER="A01").status_code == 200


# --- the console ----------------------------------------------------------------------------


@pytest.fixture
def owner_client(client, shop):
    client.force_login(make_member(shop, "owner"))
    return client


def _page_refused(response):
    assert response.status_code == 400
    assert "cannot be stored" in response.content.decode()


def test_the_console_refuses_a_nul_in_a_path_or_a_query(owner_client, shop):
    channel = make_channel(shop, mode="test")
    code = shop.code
    for url in (f"/m/{code}/channels/?q=%00", f"/m/{code}/payments/imp_1%00/", "/m/imp%00/",
                f"/m/{code}/channels/{channel.channel_key}%00/edit/", f"/m/{code}/webhooks/deliveries/a%00/",
                f"/m/{code}/payments/?q=x%00"):
        _page_refused(owner_client.get(url))


def test_the_console_refuses_a_nul_in_a_form_and_saves_nothing(owner_client, shop):
    channel = make_channel(shop, mode="test")
    code = {"merchant_code": shop.code}
    _page_refused(owner_client.post(reverse("console:api_keys", kwargs=code), {"name": NUL}))
    assert not ApiKey.objects.filter(merchant=shop).exists()
    _page_refused(owner_client.post(reverse("channels:assign", kwargs={**code, "channel_key": channel.channel_key}),
                                    {"assigned_to": "A0\x00"}))
    assert Channel.objects.get(pk=channel.pk).assigned_to is None


def test_a_nul_in_the_session_cookie_is_refused_before_the_session_is_read(client, shop):
    client.cookies[settings.SESSION_COOKIE_NAME] = "abcdefghijk\x00lmn"
    _page_refused(client.get("/"))
    _page_refused(client.get(f"/m/{shop.code}/"))
    _page_refused(client.get("/no/such/page/"))


# --- what a webhook receiver answers ----------------------------------------------------------


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.mark.parametrize("reply", [Reply(200, b"ok\x00"), Reply(200, b"ok", headers={"X-Trace": "a\x00b"}),
                                   Reply(302, b"", headers={"Location": "http://shop.test/\x00"})],
                         ids=["body", "header", "location"])
def test_a_receivers_answer_with_a_nul_is_recorded_with_it_replaced(receiver, reply):
    """The receiver's answer is recorded, not refused: the attempt keeps it, the NUL replaced
    (PostgreSQL refused the row, so the attempt was never recorded and the send repeated)."""
    receiver.script("/hook", [reply])
    merchant = make_merchant("Answers")
    endpoint = endpoint_save(actor=SYSTEM, merchant=merchant, mode="test", url=f"http://127.0.0.1:{receiver.port}/hook",
                             content_type="json", version="v1")
    delivery = Delivery.objects.create(merchant=merchant, endpoint=endpoint, mode="test", trigger="event",
                                       event="paid", url=endpoint.url, content_type="json", version="v1", body="{}",
                                       next_attempt_at=timezone.now())
    attempt = engine.deliver(delivery.pk)
    assert attempt is not None and attempt.response_status == reply.status
    kept = json.dumps([attempt.response_body, attempt.response_headers, attempt.error_message], ensure_ascii=False)
    assert "\ufffd" in kept and "\\u0000" not in kept  # JSON writes a NUL as \u0000
