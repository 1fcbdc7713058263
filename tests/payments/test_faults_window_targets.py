"""Issue 20, item 3: a window is never joined by a caller who asked for other targets. Whoever
opens an order's window first (no login needed, the merchant code and the order are enough)
must not choose where the real buyer is redirected after Approve, where the payment's webhooks
go, or the buyer fields and custom_data the shop reads back. Each request_pay is its own
attempt: the same request again (a second tab) joins the open payment; a request that differs
in anything it asks replaces the open window with a payment of its own, and the replaced
window can decide nothing any more."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from payments.models import Payment
from payments.sandbox import window
from tests.payments.test_payment_window import SHOP, message, open_window, press, shop  # noqa: F401  (shop: a fixture)
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db

EVIL = "https://evil.example/steal"
EVIL_HOOK = "http://127.0.0.1:9/evil-hook"  # loopback: allowed for notice_url in the test settings
SHOP_HOOK = "http://127.0.0.1:9/shop-hook"


def first_caller(merchant, **overrides):
    """Someone else's page, a moment before the buyer's, on the same order, amount and channel."""
    values = {"origin": "https://evil.example", "m_redirect_url": EVIL, "notice_url": EVIL_HOOK,
              "buyer_name": "Mallory", "buyer_email": "mallory@evil.example", "custom_data": '{"cart": "evil"}'}
    values.update(overrides)
    return open_window(Client(), merchant, **values)


def test_a_buyer_with_a_callback_is_not_sent_to_the_first_callers_redirect(client, shop):  # noqa: F811
    mallory = first_caller(shop)
    assert mallory.status_code == 200
    buyer = open_window(client, shop, notice_url=SHOP_HOOK, custom_data='{"cart": [7, 8]}')
    done, imp_uid = press(client, buyer, "approve")
    assert done.status_code == 200, done.get("Location")  # the callback: no redirect anywhere
    sent = message(done)
    assert sent["origin"] == SHOP
    rsp = sent["data"]["rsp"]
    assert rsp["success"] is True and rsp["imp_uid"] == imp_uid
    assert (rsp["buyer_name"], rsp["buyer_email"], rsp["custom_data"]) == (
        "Hong Gildong", "gildong@example.test", '{"cart": [7, 8]}')
    payment = Payment.objects.get(imp_uid=imp_uid)
    assert (payment.status, payment.m_redirect_url, payment.notice_urls) == ("paid", "", [SHOP_HOOK])
    assert list(Delivery.objects.filter(merchant=shop).values_list("url", flat=True)) == [SHOP_HOOK]


def test_a_buyer_with_a_redirect_goes_back_to_the_shop_and_the_first_caller_gets_nothing(client, shop):  # noqa: F811
    mallory = first_caller(shop, m_redirect_url=None)  # the callback flow, its own notice_url
    buyer = open_window(client, shop, origin=None, m_redirect_url="http://shop.test:8000/done")
    back, imp_uid = press(client, buyer, "approve")
    assert back.status_code == 302
    location = urlsplit(back["Location"])
    assert (location.netloc, location.path) == ("shop.test:8000", "/done")
    assert parse_qs(location.query)["imp_uid"] == [imp_uid]
    payment = Payment.objects.get(imp_uid=imp_uid)
    assert (payment.buyer_name, payment.notice_urls, payment.custom_data) == ("Hong Gildong", [], "")
    assert not Delivery.objects.filter(url=EVIL_HOOK).exists()

    # The first caller's window was replaced: it approves nothing, and answers its own page only.
    late, mallory_uid = press(Client(), mallory, "approve")
    assert mallory_uid != imp_uid and late.status_code == 409
    assert message(late)["origin"] == "https://evil.example"
    assert message(late)["data"]["rsp"]["success"] is False
    assert Payment.objects.get(imp_uid=mallory_uid).status == "failed"
    assert Payment.objects.get(imp_uid=imp_uid).status == "paid"
    assert not Delivery.objects.filter(url=EVIL_HOOK).exists()


def test_the_replaced_window_says_why_and_the_same_request_still_joins(client, shop):  # noqa: F811
    first = open_window(client, shop)
    same = open_window(Client(), shop)  # a second tab: the same request
    other = open_window(Client(), shop, buyer_name="Someone else")
    payments = list(Payment.objects.filter(merchant=shop).order_by("id"))
    assert len(payments) == 2
    replaced, live = payments
    assert (replaced.status, replaced.error_code) == ("failed", window.REPLACED_CODE)
    assert "Another payment window was opened for this order" in replaced.fail_reason
    assert (live.status, live.buyer_name) == ("ready", "Someone else")
    done, imp_uid = press(client, first, "approve")
    assert imp_uid == replaced.imp_uid and done.status_code == 409
    assert message(done)["data"]["rsp"]["error_code"] == window.REPLACED_CODE
    assert press(Client(), same, "approve")[1] == replaced.imp_uid  # the tab that joined it: the same payment
    assert message(press(Client(), other, "approve")[0])["data"]["rsp"]["success"] is True


@pytest.mark.parametrize("field", ["m_redirect_url", "notice_url", "buyer_name", "buyer_email", "buyer_tel",
                                   "buyer_addr", "buyer_postcode", "custom_data", "name", "pay_method"])
def test_any_difference_in_the_request_is_a_window_of_its_own(shop, field):  # noqa: F811
    params = {"pg": "kcp.T0000", "merchant_uid": "order-1", "amount": 1000, "name": "Blue mug"}
    first = window.window_open(merchant_code=shop.code, tier_code=None, params=params)
    changed = {"m_redirect_url": "https://shop.test/done", "notice_url": SHOP_HOOK, "buyer_email": "a@b.test",
               "custom_data": "{}", "pay_method": "vbank"}.get(field, "x")
    second = window.window_open(merchant_code=shop.code, tier_code=None, params={**params, field: changed})
    assert second.imp_uid != first.imp_uid
    first.refresh_from_db()
    assert first.status == "failed"


def test_a_request_the_window_cannot_answer_replaces_nothing(client, shop):  # noqa: F811
    """No http(s) origin and no m_redirect_url: refused before anything is saved, so the
    buyer's open window stays as it was."""
    buyer = open_window(client, shop)
    refused = open_window(Client(), shop, origin=None, buyer_name="Mallory")
    assert refused.status_code == 400 and "sent no http(s) origin" in refused.content.decode()
    assert Payment.objects.filter(merchant=shop).count() == 1
    done, _imp_uid = press(client, buyer, "approve")
    assert message(done)["data"]["rsp"]["success"] is True
