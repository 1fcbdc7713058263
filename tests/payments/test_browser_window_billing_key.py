"""A billing key issued through the sandbox window, as a shop meets it: the shop's page (another
loopback origin) loads the SDK and calls ``IMP.request_pay`` with ``customer_uid`` and amount 0
on the shared window subscription channel ``html5_inicis.INIBillTst``; the tester chooses a test
card and issues the key (a double click: one key); the callback carries ``customer_uid``; and
the shop's server pays with the key through a real i'mport REST client (iamporter,
``POST /subscribe/payments/again``). Screenshots of the window, in English and in Korean, go to
``/tmp/shots_window/`` for a person to look at."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from channels.models import SharedTestCredential
from payments.models import BillingKey, Payment
from tests.factories import make_merchant
from tests.payments.test_browser_sandbox_payment import Shop, buy, callback_rsp, order_server  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots_window")


def ensure_shared_inicis():
    """The platform's shared KG INICIS MIDs (subscription and general) and Kakao Pay's
    subscription one (seeded by a migration; a transactional test's flush empties the table,
    so the test makes sure they are there)."""
    for provider, module, mid in (("html5_inicis", "window_subscription", "INIBillTst"),
                                  ("html5_inicis", "window_general", "INIpayTest"),
                                  ("kakaopay", "window_subscription", "TCSUBSCRIP")):
        SharedTestCredential.objects.get_or_create(provider=provider, module=module, mid=mid,
                                                   defaults={"pg_provider": provider})


@pytest.fixture
def shop(live_server):
    server = Shop(live_server.url)
    yield server
    server.close()


@pytest.fixture
def merchant(db):
    ensure_shared_inicis()
    return make_merchant("Corner Shop")


@pytest.fixture
def korean_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ko-KR",
                                  extra_http_headers={"Accept-Language": "ko"},
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def subscribe(merchant, shop, **params):
    shop.setup = {"init": merchant.code, "params": {
        "pg": "html5_inicis.INIBillTst", "pay_method": "card", "merchant_uid": "issue-1", "amount": 0,
        "name": "Monthly plan", "customer_uid": "gildong_0001", "buyer_name": "Hong Gildong",
        "buyer_email": "gildong@example.test", **params}}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_issue_a_key_in_the_window_then_the_server_pays_with_it(page, shop, merchant, order_server):  # noqa: F811
    subscribe(merchant, shop)
    window = buy(page, shop)
    expect(window.get_by_role("heading", name="Billing key issuance")).to_be_visible()
    expect(window.get_by_text("No card data is asked: choose a test card.")).to_be_visible()
    expect(window.get_by_text("gildong_0001")).to_be_visible()
    expect(window.get_by_role("button", name="Approve")).to_have_count(0)
    window.get_by_label("Test card").select_option(label="Approves · 신한카드 536500******0000")
    shot(page, "billing_key_window_en.png")
    window.get_by_role("button", name="Close (the buyer cancels)").scroll_into_view_if_needed()
    shot(page, "billing_key_window_en_buttons.png")
    window.get_by_role("button", name="Issue billing key").dblclick()
    rsp = callback_rsp(page)
    assert rsp["success"] is True and rsp["customer_uid"] == "gildong_0001"
    assert rsp["merchant_uid"] == "issue-1" and rsp["imp_uid"].startswith("imp_") and rsp["paid_amount"] == 0
    assert page.problems.errors == []

    key = BillingKey.objects.get(merchant=merchant, customer_uid="gildong_0001")
    assert (key.issued_through, key.card_number) == ("window", "536500******0000")
    issuance = order_server.find_payment(imp_uid=rsp["imp_uid"])
    assert (issuance["status"], issuance["amount"], issuance["customer_uid"], issuance["customer_uid_usage"]) == (
        "paid", 0, "gildong_0001", "issue")

    # The shop's server charges the first month with the key.
    paid = order_server.create_payment(merchant_uid="month-1", customer_uid="gildong_0001", name="Monthly plan",
                                       amount=9900)
    assert (paid["status"], paid["amount"], paid["customer_uid"]) == ("paid", 9900, "gildong_0001")
    assert paid["card_number"] == "536500******0000" and paid["pg_provider"] == "html5_inicis"
    assert order_server.find_payment(imp_uid=paid["imp_uid"])["status"] == "paid"
    assert BillingKey.objects.filter(merchant=merchant).count() == 1
    assert Payment.objects.filter(merchant=merchant).count() == 2


def test_paying_at_issuance_closed_by_the_buyer(page, shop, merchant):
    subscribe(merchant, shop, pg="kakaopay.TCSUBSCRIP", amount=12000)
    window = buy(page, shop)
    expect(window.get_by_text("Paid with the new billing key when it is issued.")).to_be_visible()
    expect(window.get_by_role("button", name="Issue billing key and pay 12,000 won")).to_be_visible()
    shot(page, "billing_key_window_pays_en.png")
    window.get_by_role("button", name="Close (the buyer cancels)").click()
    rsp = callback_rsp(page)
    assert rsp["success"] is False and rsp["customer_uid"] == "gildong_0001" and rsp["error_code"] == "F1002"
    assert not BillingKey.objects.exists()
    assert page.problems.errors == []


def test_the_window_in_korean_and_a_refusal(korean_page, page, shop, merchant):
    subscribe(merchant, shop)
    window = buy(korean_page, shop)
    expect(window.get_by_text("실제 돈이 오가지 않으며 카드 정보를 묻지 않습니다.")).to_be_visible()
    expect(window.locator("html")).to_have_attribute("lang", "ko")
    expect(window.get_by_text("gildong_0001")).to_be_visible()
    shot(korean_page, "billing_key_window_ko.png")

    # A channel of another module: refused in the window, and the shop is told.
    subscribe(merchant, shop, pg="html5_inicis.INIpayTest", merchant_uid="issue-2")
    page.goto(shop.url + "/")
    page.get_by_role("button", name="Buy").click()
    rsp = callback_rsp(page)
    assert rsp["success"] is False and rsp["error_code"] == "F400" and rsp["customer_uid"] == "gildong_0001"
    assert "Payment window · subscription" in rsp["error_msg"]
