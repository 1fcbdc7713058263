"""Issue 20, item 4: a window nobody decided expires with its token (``payments.models.WINDOW_MAX_AGE``
after it opened) and then no longer holds its order. Before, a ready window blocked its
``merchant_uid`` for ever: another window, key-in, ``POST /vbanks``, a payment with a billing
key and schedules all got F409. PortOne lets a ready order be requested again. An expired
window is failed (``EXPIRED_CODE``, no webhook) when the order is asked for again, and a late
press of its buttons pays nothing."""

import time
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client

from payments.domain import billing_keys, charges, lifecycle, schedules, vbanks
from payments.domain.errors import PaymentError
from payments.models import WINDOW_MAX_AGE, BillingKey, Payment, Schedule
from tests.payments.test_payment_window import message, open_window, press, shop  # noqa: F401  (shop: a fixture)
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db

APPROVE = "9410-0000-7000-0000"


def expire(imp_uid: str) -> None:
    """The window's hour goes by (its payment opened WINDOW_MAX_AGE and a second ago)."""
    Payment.objects.filter(imp_uid=imp_uid).update(
        started_at=F("started_at") - timedelta(seconds=WINDOW_MAX_AGE + 1))


def opened(merchant, merchant_uid: str) -> str:
    window = open_window(Client(), merchant, merchant_uid=merchant_uid)
    assert window.status_code == 200
    return Payment.objects.get(merchant=merchant, merchant_uid=merchant_uid, status="ready").imp_uid


def expired_window(payment_imp_uid: str) -> Payment:
    payment = Payment.objects.get(imp_uid=payment_imp_uid)
    assert (payment.status, payment.error_code) == ("failed", lifecycle.EXPIRED_CODE)
    assert payment.failed_at is not None and payment.fail_reason == "결제가 끝나기 전에 결제창이 만료되었습니다."
    return payment


def test_the_same_request_after_the_window_expired_is_a_new_payment(client, shop):  # noqa: F811
    first = opened(shop, "order-1")
    expire(first)
    again = open_window(client, shop, merchant_uid="order-1")
    assert again.status_code == 200
    done, imp_uid = press(client, again, "approve")
    assert imp_uid != first and message(done)["data"]["rsp"]["success"] is True
    expired_window(first)


def _keyin(merchant, merchant_uid):
    return charges.keyin_pay(merchant=merchant, merchant_uid=merchant_uid, amount=1000, card_number=APPROVE,
                             expiry="2030-12", birth="900101", pwd_2digit="12", pg="nice", name="Blue mug")


def _vbank(merchant, merchant_uid):
    return vbanks.vbank_issue(merchant=merchant, merchant_uid=merchant_uid, amount=1000, vbank_code="004",
                              vbank_due=int(time.time()) + 86400, pg="nice", name="Blue mug")


def _again(merchant, merchant_uid):
    if not BillingKey.objects.filter(merchant=merchant, customer_uid="cust_1").exists():
        billing_keys.billing_key_issue(merchant=merchant, customer_uid="cust_1", card_number=APPROVE,
                                       expiry="2030-12", birth="900101", pg="ksnet.2999199990")
    return charges.payment_again(merchant=merchant, customer_uid="cust_1", merchant_uid=merchant_uid,
                                 amount=1000, name="Blue mug")


def _schedule(merchant, merchant_uid):
    if not BillingKey.objects.filter(merchant=merchant, customer_uid="cust_1").exists():
        billing_keys.billing_key_issue(merchant=merchant, customer_uid="cust_1", card_number=APPROVE,
                                       expiry="2030-12", birth="900101", pg="ksnet.2999199990")
    return schedules.schedules_create(merchant=merchant, customer_uid="cust_1", schedules=[
        {"merchant_uid": merchant_uid, "schedule_at": int(time.time()) + 3600, "amount": 1000, "name": "Blue mug"}])


@pytest.mark.parametrize("pay", [_keyin, _vbank, _again, _schedule], ids=["keyin", "vbank", "again", "schedule"])
def test_an_order_whose_window_expired_is_paid_another_way(shop, pay):  # noqa: F811
    imp_uid = opened(shop, "order-2")
    with pytest.raises(PaymentError) as refused:  # while the window is open, it holds its order
        pay(shop, "order-2")
    assert refused.value.code == "conflict"
    expire(imp_uid)
    done = pay(shop, "order-2")
    if isinstance(done, Payment):
        assert done.status in ("paid", "ready") and done.imp_uid != imp_uid
    else:
        assert Schedule.objects.get(merchant=shop, merchant_uid="order-2").status == "scheduled"
    expired_window(imp_uid)


@pytest.mark.parametrize(("overrides", "action", "extra"), [
    ({}, "approve", {}),
    ({"pay_method": "vbank"}, "vbank", {"bank": "004"}),
    ({"pg": "kakaopay.TCSUBSCRIP", "customer_uid": "gildong_0001"}, "issue", {"test_card": "approve"}),
], ids=["approve", "vbank", "billing-key"])
def test_a_late_press_on_an_expired_window_pays_nothing(client, shop, overrides, action, extra):  # noqa: F811
    window = open_window(client, shop, **overrides)
    assert window.status_code == 200
    imp_uid = Payment.objects.get(merchant=shop).imp_uid
    expire(imp_uid)
    done, pressed = press(client, window, action, **extra)  # the token itself is still within its hour
    assert pressed == imp_uid
    rsp = message(done)["data"]["rsp"]
    assert rsp["success"] is False and rsp["error_code"] == lifecycle.EXPIRED_CODE
    payment = expired_window(imp_uid)
    assert payment.paid_at is None and payment.vbank_issued_at is None
    assert not BillingKey.objects.filter(merchant=shop).exists()
    assert not Delivery.objects.filter(merchant=shop).exists()  # no webhook: nothing was paid
