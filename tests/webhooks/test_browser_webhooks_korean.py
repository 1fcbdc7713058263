"""A Korean operator walks the Webhooks page in a real browser: a bad URL, then a receiver that
fails, and every message on the way is Korean (issue 13, definition of done)."""

import re
from contextlib import nullcontext

import pytest
from playwright.sync_api import expect

from ops.demo import seed_demo
from tests.receiver import Receiver, Reply
from tests.worker import wait_until
from webhooks.models import Delivery

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"
ENGLISH = re.compile(r"\b(Webhook settings saved|The URL|Not received|The receiver answered|Attempt \d)\b")


@pytest.fixture
def korean_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ko-KR",
                                  extra_http_headers={"Accept-Language": "ko"},
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_a_korean_walk_of_the_webhooks_page(korean_page, settings, shared_worker):
    page = korean_page
    seed_demo(password=PASSWORD)
    receiver = Receiver()
    receiver.script("/hook", [Reply(503, b"down for maintenance")] * 5)
    try:
        with nullcontext(shared_worker) as worker:  # the session's (tests/worker.py)
            settings.WEBHOOK_QUEUE = worker.queue

            page.goto("/accounts/login/")
            page.get_by_label("이메일").fill("developer@demo.test")
            page.get_by_label("비밀번호").fill(PASSWORD)
            page.get_by_role("button", name="로그인").click()
            page.get_by_role("link", name="웹훅 관리").click()

            # 1. A bad URL: the reason is Korean, nothing is saved.
            form = page.get_by_role("form", name="테스트 웹훅")
            form.get_by_label("엔드포인트 URL").fill("ftp://example.test/hook")
            form.get_by_role("button", name="저장").click()
            expect(page.get_by_text('URL의 스킴이 "ftp"입니다. 웹훅에는 http:// 또는 https://만 사용할 수 있습니다.')).to_be_visible()
            assert not ENGLISH.search(page.locator("main").inner_text())

            # 2. A receiver that fails: the result and the delivery's page are Korean.
            form = page.get_by_role("form", name="테스트 웹훅")
            form.get_by_label("엔드포인트 URL").fill(receiver.url("/hook"))
            form.get_by_role("button", name="저장").click()
            expect(page.get_by_text("웹훅 설정이 저장되었습니다")).to_be_visible()
            page.get_by_role("form", name="테스트 웹훅").get_by_role("button", name="호출 테스트").click()
            result = page.locator("#test-result-test").get_by_role("status")
            expect(result).to_contain_text(re.compile(r"수신 실패: 503 \(\d+ ms 소요\)"), timeout=20_000)
            assert not ENGLISH.search(result.inner_text())

            delivery = wait_until(lambda: Delivery.objects.filter(attempt_count__gte=1).first())
            page.goto(f"/m/{delivery.merchant.code}/webhooks/deliveries/{delivery.message_id}/")
            expect(page.get_by_text("1번째 시도")).to_be_visible()
            expect(page.get_by_text("수신 서버가 503 응답을 보냈습니다.")).to_be_visible()
            main = page.locator("main").inner_text()
            assert not ENGLISH.search(main), ENGLISH.search(main)
    finally:
        receiver.close()
