"""What i'mport takes and answers where our first answer differed (issue 23, items 4, 6 and 7):
the payment answer has every property of PortOne's contract and is set after a partial cancel
as i'mport sets it; ``checksum: null``; a ``vbank_due`` or ``schedule_at`` with a fraction of
a second; an empty optional query value; an integer ``merchant_uid``; the older
``/subscribe/payments/foreign``; a hub-type simple payment's ``emb_pg_provider``."""

import json
import time

import pytest

from api_keys.services.api_keys import api_key_create
from console.tenancy.audit import SYSTEM
from payments.models import Payment, Status
from payments.sandbox import window
from tests.portone_schema import document, validator

pytestmark = pytest.mark.django_db

APPROVE = "9410-0000-7000-0000"


@pytest.fixture
def auth(client, agency):
    issued = api_key_create(actor=SYSTEM, merchant=agency, name="order server")
    body = {"imp_key": issued.api_key.key, "imp_secret": issued.secret}
    return {"HTTP_AUTHORIZATION": client.post("/users/getToken", body).json()["response"]["access_token"]}


def _post(client, auth, path, body):
    return client.post(path, json.dumps(body), content_type="application/json", **auth)


def _paid(merchant, merchant_uid="order_1", amount=10000, **params):
    payment = window.window_open(merchant_code=merchant.code, tier_code=None, user_agent="pytest", params={
        "pg": "kcp.T0000", "merchant_uid": merchant_uid, "amount": amount, "name": "Coffee", **params})
    return window.window_approve(imp_uid=payment.imp_uid, token=window.window_token(payment))


def _properties(definition: str) -> set[str]:
    return set(document()["definitions"][definition]["properties"])


def _valid(definition: str, answer: dict) -> None:
    errors = list(validator(definition).iter_errors(answer))
    assert errors == [], [error.message for error in errors]


def test_the_payment_answer_has_every_property_of_the_contract(client, agency, auth):
    answer = client.get(f"/payments/{_paid(agency).imp_uid}", **auth).json()["response"]
    assert set(answer) == _properties("PaymentAnnotation")
    assert answer["promotion"] is None and answer["emb_pg_provider"] is None
    _valid("PaymentAnnotation", answer)


def test_after_a_partial_cancel_the_answer_is_set_as_imports(client, agency, auth):
    payment = _paid(agency)
    part = _post(client, auth, "/payments/cancel", {"imp_uid": payment.imp_uid, "amount": 3000,
                                                    "reason": "one cup"}).json()["response"]
    _valid("PaymentAnnotation", part)
    (entry,) = part["cancel_history"]
    # Every property of PortOne's PaymentCancelAnnotation, and the PG's pg_id as i'mport adds it.
    assert set(entry) == _properties("PaymentCancelAnnotation") | {"pg_id"}
    assert entry["pg_id"] == payment.pg_id == "T0000" and entry["amount"] == 3000
    # Still paid (2 of 3 cups), and cancelled_at is the partial cancel's time, as i'mport sets it.
    assert part["status"] == "paid" and part["cancel_amount"] == 3000
    assert part["cancelled_at"] == entry["cancelled_at"] > 0
    rest = _post(client, auth, "/payments/cancel", {"imp_uid": payment.imp_uid, "reason": "all"}).json()["response"]
    assert rest["status"] == "cancelled" and [h["amount"] for h in rest["cancel_history"]] == [3000, 7000]
    assert rest["cancelled_at"] == rest["cancel_history"][-1]["cancelled_at"] >= part["cancelled_at"]


def test_checksum_and_amount_null_check_nothing_and_cancel_the_rest(client, agency, auth):
    payment = _paid(agency)
    answer = _post(client, auth, "/payments/cancel", {"imp_uid": payment.imp_uid, "amount": None,
                                                      "checksum": None, "tax_free": None})
    body = answer.json()
    assert answer.status_code == 200 and body["code"] == 0, body
    assert body["response"]["status"] == "cancelled" and body["response"]["cancel_amount"] == 10000


def test_an_empty_optional_query_value_is_its_default(client, agency, auth):
    _paid(agency)
    for path in ("/payments/status/all?sorting=&limit=&page=&from=", "/payments/findAll/order_1/paid?sorting=&page=1",
                 "/payments/find/order_1/paid?sorting="):
        answer = client.get(path, **auth)
        assert answer.status_code == 200 and answer.json()["code"] == 0, path


def test_an_integer_merchant_uid_is_read_as_its_digits(client, agency, auth):
    created = _post(client, auth, "/payments/prepare", {"merchant_uid": 20261208001, "amount": 3000})
    assert created.status_code == 200 and created.json()["response"]["merchant_uid"] == "20261208001"
    assert client.get("/payments/prepare/20261208001", **auth).json()["response"]["amount"] == 3000
    for bad in (1.5, True, -7, {"a": 1}):
        refused = _post(client, auth, "/payments/prepare", {"merchant_uid": bad, "amount": 3000})
        assert refused.json()["code"] != 0, bad


def test_vbank_due_and_schedule_at_with_a_fraction_of_a_second(client, agency, auth):
    due = time.time() + 3 * 86400  # JavaScript's Date.now() / 1000
    issued = _post(client, auth, "/vbanks", {"merchant_uid": "vb_1", "amount": 5000, "vbank_code": "004",
                                             "vbank_due": due, "pg": "nice"}).json()
    assert issued["code"] == 0, issued
    assert issued["response"]["status"] == "ready" and issued["response"]["vbank_date"] == int(due)
    as_text = _post(client, auth, "/vbanks", {"merchant_uid": "vb_2", "amount": 5000, "vbank_code": "004",
                                              "vbank_due": f"{due:.3f}", "pg": "nice"}).json()
    assert as_text["code"] == 0 and as_text["response"]["vbank_date"] == int(due)
    for bad in ("1e12", "12.x", 1e300, "١٢٣", True):
        refused = _post(client, auth, "/vbanks", {"merchant_uid": "vb_3", "amount": 5000, "vbank_code": "004",
                                                  "vbank_due": bad, "pg": "nice"})
        assert refused.json()["code"] != 0 and "vbank_due" in refused.json()["message"], bad
    assert not Payment.objects.filter(merchant=agency, merchant_uid="vb_3").exists()

    _post(client, auth, "/subscribe/customers/cust_1", {"card_number": APPROVE, "expiry": "2030-12",
                                                         "birth": "900101", "pg": "ksnet"})
    at = time.time() + 3600
    scheduled = _post(client, auth, "/subscribe/payments/schedule", {"customer_uid": "cust_1", "schedules": [
        {"merchant_uid": "plan_1", "schedule_at": at, "amount": 9900, "name": "Plan"}]}).json()
    assert scheduled["code"] == 0 and scheduled["response"][0]["schedule_at"] == int(at), scheduled
    # A page, whatever sorting says ("scheduled": oldest first; anything else: latest first).
    for sorting in ("", "-started", "scheduled"):
        page = client.get("/subscribe/payments/schedule", {"schedule_from": int(at) - 60, "schedule_to": int(at) + 60,
                                                           "sorting": sorting}, **auth).json()
        assert page["code"] == 0 and page["response"]["total"] == 1, sorting


def test_the_older_foreign_card_door_pays_as_key_in(client, agency, auth):
    # iamporter's payForeign and iamport-rest-client's pay_foreign: no birth, no pwd_2digit.
    answer = _post(client, auth, "/subscribe/payments/foreign", {
        "merchant_uid": "foreign_1", "amount": 1000, "card_number": "4111-1111-1111-1111", "expiry": "2030-12",
        "name": "Blue mug", "pg": "nice"})
    body = answer.json()
    assert answer.status_code == 200 and body["code"] == 0, body
    assert body["response"]["status"] == "paid" and body["response"]["card_number"] == "411111******1111"
    _valid("PaymentAnnotation", body["response"])


def test_a_hub_type_simple_payment_names_its_provider_and_a_simple_channel_is_its_own(client, agency, auth):
    hub = _paid(agency, "hub_1", pay_method="kakaopay")
    assert (hub.pay_method, hub.emb_pg_provider, hub.status) == ("card", "kakaopay", Status.PAID)
    answer = client.get(f"/payments/{hub.imp_uid}", **auth).json()["response"]
    assert (answer["pg_provider"], answer["emb_pg_provider"], answer["pay_method"]) == ("kcp", "kakaopay", "card")
    # The shared test channel kakaopay.TC0ONETIME (Payment window · simple).
    own = _paid(agency, "simple_1", pg="kakaopay.TC0ONETIME", pay_method="kakaopay")
    assert (own.pg_provider, own.emb_pg_provider) == ("kakaopay", "")


def test_the_older_foreign_card_door_refuses_as_onetime_does(client, agency, auth):
    """iamport-rest-client's own test: an expired card on pay_foreign is i'mport's refusal,
    HTTP 200 with code -1 (onetime's documented statuses), not a 400."""
    answer = _post(client, auth, "/subscribe/payments/foreign", {
        "merchant_uid": "foreign_2", "amount": 100, "card_number": "card-number", "expiry": "2016-08"})
    body = answer.json()
    assert answer.status_code == 200 and body["code"] == -1 and body["message"], body
