"""What IMP.request_pay honours beyond the order (issue 23, item 8), from a shop's own page on
another origin, in Chromium: a Promise without a callback, a string amount, m_redirect_url on a
PC (the callback runs), IMP.close, the window's language, tax_free / vat_amount / escrow /
card.direct / vbank_due kept and answered by the REST API (a real i'mport client), and the
confirm process: the shop's confirm_url (a real HTTP receiver) approves or stops the payment."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from payments.models import Payment
from tests.payments import test_browser_sandbox_payment as shop_page
from tests.payments.test_browser_sandbox_payment import (  # noqa: F401 (fixtures)
    buy,
    merchant,
    order,
    order_server,
    shop,
)
from tests.receiver import Receiver, Reply

KST = ZoneInfo("Asia/Seoul")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The shop's script: the callback, or (setup.promise) the Promise request_pay returns.
SHOP_JS = """
document.getElementById("buy").addEventListener("click", function () {
  var setup = %(setup)s;
  IMP.init(setup.init);
  function show(rsp) {
    var out = document.getElementById("rsp");
    out.textContent = JSON.stringify(rsp);
    out.setAttribute("data-calls", String(Number(out.getAttribute("data-calls") || 0) + 1));
  }
  if (setup.promise) {
    var answer = IMP.request_pay(setup.params);
    document.getElementById("rsp").setAttribute("data-promise", String(answer instanceof Promise));
    answer.then(show);
  } else {
    IMP.request_pay(setup.params, show);
  }
});
"""


@pytest.fixture(autouse=True)
def _shop_script(monkeypatch):
    monkeypatch.setattr(shop_page, "SHOP_JS", SHOP_JS)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def rsp_of(page) -> dict:
    out = page.locator("#rsp")
    expect(out).not_to_be_empty()
    expect(page.locator("iframe[title='Payment window']")).to_have_count(0)
    assert out.get_attribute("data-calls") == "1"
    return json.loads(out.text_content())


def test_a_promise_a_string_amount_and_m_redirect_url_on_a_pc(page, shop, merchant, order_server):  # noqa: F811
    order(merchant, shop, amount="1000", m_redirect_url=f"{shop.url}/done")
    shop.setup["promise"] = True
    window = buy(page, shop)  # a PC: the modal opens, the page stays
    expect(window.get_by_text("1,000 won")).to_be_visible()
    window.get_by_role("button", name="Approve").click()
    rsp = rsp_of(page)
    assert page.locator("#rsp").get_attribute("data-promise") == "true"
    assert rsp["success"] is True and rsp["paid_amount"] == 1000
    assert page.url == shop.url + "/"  # no redirect on a PC, as PortOne
    assert order_server.find_payment(imp_uid=rsp["imp_uid"])["amount"] == 1000
    assert Payment.objects.get(imp_uid=rsp["imp_uid"]).m_redirect_url == ""
    assert page.problems.errors == []


def test_imp_close_closes_the_window_and_tells_the_callback(page, shop, merchant):  # noqa: F811
    order(merchant, shop)
    window = buy(page, shop)
    expect(window.get_by_role("button", name="Approve")).to_be_visible()
    page.evaluate("IMP.close()")
    rsp = rsp_of(page)
    assert (rsp["success"], rsp["error_code"], rsp["merchant_uid"]) == (False, "F1002", "order-1")


def test_language_chooses_the_windows_language(browser, live_server, shop, merchant):  # noqa: F811
    """A Korean browser: the window speaks Korean, unless request_pay asks for English."""
    context = browser.new_context(base_url=live_server.url, locale="ko-KR",
                                  extra_http_headers={"Accept-Language": "ko-KR,ko"})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        order(merchant, shop)
        expect(buy(page, shop).get_by_role("button", name="승인", exact=True)).to_be_visible()
        order(merchant, shop, merchant_uid="order-2", language="en")
        window = buy(page, shop)
        expect(window.get_by_role("button", name="Approve", exact=True)).to_be_visible()
        window.get_by_role("button", name="Approve", exact=True).click()  # the next page too
        expect(page.locator("#rsp")).not_to_be_empty()
    finally:
        context.close()


def test_tax_free_vat_escrow_and_the_card_company_are_kept_and_answered(page, shop, merchant, order_server):  # noqa: F811
    order(merchant, shop, amount=11000, tax_free=1000, vat_amount=909, escrow=True,
          card={"direct": {"code": "381", "quota": 5}}, products=[{"id": "mug", "name": "Blue mug"}])
    buy(page, shop).get_by_role("button", name="Approve").click()
    rsp = rsp_of(page)
    verified = order_server.find_payment(imp_uid=rsp["imp_uid"])
    assert (verified["escrow"], verified["card_code"], verified["card_name"], verified["card_quota"]) == (
        True, "381", "KB국민카드", 5)
    payment = Payment.objects.get(imp_uid=rsp["imp_uid"])
    assert (payment.tax_free, payment.vat_amount, payment.products) == (
        1000, 909, [{"id": "mug", "name": "Blue mug"}])


def test_vbank_due_is_the_accounts_deadline(page, shop, merchant, order_server):  # noqa: F811
    due = (datetime.now(KST) + timedelta(days=30)).replace(hour=23, minute=59, second=0, microsecond=0)
    order(merchant, shop, pay_method="vbank", vbank_due=due.strftime("%Y%m%d%H%M"))  # Korean time
    window = buy(page, shop)
    window.get_by_label("Bank").select_option("004")
    window.get_by_role("button", name="Issue virtual account").click()
    rsp = rsp_of(page)
    verified = order_server.find_payment(imp_uid=rsp["imp_uid"])
    assert verified["vbank_date"] == int(due.timestamp())


def test_a_bad_parameter_is_refused_before_the_window_opens(page, shop, merchant):  # noqa: F811
    order(merchant, shop, tax_free=5000)  # more than the amount
    buy(page, shop)
    rsp = rsp_of(page)  # the window refused to open: the shop's callback is told why
    assert (rsp["success"], rsp["error_code"]) == (False, "F400")
    assert rsp["error_msg"] == "tax_free must be a whole number from 0 to 1,000."
    assert not Payment.objects.exists()


@pytest.mark.parametrize(("reply", "paid"), [
    (Reply(200, b"ok"), True),
    (Reply(409, json.dumps({"reason": "재고 부족"}).encode(), {"Content-Type": "application/json"}), False),
])
def test_confirm_url_lets_the_shop_approve_or_stop_the_payment(page, shop, merchant, order_server, receiver,  # noqa: F811
                                                                reply, paid):
    receiver.script("/confirm", [reply])
    order(merchant, shop, confirm_url=receiver.url("/confirm"))
    buy(page, shop).get_by_role("button", name="Approve").click()
    rsp = rsp_of(page)
    [asked] = receiver.wait_for(1, "/confirm")
    assert json.loads(asked.body) == {"imp_uid": rsp["imp_uid"], "merchant_uid": "order-1", "amount": 1000}
    verified = order_server.find_payment(imp_uid=rsp["imp_uid"])
    if paid:
        assert rsp["success"] is True and verified["status"] == "paid"
    else:
        reason = "고객사 요청에 의해 결제를 중단합니다. (상세사유 : 재고 부족)"
        assert (rsp["success"], rsp["error_msg"]) == (False, reason)
        assert (verified["status"], verified["fail_reason"]) == ("failed", reason)
