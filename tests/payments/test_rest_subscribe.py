"""The non-authenticated payments over the REST API (issue 15), driven as a merchant's server
drives them: through a real i'mport client library (iamporter) against the live test server.
iamporter covers billing keys, key-in, payments with a key and a customer's payments; for
schedules and virtual accounts, which it has no functions for, the calls go through its
authentication (``IamportAuth``, which gets and sends the token) on a plain requests session.
Every answer is checked against PortOne's own V1 OpenAPI."""

import time

import pytest
import requests
from iamporter import Iamporter
from iamporter.api import Subscribe
from iamporter.errors import ImpApiError

from api_keys.services.api_keys import api_key_create
from channels.models import SharedTestCredential
from console.models import AuditEvent
from console.tenancy.audit import SYSTEM
from payments.models import BillingKey, Payment, Schedule
from tests.factories import make_merchant
from tests.portone_schema import validator

pytestmark = pytest.mark.django_db(transaction=True)

APPROVE = "9410-0000-7000-0000"
LIMIT = "9410-0000-1000-1001"
KEY_PG = "ksnet.2999199990"  # the shared test MID of the API subscription module


def _client(merchant, live_server) -> Iamporter:
    issued = api_key_create(actor=SYSTEM, merchant=merchant, name="order server")
    return Iamporter(imp_key=issued.api_key.key, imp_secret=issued.secret, imp_url=live_server.url + "/")


def _shared_test_channels():
    """The seeded shared test MIDs these tests pay on (a transactional test's flush empties
    them, so they are made sure of before each merchant is made)."""
    for provider, module, mid in (("nice", "api_keyin", "iamport01m"), ("ksnet", "api_subscription", "2999199990")):
        SharedTestCredential.objects.get_or_create(provider=provider, module=module, mid=mid,
                                                   defaults={"pg_provider": provider})


@pytest.fixture
def merchant():
    _shared_test_channels()
    return make_merchant("Subscriptions")


@pytest.fixture
def shop(merchant, live_server) -> Iamporter:
    return _client(merchant, live_server)


def _session(shop: Iamporter) -> requests.Session:
    session = requests.Session()
    session.auth = shop.imp_auth
    return session


def _api_error(call) -> ImpApiError:
    with pytest.raises(ImpApiError) as failed:
        call()
    return failed.value


def _valid(definition: str, answer: dict) -> dict:
    errors = list(validator(definition).iter_errors(answer))
    assert errors == [], [error.message for error in errors]
    return answer


def test_a_billing_key_is_issued_pays_lists_its_payments_and_is_deleted(shop, merchant, live_server):
    key = _valid("CustomerAnnotation", shop.create_billkey(
        customer_uid="cust_api", card_number=APPROVE, expiry="2030-12", birth="900101", pg=KEY_PG))
    assert key["customer_uid"] == "cust_api" and key["pg_provider"] == "ksnet"
    assert key["card_number"].startswith("941000") and "70000000" not in key["card_number"].replace("*", "")
    assert shop.find_billkey(customer_uid="cust_api")["card_number"] == key["card_number"]

    paid = _valid("PaymentAnnotation", shop.create_payment(
        merchant_uid="plan_2027_01", customer_uid="cust_api", name="Monthly plan", amount=9900))
    assert paid["status"] == "paid" and paid["amount"] == 9900 and paid["customer_uid"] == "cust_api"
    assert shop.find_payment(imp_uid=paid["imp_uid"])["status"] == "paid"

    listed = Subscribe(**shop._api_kwargs).get_customers_payments("cust_api")
    assert listed.status == 200 and listed.data["total"] == 1
    assert [p["imp_uid"] for p in listed.data["list"]] == [paid["imp_uid"]]

    deleted = shop.delete_billkey(customer_uid="cust_api")
    assert deleted["customer_uid"] == "cust_api"
    assert _api_error(lambda: shop.find_billkey(customer_uid="cust_api")).response.status == 404
    again = _api_error(lambda: shop.create_payment(merchant_uid="plan_2027_02", customer_uid="cust_api",
                                                   name="Monthly plan", amount=9900))
    # PortOne documents again with 200 and 401 only: i'mport declines the charge (code -1)
    assert (again.response.status, again.response.code) == (200, -1)
    assert again.response.message == "등록되지 않은 구매자입니다."
    assert Payment.objects.filter(merchant=merchant).count() == 1
    assert AuditEvent.objects.filter(merchant=merchant, action="billing_key.delete").count() == 1


def test_a_key_in_payment_pays_or_fails_as_the_test_card_says(shop, merchant):
    paid = _valid("PaymentAnnotation", shop.create_payment(
        merchant_uid="keyin_1", name="Blue mug", amount=1000, card_number=APPROVE, expiry="2030-12",
        birth="900101", pg="nice"))
    assert paid["status"] == "paid" and paid["channel"] == "api" and paid["pay_method"] == "card"
    # A declined card is a failed payment, answered with code 0 (the client returns it).
    declined = _valid("PaymentAnnotation", shop.create_payment(
        merchant_uid="keyin_2", name="Blue mug", amount=1000, card_number=LIMIT, expiry="2030-12",
        birth="900101", pg="nice"))
    assert declined["status"] == "failed" and declined["fail_reason"]
    assert list(Payment.objects.filter(merchant=merchant).order_by("id").values_list("status", flat=True)) == [
        "paid", "failed"]
    # With customer_uid, the card is kept as that billing key (masked).
    shop.create_payment(merchant_uid="keyin_3", name="Blue mug", amount=1000, card_number=APPROVE,
                        expiry="2030-12", birth="900101", pg="nice", customer_uid="cust_keyin")
    assert BillingKey.objects.get(merchant=merchant, customer_uid="cust_keyin").card_number.count("*") >= 6


@pytest.mark.parametrize(("card_number", "words"), [
    ("9410-0000-ABCD-0000", "card_number"), ("1" * 30, "card_number"), ("4111-1111-1111-1112", "카드번호")])
def test_a_card_number_that_is_no_card_number_is_refused_and_saves_nothing(shop, merchant, card_number, words):
    """onetime is documented with 200 and 401 only: i'mport's refusal, HTTP 200 and code -1."""
    failed = _api_error(lambda: shop.create_payment(
        merchant_uid="keyin_bad", name="Blue mug", amount=1000, card_number=card_number, expiry="2030-12",
        birth="900101", pg="nice"))
    assert (failed.response.status, failed.response.code) == (200, -1) and words in failed.response.message
    assert card_number.replace("-", "") not in failed.response.message.replace("-", "")
    assert not Payment.objects.filter(merchant=merchant).exists()


def test_a_shops_own_card_approves_on_key_in_and_billing_keys_and_only_its_mask_is_kept(shop, merchant):
    own = "4111-1111-1111-1111"  # none of the sandbox's test cards: a shop testing with its own
    paid = _valid("PaymentAnnotation", shop.create_payment(
        merchant_uid="own_1", name="Blue mug", amount=1000, card_number=own, expiry="2030-12", birth="900101",
        pg="nice", customer_uid="cust_own"))
    assert paid["status"] == "paid" and paid["card_number"] == "411111******1111"
    key = _valid("CustomerAnnotation", shop.create_billkey(
        customer_uid="cust_own_2", card_number=own.replace("-", ""), expiry="2030-12", birth="900101", pg=KEY_PG))
    assert key["card_number"] == "411111******1111"
    again = shop.create_payment(merchant_uid="own_2", customer_uid="cust_own_2", name="Monthly plan", amount=9900)
    assert again["status"] == "paid"
    # A decline card still declines, whatever else is around it.
    declined = shop.create_payment(merchant_uid="own_3", name="Blue mug", amount=1000, card_number=LIMIT,
                                   expiry="2030-12", birth="900101", pg="nice")
    assert declined["status"] == "failed"
    stored = [*Payment.objects.filter(merchant=merchant).values_list("card_number", flat=True),
              *BillingKey.objects.filter(merchant=merchant).values_list("card_number", flat=True)]
    assert stored and not any("1111111111" in (number or "") for number in stored)


def test_another_merchants_billing_key_is_unknown(shop, live_server):
    other = _client(make_merchant("Other shop"), live_server)
    other.create_billkey(customer_uid="theirs", card_number=APPROVE, expiry="2030-12", birth="900101", pg=KEY_PG)
    assert _api_error(lambda: shop.find_billkey(customer_uid="theirs")).response.status == 404
    assert _api_error(lambda: shop.delete_billkey(customer_uid="theirs")).response.status == 404
    assert _api_error(lambda: shop.create_payment(merchant_uid="steal", customer_uid="theirs", name="x",
                                                  amount=1000)).response.code == -1
    assert BillingKey.objects.filter(customer_uid="theirs", deleted_at__isnull=True).count() == 1


def test_schedules_are_made_read_moved_and_cancelled(shop, merchant, live_server):
    session, base = _session(shop), live_server.url
    shop.create_billkey(customer_uid="cust_plan", card_number=APPROVE, expiry="2030-12", birth="900101", pg=KEY_PG)
    at = int(time.time()) + 3600
    made = session.post(base + "/subscribe/payments/schedule", json={"customer_uid": "cust_plan", "schedules": [
        {"merchant_uid": "plan_a", "schedule_at": at, "amount": 9900, "name": "Monthly plan"},
        {"merchant_uid": "plan_b", "schedule_at": at + 60, "amount": 9900, "name": "Monthly plan"}]}).json()
    assert made["code"] == 0 and [s["merchant_uid"] for s in made["response"]] == ["plan_a", "plan_b"]
    for schedule in made["response"]:
        _valid("ScheduleResultAnnotation", schedule)
        assert schedule["schedule_status"] == "scheduled" and schedule["imp_uid"] is None

    one = session.get(base + "/subscribe/payments/schedule/plan_a").json()["response"]
    assert one["schedule_at"] == at
    moved = session.put(base + "/subscribe/payments/schedule/plan_a", data={"schedule_at": at + 120}).json()
    assert moved["code"] == 0 and moved["response"]["schedule_at"] == at + 120

    listed = session.get(base + "/subscribe/payments/schedule", params={
        "schedule_from": at - 10, "schedule_to": at + 600, "sorting": "scheduled"}).json()
    # A page, as i'mport answers it (its clients read total, previous, next and list).
    assert {k: listed["response"][k] for k in ("total", "previous", "next")} == {"total": 2, "previous": 0, "next": 0}
    assert [s["merchant_uid"] for s in listed["response"]["list"]] == ["plan_b", "plan_a"]
    for path in ("/subscribe/customers/cust_plan/schedules", "/subscribe/payments/schedule/customers/cust_plan"):
        of_customer = session.get(base + path, params={"from": at - 10, "to": at + 600}).json()
        assert of_customer["response"]["total"] == 2
        assert {s["merchant_uid"] for s in of_customer["response"]["list"]} == {"plan_a", "plan_b"}
    paged = session.get(base + "/subscribe/payments/schedule", params={
        "schedule_from": at - 10, "schedule_to": at + 600, "limit": 1, "page": 2, "sorting": ""}).json()
    assert {k: paged["response"][k] for k in ("total", "previous", "next")} == {"total": 2, "previous": 1, "next": 0}
    assert [s["merchant_uid"] for s in paged["response"]["list"]] == ["plan_b"]  # latest first: plan_a, plan_b

    cancelled = session.post(base + "/subscribe/payments/unschedule",
                             json={"customer_uid": "cust_plan", "merchant_uid": ["plan_b"]}).json()
    assert cancelled["code"] == 0 and [s["schedule_status"] for s in cancelled["response"]] == ["revoked"]
    assert dict(Schedule.objects.filter(merchant=merchant).values_list("merchant_uid", "status")) == {
        "plan_a": "scheduled", "plan_b": "revoked"}


@pytest.mark.parametrize(("change", "words"), [
    ({"schedule_at": 1}, "지난 시각"), ({"schedule_at": int(time.time()) + 10 * 366 * 86400}, "너무 먼 시각"),
    ({"customer_uid": "nobody"}, "nobody")])
def test_a_bad_schedule_is_refused_and_nothing_is_saved(shop, merchant, live_server, change, words):
    session = _session(shop)
    shop.create_billkey(customer_uid="cust_plan", card_number=APPROVE, expiry="2030-12", birth="900101", pg=KEY_PG)
    item = {"merchant_uid": "plan_x", "schedule_at": int(time.time()) + 3600, "amount": 9900, "name": "Plan"}
    body = {"customer_uid": "cust_plan", "schedules": [item]}
    if "customer_uid" in change:
        body["customer_uid"] = change["customer_uid"]
    else:
        item.update(change)
    answer = session.post(live_server.url + "/subscribe/payments/schedule", json=body)
    assert answer.status_code == 200 and answer.json()["code"] != 0  # documented with 200 and 401 only
    assert words in answer.json()["message"], answer.json()["message"]
    assert not Schedule.objects.filter(merchant=merchant).exists()


def test_ten_thousand_schedules_in_one_call_are_refused(shop, merchant, live_server):
    session = _session(shop)
    at = int(time.time()) + 3600
    body = {"customer_uid": "cust_plan", "schedules": [
        {"merchant_uid": f"plan_{i}", "schedule_at": at, "amount": 9900, "name": "Plan"} for i in range(10_000)]}
    answer = session.post(live_server.url + "/subscribe/payments/schedule", json=body)
    assert answer.status_code == 200 and "1000" in answer.json()["message"]  # i'mport's refusal in a 200
    assert not Schedule.objects.filter(merchant=merchant).exists()


def test_a_virtual_account_is_issued_changed_and_revoked(shop, merchant, live_server):
    session, base = _session(shop), live_server.url
    due = int(time.time()) + 3 * 86400
    issued = session.post(base + "/vbanks", data={
        "merchant_uid": "vbank_1", "amount": 25000, "vbank_code": "004", "vbank_due": due, "name": "Desk",
        "vbank_holder": "Kim", "pg": "nice"}).json()
    assert issued["code"] == 0, issued
    account = _valid("PaymentAnnotation", issued["response"])
    assert account["status"] == "ready" and account["vbank_num"] and account["vbank_date"] == due
    changed = session.put(base + f"/vbanks/{account['imp_uid']}", data={"amount": 30000}).json()
    assert changed["code"] == 0 and changed["response"]["amount"] == 30000
    revoked = session.delete(base + f"/vbanks/{account['imp_uid']}").json()
    assert revoked["code"] == 0 and revoked["response"]["status"] == "cancelled"
    again = session.delete(base + f"/vbanks/{account['imp_uid']}").json()
    assert again["code"] != 0
    assert Payment.objects.get(merchant=merchant, merchant_uid="vbank_1").status == "cancelled"
