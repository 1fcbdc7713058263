"""Issue 20, item 11: every number read from text is ASCII digits (``console.tenancy.inputs``).
``str.isdigit()`` is true of ``²`` and ``٣``; ``int("²")`` then raised (a 500) and ``int("٣")``
read 3. A number too large for a date (``vbank_due=999999999999``, the year 33658) is refused
before it is made a date. Each a 400 in i'mport's envelope over the REST API, never a 500."""

import json
import time

import pytest
from django.urls import reverse

from api_keys.services import api_keys
from channels.models import SharedTestCredential
from console.tenancy import cidr
from console.tenancy.audit import SYSTEM
from console.tenancy.inputs import ascii_digits, ascii_int
from payments.domain import billing_keys, inputs, schedules
from payments.domain.errors import PaymentError
from payments.models import Payment, PaymentCancellation, Schedule
from tests.factories import make_member, make_merchant
from webhooks.services.engine import _parse_retry_after

pytestmark = pytest.mark.django_db

IP = "198.51.100.5"
APPROVE = "9410-0000-7000-0000"
NOT_ASCII = ["²", "٣", "１２", "12²", "٣٠"]  # superscript, Arabic-Indic, fullwidth


def test_ascii_int_reads_ascii_digits_only():
    assert ascii_int("0012", max_digits=4) == 12 and ascii_digits("0123456789")
    for text in [*NOT_ASCII, "", " 1", "1 ", "-1", "+1", "1.0", "12345"]:
        assert ascii_int(text, max_digits=4) is None, text
    assert not ascii_digits("٣") and not ascii_digits("")


@pytest.fixture
def shop():
    for provider, module, mid in (("nice", "api_keyin", "iamport01m"), ("ksnet", "api_subscription", "2999199990")):
        SharedTestCredential.objects.get_or_create(provider=provider, module=module, mid=mid,
                                                   defaults={"pg_provider": provider})
    merchant = make_merchant("Numbers")
    billing_keys.billing_key_issue(merchant=merchant, customer_uid="cust_1", card_number=APPROVE, expiry="2030-12",
                                   birth="900101", pg="ksnet.2999199990")
    return merchant


@pytest.fixture
def api(client, shop):
    issued = api_keys.api_key_create(actor=SYSTEM, merchant=shop, name="order server")
    token = client.post("/users/getToken", {"imp_key": issued.api_key.key, "imp_secret": issued.secret},
                        REMOTE_ADDR=IP).json()["response"]["access_token"]

    def call(method, path, body=None):
        return getattr(client, method)(path, json.dumps(body) if body is not None else None,
                                       content_type="application/json", HTTP_AUTHORIZATION=token, REMOTE_ADDR=IP)
    return call


def _refused(response, *words):
    # A 400 where the operation documents one, else i'mport's refusal: HTTP 200, code -1.
    assert response.status_code in (200, 400), (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] != 0 and body["response"] is None
    for word in words:
        assert word in body["message"], body["message"]


def _in(seconds=3600) -> int:
    return int(time.time()) + seconds


@pytest.mark.parametrize("due", [999999999999, "999999999999", 10**11, *NOT_ASCII])
def test_vbank_due_too_large_or_not_ascii_is_a_400(api, shop, due):
    _refused(api("post", "/vbanks", {"merchant_uid": "vbank_1", "amount": 1000, "vbank_code": "004",
                                     "vbank_due": due, "pg": "nice"}), "vbank_due")
    assert not Payment.objects.filter(merchant=shop).exists()


def test_vbank_due_too_large_is_a_400_when_it_changes_too(api, shop):
    issued = api("post", "/vbanks", {"merchant_uid": "vbank_1", "amount": 1000, "vbank_code": "004",
                                     "vbank_due": _in(), "pg": "nice"})
    assert issued.status_code == 200, issued.content
    imp_uid = issued.json()["response"]["imp_uid"]
    for due in (999999999999, "²"):
        _refused(api("put", f"/vbanks/{imp_uid}", {"vbank_due": due}), "vbank_due")


@pytest.mark.parametrize("number", ["١٢٣٤-٥٦", "²²²"])
def test_a_vbank_number_takes_ascii_digits_only(api, shop, number):
    _refused(api("post", "/vbanks", {"merchant_uid": "vbank_1", "amount": 1000, "vbank_code": "004",
                                     "vbank_due": _in(), "pg": "nice", "vbank_num": number}), "vbank_num")


@pytest.mark.parametrize("at", NOT_ASCII)
def test_schedule_at_not_ascii_is_a_400_when_scheduled_moved_or_rescheduled(api, shop, at):
    _refused(api("post", "/subscribe/payments/schedule", {"customer_uid": "cust_1", "schedules": [
        {"merchant_uid": "plan_1", "schedule_at": at, "amount": 9900, "name": "Monthly plan"}]}), "schedule_at")
    assert not Schedule.objects.filter(merchant=shop).exists()
    schedules.schedules_create(merchant=shop, customer_uid="cust_1", schedules=[
        {"merchant_uid": "plan_2", "schedule_at": _in(), "amount": 9900, "name": "Monthly plan"}])
    _refused(api("put", "/subscribe/payments/schedule/plan_2", {"schedule_at": at}), "schedule_at")
    schedules.schedules_revoke(actor=SYSTEM, merchant=shop, merchant_uids=["plan_2"])
    _refused(api("post", "/subscribe/payments/schedule/plan_2/reschedule", {"schedule_at": at}), "schedule_at")


@pytest.mark.parametrize("quota", NOT_ASCII)
def test_card_quota_not_ascii_is_a_400_everywhere(api, shop, quota):
    order = {"amount": 60000, "name": "Blue mug", "card_quota": quota}
    _refused(api("post", "/subscribe/payments/onetime", {
        "merchant_uid": "keyin_1", "card_number": APPROVE, "expiry": "2030-12", "birth": "900101", "pg": "nice",
        **order}), "card_quota")
    _refused(api("post", "/subscribe/payments/again", {"customer_uid": "cust_1", "merchant_uid": "again_1",
                                                       **order}), "card_quota")
    _refused(api("post", "/subscribe/payments/schedule", {"customer_uid": "cust_1", "schedules": [
        {"merchant_uid": "plan_1", "schedule_at": _in(), **order}]}), "card_quota")
    assert not Payment.objects.filter(merchant=shop).exists()
    assert not Schedule.objects.filter(merchant=shop).exists()


def test_ascii_quota_amount_and_time_still_pass(api, shop):
    """The same calls with ASCII digits as strings: taken."""
    paid = api("post", "/subscribe/payments/again", {"customer_uid": "cust_1", "merchant_uid": "again_1",
                                                     "amount": "60000", "name": "Blue mug", "card_quota": "3"})
    assert paid.status_code == 200 and paid.json()["response"]["card_quota"] == 3
    made = api("post", "/subscribe/payments/schedule", {"customer_uid": "cust_1", "schedules": [
        {"merchant_uid": "plan_1", "schedule_at": str(_in()), "amount": "9900", "name": "Monthly plan"}]})
    assert made.status_code == 200, made.content


@pytest.mark.parametrize("amount", NOT_ASCII)
def test_an_amount_not_ascii_is_a_400(api, shop, amount):
    _refused(api("post", "/payments/prepare", {"merchant_uid": "order_1", "amount": amount}), "amount")


@pytest.mark.parametrize("query", ["page=٣", "limit=٣", "page=²", "from=١٧٠٠٠٠٠٠٠٠", "to=²"])
def test_a_number_in_the_query_is_ascii_digits(api, query):
    _refused(api("get", f"/payments/status/all?{query}"))


def test_the_consoles_cancel_takes_an_ascii_amount_only(client, shop):
    payment = Payment.objects.create(merchant=shop, merchant_uid="order_1", amount=1000, status="paid",
                                     pg_provider="kcp", pg_id="T0000", name="Blue mug")
    client.force_login(make_member(shop, "owner"))
    url = reverse("payment_activity:cancel", kwargs={"merchant_code": shop.code, "imp_uid": payment.imp_uid})
    for amount in ("٣", "²"):
        client.post(url, {"amount": amount, "reason": "test"})
    assert not PaymentCancellation.objects.filter(payment=payment).exists()
    client.post(url, {"amount": "3", "reason": "test"})
    assert PaymentCancellation.objects.get(payment=payment).amount == 3


def test_other_readers_of_numbers_take_ascii_digits_only():
    assert inputs.parse_amount("1000") == 1000
    for text in NOT_ASCII:
        with pytest.raises(PaymentError):
            inputs.parse_amount(text)
    # A receiver's Retry-After: "²" no longer stops the send (float("²") raised), "٣" is not 3.
    assert _parse_retry_after("²") is None and _parse_retry_after("٣") is None
    assert _parse_retry_after("30") == 30.0
    with pytest.raises(cidr.CIDRError):
        cidr.parse_cidr("198.51.100.0/٢٤")
    assert str(cidr.parse_cidr("198.51.100.0/24")) == "198.51.100.0/24"
