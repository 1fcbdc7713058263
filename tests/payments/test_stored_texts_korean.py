"""Texts the sandbox stores are Korean whatever the buyer's browser speaks (issue 23, item 2):
a window in English shows its buttons in English, and the payment keeps i'mport's Korean
``fail_reason`` and ``vbank_name``; a scheduled run (no browser at all) keeps Korean too, and a
Korean console page shows it as stored."""

import re

import pytest
from django.utils import translation

from payments.domain import charges
from payments.models import Payment
from tests.payments.test_payment_window import hidden, open_window, shop  # noqa: F401

pytestmark = pytest.mark.django_db
ENGLISH = {"Accept-Language": "en"}


def press(client, response, action, **extra):
    """A button of the window, pressed by a browser that speaks English."""
    html = response.content.decode()
    imp_uid = re.search(r'action="/sandbox/pay/(imp_\d+)/"', html).group(1)
    data = {"token": hidden(html, "token"), "origin": hidden(html, "origin"), "action": action, **extra}
    return client.post(f"/sandbox/pay/{imp_uid}/", data, headers=ENGLISH), imp_uid


@pytest.mark.parametrize(("action", "extra", "stored"), [
    ("close", {}, {"fail_reason": "구매자가 결제창을 닫았습니다."}),
    ("fail", {"error_code": "F1001"}, {"fail_reason": "카드사 승인 거절: 한도 초과"}),
])
def test_an_english_window_stores_korean_reasons(client, shop, action, extra, stored):  # noqa: F811
    window = open_window(client, shop, headers=ENGLISH)
    assert "Approve" in window.content.decode()  # the window speaks the buyer's language
    _done, imp_uid = press(client, window, action, **extra)
    payment = Payment.objects.get(imp_uid=imp_uid)
    assert {field: getattr(payment, field) for field in stored} == stored


def test_an_english_window_stores_the_bank_in_korean(client, shop):  # noqa: F811
    window = open_window(client, shop, headers=ENGLISH, pay_method="vbank")
    assert "KB Kookmin Bank" in window.content.decode()
    _done, imp_uid = press(client, window, "vbank", bank="004")
    assert Payment.objects.get(imp_uid=imp_uid).vbank_name == "KB국민은행"


def test_a_declined_key_in_payment_asked_in_english_keeps_a_korean_reason(shop):  # noqa: F811
    """The API caller's language (an English Accept-Language, a worker's default) is not the
    stored one; the scheduled run's reason is checked in test_schedules."""
    with translation.override("en"):
        payment = charges.keyin_pay(merchant=shop, merchant_uid="first", amount=1000, pg="nice",
                                    card_number="9410-0000-1000-1001", expiry="2099-12")
    assert (payment.status, payment.fail_reason) == ("failed", "카드사 승인 거절: 한도 초과")
