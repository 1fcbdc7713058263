"""The sandbox window as the SDK opens it (a 480 × 680 frame in a 1280 × 800 page), in English
and Korean: each pay method offers the failures that fit it (no card company for a bank
transfer or a virtual account), and every button shows inside the frame without scrolling."""

import pytest
from playwright.sync_api import expect

from payments.models import Payment
from payments.sandbox import failures
from tests.factories import make_merchant
from tests.payments.test_browser_sandbox_payment import (  # noqa: F401
    buy,
    callback_rsp,
    ensure_shared_kcp,
    order,
    shop,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {"error": "PG error", "fail": "Fail with this error", "close": "Close (the buyer cancels)",
           "issue": "Issue virtual account", "approve": "Approve", "card_company": "card company",
           "bank_declined": "The bank declined: not enough balance"},
    "ko": {"error": "PG 오류", "fail": "이 오류로 실패 처리", "close": "닫기 (구매자 취소)",
           "issue": "가상계좌 발급", "approve": "승인", "card_company": "카드사",
           "bank_declined": "은행 거절: 잔액 부족"},
}


@pytest.fixture
def merchant(db):
    ensure_shared_kcp()
    return make_merchant("Corner Shop")


@pytest.fixture(params=["en", "ko"])
def lang_page(request, browser, live_server):
    lang = request.param
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800},
                                  locale="ko-KR" if lang == "ko" else "en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield lang, page
    context.close()


def frame_box(page):
    return page.locator("iframe[title='Payment window']").bounding_box()


def assert_inside_frame(page, window, button_names):
    """Each button lies wholly inside the frame's box, as the page shows it, without scrolling."""
    frame = frame_box(page)
    assert frame["width"] == 480 and frame["height"] == 680
    for name in button_names:
        button = window.get_by_role("button", name=name, exact=True)
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box["y"] >= frame["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"], name
        assert box["x"] >= frame["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"], name


@pytest.mark.parametrize("pay_method", ["vbank", "trans", "card"])
def test_each_method_offers_its_own_failures_and_every_button_shows(lang_page, shop, merchant, pay_method):  # noqa: F811
    lang, page = lang_page
    words = WORDS[lang]
    order(merchant, shop, pay_method=pay_method)
    window = buy(page, shop)
    first = words["issue"] if pay_method == "vbank" else words["approve"]
    assert_inside_frame(page, window, [first, words["fail"], words["close"]])
    options = window.get_by_label(words["error"], exact=True).locator("option")
    codes = [options.nth(i).get_attribute("value") for i in range(options.count())]
    assert codes == [code for code, _label in failures.for_method(pay_method)]
    texts = " ".join(options.all_text_contents())
    if pay_method == "card":
        assert words["card_company"] in texts
    else:
        assert words["card_company"] not in texts
    if pay_method == "trans":  # the bank's refusal reaches the shop as the error message
        window.get_by_label(words["error"], exact=True).select_option("F1201")
        window.get_by_role("button", name=words["fail"], exact=True).click()
        rsp = callback_rsp(page)
        assert rsp["success"] is False and rsp["error_code"] == "F1201"
        # The reason is stored, and answered, in Korean whatever the window spoke (issue 23, item 2).
        assert rsp["error_msg"] == WORDS["ko"]["bank_declined"]
        assert Payment.objects.get(imp_uid=rsp["imp_uid"]).fail_reason == WORDS["ko"]["bank_declined"]
    elif pay_method == "vbank":  # the bottom button works where it shows
        window.get_by_role("button", name=words["close"], exact=True).click()
        rsp = callback_rsp(page)
        assert rsp["success"] is False and rsp["error_code"] == "F1002"
