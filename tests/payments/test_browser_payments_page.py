"""The Payments page and a payment's detail as an operator walks them at 1280 × 800, in English
and in Korean (issue 22, items 6, 7, 8, 9, 11): Amount and Status stay in view beside long
values; the totals match the rows and follow the test/live filter; the card reads as words and
masked PortOne's way; the cancel confirmation states the amount and whether it is all of it; a
paid virtual account asks for the refund account; the audit log says what a cancel changed, in
labels, with the account masked."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from channels.models import SharedTestCredential
from console.tenancy.audit import Actor
from payments.domain import lifecycle
from payments.models import Payment
from payments.sandbox import window
from tests.factories import TEST_PASSWORD, make_member, make_merchant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots_payments_page")
LONG_NAME = "Handmade-ceramic-mug-" * 8  # 168 characters, no space
LONG_EMAIL = "a.very.long.buyer.address.that.never.ends." * 2 + "@example.test"
LONG_UID = "order-" + "x" * 74  # merchant_uid at its 80-character limit

W = {
    "en": {"email": "Email", "password": "Password", "log_in": "Log in", "amount": "Amount", "status": "Status",
           "won": "{} won", "mode": "Mode", "live": "Live", "filter": "Filter", "credit": "Credit card", "card_type": "Card type", "quota": "Instalment months",
           "lump": "Lump sum", "cancel_amount": "Amount to cancel (won)", "cancel": "Cancel payment",
           "refund": "Refund account", "holder": "Account holder", "bank": "Bank", "number": "Account number",
           "cancelled_now": "Cancelled now", "left": "Left to cancel", "paid_paid": "Paid → Paid",
           "stays": "stays paid", "nothing_left": "Cancel all that is left"},
    "ko": {"email": "이메일", "password": "비밀번호", "log_in": "로그인", "amount": "금액", "status": "상태",
           "won": "{}원", "mode": "연동 모드", "live": "실연동", "filter": "검색", "credit": "신용카드", "card_type": "카드 구분", "quota": "할부 개월 수",
           "lump": "일시불", "cancel_amount": "취소 금액(원)", "cancel": "결제 취소",
           "refund": "환불 계좌", "holder": "예금주", "bank": "은행", "number": "계좌번호",
           "cancelled_now": "이번 취소 금액", "left": "취소 가능 잔액", "paid_paid": "결제 완료 → 결제 완료",
           "stays": "결제 완료로 남습니다", "nothing_left": "모두 취소할까요"},
}


def _world():
    SharedTestCredential.objects.get_or_create(provider="kcp", module="window_general", mid="T0000",
                                               defaults={"pg_provider": "kcp"})
    merchant = make_merchant("Corner Shop")

    def open_(uid, amount, **extra):
        params = {"pg": "kcp.T0000", "merchant_uid": uid, "amount": amount, "name": "Blue mug",
                  "buyer_name": "Hong Gildong", "buyer_email": "gildong@example.test", **extra}
        return window.window_open(merchant_code=merchant.code, tier_code=None, params=params, user_agent="pw")

    long_one = open_(LONG_UID, 10_000, name=LONG_NAME, buyer_email=LONG_EMAIL, buyer_name="X" * 60)
    window.window_approve(imp_uid=long_one.imp_uid, token=window.window_token(long_one))
    small = open_("order-small", 5_000)
    window.window_approve(imp_uid=small.imp_uid, token=window.window_token(small))
    Payment.objects.filter(pk=small.pk).update(mode="live")  # as a live channel's payment would be
    failed = open_("order-failed", 2_000)
    window.window_close(imp_uid=failed.imp_uid, token=window.window_token(failed))
    vbank = open_("order-vbank", 50_000, pay_method="vbank")
    window.window_issue_vbank(imp_uid=vbank.imp_uid, token=window.window_token(vbank), bank="088")
    owner = make_member(merchant, "owner")
    lifecycle.vbank_deposit(actor=Actor(user=owner), payment=Payment.objects.get(pk=vbank.pk))
    return merchant, owner, long_one, vbank


@pytest.fixture(params=["en", "ko"])
def walk(request, browser, live_server):
    lang = request.param
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800},
                                  locale="ko-KR" if lang == "ko" else "en-US",
                                  extra_http_headers={"Accept-Language": lang})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield lang, W[lang], page
    context.close()


def _log_in(page, words, operator):
    page.goto("/accounts/login/")
    page.get_by_label(words["email"]).fill(operator.email)
    page.get_by_label(words["password"]).fill(TEST_PASSWORD)
    page.get_by_role("button", name=words["log_in"]).click()
    page.wait_for_load_state()


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _confirm_text(page, press) -> str:
    """Press what asks for a confirmation; accept it and answer its text."""
    seen = []

    def accept(dialog):
        seen.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    press()
    page.wait_for_load_state()
    assert len(seen) == 1
    return seen[0]


def _won(words, amount):
    return words["won"].format(f"{amount:,}")


def test_the_payments_page_at_1280(walk):
    lang, words, page = walk
    merchant, owner, long_one, _vbank = _world()
    _log_in(page, words, owner)
    page.goto(f"/m/{merchant.code}/payments/")
    table = page.locator("main table")
    expect(table.locator("tbody tr")).to_have_count(4)
    # Amount and Status in view, beside a 168-character name and an 80-character merchant_uid.
    widths = page.evaluate("() => [...document.querySelectorAll('main thead th')].map(th => "
                           "[th.textContent.trim(), Math.round(th.getBoundingClientRect().right)])")
    for header in (words["amount"], words["status"]):
        box = table.get_by_role("columnheader", name=header, exact=True).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, (header, widths)
    assert page.evaluate("() => { const w = document.querySelector('main .table-responsive');"
                         " return w.scrollWidth <= w.clientWidth; }")
    long_cell = table.get_by_title(LONG_NAME)  # cut, the whole value on hover
    expect(long_cell).to_be_visible()
    assert long_cell.bounding_box()["width"] < 300
    _shot(page, f"payments_{lang}.png")

    # The totals against the rows: paid 10,000 + 5,000 + 50,000; nothing cancelled yet.
    paid = sum(p.amount for p in Payment.objects.filter(merchant=merchant, paid_at__isnull=False))
    assert paid == 65_000
    expect(page.locator("[data-total=paid]")).to_have_text(_won(words, paid))
    expect(page.locator("[data-total=cancelled]")).to_have_text(_won(words, 0))
    expect(page.locator("[data-total=net]")).to_have_text(_won(words, paid))

    # Live only: the one live payment, and the totals follow.
    page.get_by_label(words["mode"], exact=True).select_option(label=words["live"])
    page.get_by_role("button", name=words["filter"], exact=True).click()
    page.wait_for_load_state()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page.locator("[data-total=paid]")).to_have_text(_won(words, 5_000))
    expect(page.locator("[data-total=net]")).to_have_text(_won(words, 5_000))


def test_detail_cancel_in_part_and_the_audit_row(walk):
    lang, words, page = walk
    merchant, owner, long_one, _vbank = _world()
    _log_in(page, words, owner)
    page.goto(f"/m/{merchant.code}/payments/{long_one.imp_uid}/")
    main = page.locator("main")
    def value_of(label):
        return main.locator("dt", has_text=label).locator("xpath=following-sibling::dd[1]")

    expect(value_of(words["card_type"])).to_have_text(words["credit"])  # not "0"
    expect(value_of(words["quota"])).to_have_text(words["lump"])  # not "0"
    expect(main.get_by_text("941000******0000", exact=True)).to_be_visible()
    _shot(page, f"payment_detail_{lang}.png")

    page.get_by_label(words["cancel_amount"]).fill("3000")
    text = _confirm_text(page, lambda: page.get_by_role("button", name=words["cancel"], exact=True).click())
    assert "3,000" in text and "7,000" in text and words["stays"] in text
    expect(page.locator("[data-total]")).to_have_count(0)  # still the detail page
    payment = Payment.objects.get(pk=long_one.pk)
    assert payment.status == "paid" and payment.cancel_amount == 3_000

    # The rest, all of it: the confirmation says so, with the amount.
    text = _confirm_text(page, lambda: page.get_by_role("button", name=words["cancel"], exact=True).click())
    assert words["nothing_left"] in text and _won(words, 7_000) in text
    assert Payment.objects.get(pk=long_one.pk).status == "cancelled"

    page.goto(f"/m/{merchant.code}/audit/")
    rows = page.locator("main table tbody")
    expect(rows.get_by_text(words["cancelled_now"]).first).to_be_visible()
    expect(rows.get_by_text(words["left"]).first).to_be_visible()
    body = rows.inner_text()
    assert "10,000 → 7,000" in body and "7,000 → 0" in body
    assert words["paid_paid"] not in body and "paid → paid" not in body
    assert "cancel_amount" not in body and "cancelled_now" not in body
    _shot(page, f"audit_cancel_{lang}.png")


def test_a_paid_virtual_account_asks_for_the_refund_account(walk):
    lang, words, page = walk
    merchant, owner, _long, vbank = _world()
    _log_in(page, words, owner)
    page.goto(f"/m/{merchant.code}/payments/{vbank.imp_uid}/")
    expect(page.get_by_role("group", name=words["refund"])).to_be_visible()
    page.get_by_label(words["holder"], exact=True).fill("Kim Minsu")
    page.get_by_label(words["bank"], exact=True).select_option("088")
    page.get_by_label(words["number"], exact=True).fill("110-123-456789")
    _shot(page, f"payment_vbank_refund_{lang}.png")
    text = _confirm_text(page, lambda: page.get_by_role("button", name=words["cancel"], exact=True).click())
    assert _won(words, 50_000) in text
    assert Payment.objects.get(pk=vbank.pk).status == "cancelled"
    page.goto(f"/m/{merchant.code}/audit/")
    body = page.locator("main table tbody").inner_text()
    assert "088 · ********6789 · Kim Minsu" in body and "456789" not in body
