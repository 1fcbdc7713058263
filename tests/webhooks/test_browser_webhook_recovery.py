"""Recovery after a fix, as an operator walks it at 1280×800, in English and in Korean (issue 22,
items 1–5): Send test updates Recent deliveries in place; a test payment links to the payment;
its webhook fails at a wrong URL, the URL is fixed and Resend reaches the fixed one (the page
says where each attempt went, and links to the payment); a Retrying delivery is sent now, once
for a double click; the failed deliveries since a time are counted, confirmed and resent."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from console.tenancy.audit import Actor
from payments.models import Payment
from tests.browser import PageProblems
from tests.factories import TEST_PASSWORD, make_member, make_merchant
from tests.hooks import wait_final
from tests.payments.test_browser_sandbox_payment import ensure_shared_kcp
from tests.receiver import Receiver, Reply
from tests.worker import wait_until
from webhooks import services
from webhooks.models import Delivery

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {
        "email": "Email", "password": "Password", "log_in": "Log in", "webhooks": "Webhooks",
        "test_webhook": "Test webhook", "endpoint_url": "Endpoint URL", "save": "Save", "send_test": "Send test",
        "recent": "Recent deliveries", "nothing_yet": "Nothing sent yet.",
        "not_received": r"Not received: 404 in \d+ ms", "channels": "Channels",
        "try": "Try a test payment", "pay": "Pay", "approve": "Approve", "callback": "Callback response",
        "open_payment": "Open this payment", "delivery_log": "Delivery log",
        "redirect": "Redirect instead of popup", "payment": "Payment",
        "url_now": "The endpoint's URL is now {url}: the next attempt or a resend goes there.",
        "resend": "Resend", "resent_to": "Sent again with the same webhook-id, to the endpoint's URL: {url}",
        "attempt": "Attempt {n}", "sent_to": "Sent to", "send_now": "Send now",
        "next_attempt": "The next automatic attempt is at", "succeeded": "Succeeded",
        "recover_form": "Resend failed test deliveries", "since": "Resend failed deliveries since",
        "review": "Review…", "recover_title": "Resend failed deliveries",
        "recover_count": "3 payment notifications failed since", "recover_button": "Resend 3 deliveries",
        "recovered": "3 failed deliveries since", "english": None,
    },
    "ko": {
        "email": "이메일", "password": "비밀번호", "log_in": "로그인", "webhooks": "웹훅 관리",
        "test_webhook": "테스트 웹훅", "endpoint_url": "엔드포인트 URL", "save": "저장", "send_test": "호출 테스트",
        "recent": "최근 전송", "nothing_yet": "아직 전송한 내역이 없습니다.",
        "not_received": r"수신 실패: 404 \(\d+ ms 소요\)", "channels": "채널 관리",
        "try": "테스트 결제 해 보기", "pay": "결제하기", "approve": "승인", "callback": "콜백 응답",
        "open_payment": "이 결제 보기", "delivery_log": "전송 기록",
        "redirect": "팝업 대신 리다이렉트", "payment": "결제",
        "url_now": "엔드포인트 URL이 현재 {url}(으)로 바뀌었습니다. 다음 시도와 재전송은 이 URL로 보냅니다.",
        "resend": "재전송", "resent_to": "같은 webhook-id로 현재 엔드포인트 URL에 재전송했습니다: {url}",
        "attempt": "{n}번째 시도", "sent_to": "전송한 URL", "send_now": "지금 재전송",
        "next_attempt": "다음 자동 재시도는", "succeeded": "성공",
        "recover_form": "테스트 웹훅 실패 건 재전송", "since": "다음 시각 이후 실패한 웹훅 재전송",
        "review": "확인하기…", "recover_title": "실패한 웹훅 재전송",
        "recover_count": "이후 전송에 실패한 결제 알림이 3건 있습니다.", "recover_button": "3건 재전송",
        "recovered": "이후 실패한 3건을 재전송하고 있습니다.",
        # What must not be left in English on a Korean page.
        "english": re.compile(r"\b(Resend|Send now|Sent to|Attempt \d|Recent deliveries|Payment|Failed since|"
                              r"The endpoint|Review|failed since|being sent again)\b"),
    },
}


# A tablet in landscape (1280 px): the popup by default, and the redirect when the Try page asks
# for it, as PortOne's SDK goes to m_redirect_url only on a phone or a tablet (on a PC the callback runs).
TABLET_UA = ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/17.0 Mobile/15E148 Safari/604.1")


@pytest.fixture(params=["en", "ko"])
def walk(request, browser, live_server, settings, shared_worker):
    language = request.param
    settings.WEBHOOK_QUEUE = shared_worker.queue  # the session's (tests/worker.py, hooks.FAST)
    context = browser.new_context(base_url=live_server.url, locale="ko-KR" if language == "ko" else "en-US",
                                  extra_http_headers={"Accept-Language": language},
                                  viewport={"width": 1280, "height": 800}, user_agent=TABLET_UA)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = PageProblems(page)
    receiver = Receiver()
    yield page, WORDS[language], receiver
    receiver.close()
    context.close()


def _no_english(page, words):
    if words["english"]:
        text = page.locator("main").inner_text()
        assert not words["english"].search(text), words["english"].search(text)


def _save_url(page, words, url):
    page.get_by_role("link", name=words["webhooks"], exact=True).first.click()
    form = page.get_by_role("form", name=words["test_webhook"])
    form.get_by_label(words["endpoint_url"]).fill(url)
    form.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_role("form", name=words["test_webhook"]).get_by_label(words["endpoint_url"])).to_have_value(url)


def _open_delivery(page, words, delivery):
    page.get_by_role("link", name=words["webhooks"], exact=True).first.click()
    page.get_by_role("link", name=words["delivery_log"]).first.click()
    page.get_by_role("link", name=delivery.message_id).click()


def _attempts(delivery, n):
    wait_until(lambda: Delivery.objects.filter(pk=delivery.pk, attempt_count__gte=n, locked_until=None).exists())


def test_recovery_after_a_fix(walk):
    page, words, receiver = walk
    ensure_shared_kcp()
    merchant = make_merchant("Corner Shop")
    operator = make_member(merchant, "developer")
    broken, fixed = receiver.url("/broken"), receiver.url("/fixed")
    receiver.script("/broken", [Reply(404, b"no such hook")])
    receiver.script("/fixed", [Reply(200, b"ok")])

    page.goto("/accounts/login/")
    page.get_by_label(words["email"]).fill(operator.email)
    page.get_by_label(words["password"]).fill(TEST_PASSWORD)
    page.get_by_role("button", name=words["log_in"]).click()
    _save_url(page, words, broken)

    # 5. Send test: Recent deliveries shows it in place, without a reload.
    recent = page.get_by_role("region", name=words["recent"])
    expect(recent).to_contain_text(words["nothing_yet"])
    page.evaluate("window.__noReload = true")
    page.get_by_role("form", name=words["test_webhook"]).get_by_role("button", name=words["send_test"]).click()
    expect(page.locator("#test-result-test").get_by_role("status")).to_contain_text(
        re.compile(words["not_received"]), timeout=20_000)
    test_delivery = Delivery.objects.get(trigger="test")
    expect(recent.get_by_role("link", name=test_delivery.message_id)).to_be_visible()
    expect(recent).not_to_contain_text(words["nothing_yet"])
    assert page.evaluate("window.__noReload") is True
    _no_english(page, words)

    # 4. Try a test payment: the result links to the payment.
    page.get_by_role("link", name=words["channels"], exact=True).click()
    page.locator("article", has_text="NHN KCP").get_by_role("link", name=words["try"]).first.click()
    page.get_by_role("button", name=words["pay"]).click()
    page.frame_locator("iframe[title='Payment window']").get_by_role("button", name=words["approve"]).click()
    expect(page.get_by_role("status", name=words["callback"])).to_contain_text('"success": true')
    payment = Payment.objects.get(merchant=merchant)
    link = page.get_by_role("link", name=words["open_payment"])
    expect(link).to_be_in_viewport()  # above the long rsp, on screen at 1280×800
    link.click()
    page.wait_for_url(f"**/m/{merchant.code}/payments/{payment.imp_uid}/")
    expect(page.locator("main")).to_contain_text(payment.imp_uid)

    # 1. The payment's webhook failed at the wrong URL; the URL is fixed; Resend reaches it.
    event = wait_final(Delivery.objects.get(trigger="event"))
    assert event.status == "failed" and event.imp_uid == payment.imp_uid
    _save_url(page, words, fixed)
    _open_delivery(page, words, event)
    expect(page.get_by_text(words["url_now"].format(url=fixed))).to_be_visible()
    page.get_by_role("button", name=words["resend"], exact=True).click()
    expect(page.get_by_text(words["resent_to"].format(url=fixed))).to_be_visible()
    _attempts(event, 2)
    page.reload()
    first = page.get_by_role("region", name=words["attempt"].format(n=1))
    second = page.get_by_role("region", name=words["attempt"].format(n=2))
    expect(first).to_contain_text(f"{words['sent_to']} {broken}")
    expect(second).to_contain_text(f"{words['sent_to']} {fixed}")
    expect(page.get_by_text(words["url_now"].format(url=fixed))).to_have_count(0)  # it went there
    _no_english(page, words)
    page.get_by_role("link", name=payment.imp_uid).click()  # the delivery links to its payment
    page.wait_for_url(f"**/m/{merchant.code}/payments/{payment.imp_uid}/")

    # 2. A Retrying delivery (the receiver asked for an hour): Send now, double-clicked, sends once.
    receiver.script("/later", [Reply(503, b"later", {"Retry-After": "3600"}), Reply(200, b"ok")])
    _save_url(page, words, receiver.url("/later"))
    retrying = services.notify_event(merchant=merchant, mode="test", imp_uid=payment.imp_uid,
                                     merchant_uid=payment.merchant_uid, status="paid")
    wait_until(lambda: Delivery.objects.filter(pk=retrying.pk, status="retrying", attempt_count=1,
                                               locked_until=None).exists())
    _open_delivery(page, words, retrying)
    expect(page.get_by_text(words["next_attempt"])).to_be_visible()
    page.get_by_role("button", name=words["send_now"]).dblclick()
    page.wait_for_load_state()
    assert wait_final(retrying).status == "succeeded"
    page.wait_for_timeout(2000)  # the beat runs every half second: nothing more goes out
    assert len([r for r in receiver.requests if r.path == "/later"]) == 2
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text(words["succeeded"])
    expect(page.get_by_role("region", name=words["attempt"].format(n=2))).to_be_visible()
    _no_english(page, words)

    # 3. Three notifications failed at a wrong URL; fixed; the failed ones since then are resent.
    receiver.script("/down", [Reply(404, b"wrong path")])
    receiver.script("/up", [Reply(200, b"ok")])
    _save_url(page, words, receiver.url("/down"))
    failed = [services.notify_event(merchant=merchant, mode="test", imp_uid=payment.imp_uid,
                                    merchant_uid=payment.merchant_uid, status="paid") for _ in range(3)]
    for delivery in failed:
        assert wait_final(delivery).status == "failed"
    _save_url(page, words, receiver.url("/up"))
    recover = page.get_by_role("form", name=words["recover_form"])
    since = timezone.localtime() - timedelta(minutes=30)
    recover.get_by_label(words["since"]).fill(since.strftime("%Y-%m-%dT%H:%M"))
    recover.get_by_role("button", name=words["review"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["recover_title"])
    expect(page.get_by_role("alert")).to_contain_text(words["recover_count"])
    _no_english(page, words)
    assert not [r for r in receiver.requests if r.path == "/up"]  # nothing is sent before the confirmation
    page.get_by_role("button", name=words["recover_button"]).click()
    expect(page.get_by_text(words["recovered"])).to_be_visible()
    got = receiver.wait_for(3, "/up")
    assert sorted(r.headers["webhook-id"] for r in got) == sorted(d.message_id for d in failed)
    for delivery in failed:
        assert wait_final(delivery).status == "succeeded"

    # 4 again: back from the window by redirect (m_redirect_url), the payment is linked too.
    page.get_by_role("link", name=words["channels"], exact=True).click()
    page.locator("article", has_text="NHN KCP").get_by_role("link", name=words["try"]).first.click()
    page.get_by_label(words["redirect"]).check()
    page.get_by_role("button", name=words["pay"]).click()
    page.get_by_role("button", name=words["approve"]).click()
    page.wait_for_url("**/try/?**")
    second = Payment.objects.exclude(pk=payment.pk).get(merchant=merchant)
    page.get_by_role("link", name=words["open_payment"]).click()
    page.wait_for_url(f"**/m/{merchant.code}/payments/{second.imp_uid}/")
    assert page.problems.errors == []


def test_recover_words_stay_on_the_page(walk):
    """The confirmation fits 1280 px: its button is on screen without scrolling sideways."""
    page, words, receiver = walk
    merchant = make_merchant("Wide")
    operator = make_member(merchant, "developer")
    services.endpoint_save(actor=Actor(), merchant=merchant, mode="test", url=receiver.url("/x"),
                           content_type="json", version="v1")
    page.goto("/accounts/login/")
    page.get_by_label(words["email"]).fill(operator.email)
    page.get_by_label(words["password"]).fill(TEST_PASSWORD)
    page.get_by_role("button", name=words["log_in"]).click()
    page.get_by_role("link", name=words["webhooks"], exact=True).first.click()
    page.get_by_role("form", name=words["recover_form"]).get_by_role("button", name=words["review"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["recover_title"])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _no_english(page, words)
