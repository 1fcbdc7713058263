"""An operator points the test webhook at a local receiver, sends a test and resends it."""

import re
from contextlib import nullcontext

import pytest
from playwright.sync_api import expect

from ops.demo import seed_demo
from tests.browser import log_in
from tests.receiver import Receiver, Reply
from webhooks.models import Delivery

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"


def test_send_test_shows_the_answer_in_place_then_resend_from_the_log(page, settings, shared_worker):
    seed_demo(password=PASSWORD)
    receiver = Receiver()
    receiver.script("/hook", [Reply(200, b'{"ok": true, "from": "local receiver"}')])
    try:
        with nullcontext(shared_worker) as worker:  # the session's (tests/worker.py)
            settings.WEBHOOK_QUEUE = worker.queue

            log_in(page, "developer@demo.test", PASSWORD)
            page.get_by_role("link", name="Webhooks").click()
            form = page.get_by_role("form", name="Test webhook")
            form.get_by_label("Endpoint URL").fill(receiver.url("/hook"))
            form.get_by_label("Content type").select_option(label="application/json")
            form.get_by_label("Payload version").select_option(value="v1")
            form.get_by_role("button", name="Save").click()
            expect(page.get_by_text("Webhook settings saved (Test).")).to_be_visible()

            page.evaluate("window.__noReload = true")
            page.get_by_role("form", name="Test webhook").get_by_role("button", name="Send test").click()
            result = page.locator("#test-result-test").get_by_role("status")
            expect(result).to_contain_text(re.compile(r"Received: 200 in \d+ ms"), timeout=20_000)
            expect(result).to_contain_text('"from": "local receiver"')
            assert page.evaluate("window.__noReload") is True  # the answer came without a reload
            first = receiver.wait_for(1, "/hook")[0]

            page.get_by_role("link", name="Delivery log").first.click()
            delivery = Delivery.objects.get()
            page.get_by_role("link", name=delivery.message_id).click()
            expect(page.get_by_text("Attempt 1")).to_be_visible()
            page.get_by_role("button", name="Resend").click()
            expect(page.get_by_text(f"Sent again with the same webhook-id, to the endpoint's URL: {receiver.url('/hook')}")).to_be_visible()
            second = receiver.wait_for(2, "/hook")[1]
            assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
            for _ in range(100):  # the worker records the attempt right after the answer
                delivery.refresh_from_db()
                if delivery.attempt_count == 2:
                    break
                page.wait_for_timeout(100)
            page.reload()
            expect(page.get_by_text("Attempt 2")).to_be_visible(timeout=10_000)
            assert page.problems.errors == []
    finally:
        receiver.close()
