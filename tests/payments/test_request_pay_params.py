"""request_pay's parameters that change a payment (issue 23, item 8), as the SDK's form reaches
the window (Django's client): kept on the payment, refused when out of range, shown on the
payment's console page. The browser side: test_browser_request_pay_params."""

import json
from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from payments.models import Payment
from payments.sandbox import window
from tests.factories import make_member
from tests.payments.test_payment_window import open_window, press, shop  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_window_keeps_what_request_pay_asked(client, shop):  # noqa: F811
    opened = open_window(client, shop, amount="11000", tax_free="1000", vat_amount="909", escrow="true",
                         card=json.dumps({"direct": {"code": "381", "quota": 5}}),
                         products=json.dumps([{"id": "mug"}]), language="en")
    assert opened.status_code == 200, opened.content.decode()
    _done, imp_uid = press(client, opened, "approve")
    payment = Payment.objects.get(imp_uid=imp_uid)
    assert (payment.amount, payment.tax_free, payment.vat_amount, payment.escrow, payment.language) == (
        11000, 1000, 909, True, "en")
    assert (payment.card_code, payment.card_name, payment.card_quota, payment.products) == (
        "381", "KB국민카드", 5, [{"id": "mug"}])
    client.force_login(make_member(shop, "owner"))
    html = client.get(reverse("payment_activity:detail", kwargs={"merchant_code": shop.code, "imp_uid": imp_uid}),
                      headers={"Accept-Language": "en"}).content.decode()
    assert "Tax-free amount" in html and "1,000" in html and "909" in html


@pytest.mark.parametrize(("params", "words"), [
    ({"tax_free": "1001"}, "tax_free must be a whole number from 0 to 1,000."),
    ({"tax_free": "100", "vat_amount": "901"}, "vat_amount must be a whole number from 0 to 900."),
    ({"card": json.dumps({"direct": {"code": "999"}})}, "card.direct.code “999”"),
    ({"card": json.dumps({"direct": {"code": "381", "quota": 37}})}, "card.direct.quota"),
    ({"products": "{not json"}, "products is not valid JSON."),
    ({"pay_method": "vbank", "vbank_due": "20261399"}, "vbank_due must be YYYYMMDDhhmm"),
    ({"pay_method": "vbank", "vbank_due": "20200101"}, "vbank_due is in the past"),
    ({"confirm_url": "http://10.0.0.5/confirm"}, "confirm_url cannot be used"),
    ({"confirm_url": "ftp://shop.test/confirm"}, "confirm_url cannot be used"),
])
def test_out_of_range_parameters_refuse_the_window(client, shop, params, words):  # noqa: F811
    refused = open_window(client, shop, **params)
    assert refused.status_code == 400 and words in refused.content.decode()
    assert not Payment.objects.exists()


def test_vbank_due_is_read_in_korean_time():
    day = (datetime.now(window.KST) + timedelta(days=10)).date()
    assert window.read_window_vbank_due(day.strftime("%Y%m%d")) == datetime(
        day.year, day.month, day.day, 23, 59, tzinfo=window.KST)  # the end of that day, in Korea
    assert window.read_window_vbank_due(day.strftime("%Y%m%d") + "0930") == datetime(
        day.year, day.month, day.day, 9, 30, tzinfo=window.KST)
