"""A test payment as a shop meets it: the shop's page, on another origin (a second loopback
server), loads the SDK from the console, calls IMP.init and IMP.request_pay on the shared test
channel ``kcp.T0000``; the buyer ends the window; the callback (or the redirect back) carries
the rsp; and the shop's server verifies it with a real i'mport REST client (iamporter) pointed
at the console."""

import json
import threading
from contextlib import nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from iamporter import Iamporter
from playwright.sync_api import expect

from api_keys.services import api_keys
from channels.models import SharedTestCredential
from console.tenancy.audit import Actor
from payments.models import Payment
from tests.browser import log_in
from tests.factories import TEST_PASSWORD, make_member, make_merchant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOP_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Corner Shop</title>
<script src="{console}/js/iamport.payment-1.2.0.js"></script>
<script src="/shop.js" defer></script></head>
<body><h1>Corner Shop</h1><button type="button" id="buy">Buy</button>
<pre id="rsp"></pre></body></html>
"""
SHOP_JS = """
document.getElementById("buy").addEventListener("click", function () {
  var setup = %(setup)s;
  if (setup.init) { IMP.init(setup.init); }
  IMP.request_pay(setup.params, function (rsp) {
    var out = document.getElementById("rsp");
    out.textContent = JSON.stringify(rsp);
    out.setAttribute("data-calls", String(Number(out.getAttribute("data-calls") || 0) + 1));
  });
});
"""


def ensure_shared_kcp():
    """The platform's shared KCP test MID (seeded by a migration; a transactional test's flush
    empties the table, so tests that need it make sure it is there)."""
    SharedTestCredential.objects.get_or_create(
        provider="kcp", module="window_general", mid="T0000", defaults={"pg_provider": "kcp"})


class Shop:
    """The merchant's web server: its order page, its script, and the page it is sent back to."""

    def __init__(self, console_url: str):
        self.console_url = console_url
        self.setup: dict = {}
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                path = urlsplit(self.path).path
                if path == "/":
                    self._send("text/html", SHOP_HTML.format(console=shop.console_url))
                elif path == "/shop.js":
                    self._send("text/javascript", SHOP_JS % {"setup": json.dumps(shop.setup)})
                elif path == "/done":
                    self._send("text/html", "<!doctype html><title>Back at the shop</title><h1>Back</h1>")
                else:
                    self.send_response(204)
                    self.end_headers()

            def _send(self, content_type, text):
                body = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop(live_server):
    server = Shop(live_server.url)
    yield server
    server.close()


@pytest.fixture
def merchant(db):
    ensure_shared_kcp()
    return make_merchant("Corner Shop")


@pytest.fixture
def order_server(merchant, live_server):
    """The shop's server side: the i'mport REST client with the merchant's API key."""
    issued = api_keys.api_key_create(actor=Actor(), merchant=merchant, name="order server")
    return Iamporter(imp_key=issued.api_key.key, imp_secret=issued.secret, imp_url=live_server.url + "/")


def order(merchant, shop, **params):
    shop.setup = {"init": merchant.code, "params": {
        "pg": "kcp.T0000", "pay_method": "card", "merchant_uid": params.pop("merchant_uid", "order-1"),
        "amount": 1000, "name": "Blue mug", "buyer_name": "Hong Gildong",
        "buyer_email": "gildong@example.test", "custom_data": {"cart": [7, 8]}, **params}}


def buy(page, shop):
    page.goto(shop.url + "/")
    page.get_by_role("button", name="Buy").click()
    return page.frame_locator("iframe[title='Payment window']")


def callback_rsp(page) -> dict:
    out = page.locator("#rsp")
    expect(out).not_to_be_empty()
    expect(page.locator("iframe[title='Payment window']")).to_have_count(0)  # the modal is gone
    assert out.get_attribute("data-calls") == "1"
    return json.loads(out.text_content())


def test_approve_in_the_modal_and_verify_on_the_server(page, shop, merchant, order_server):
    order(merchant, shop)
    window = buy(page, shop)
    expect(window.get_by_text("no money moves, no card data is asked")).to_be_visible()
    expect(window.get_by_text("1,000 won")).to_be_visible()
    window.get_by_role("button", name="Approve").dblclick()
    rsp = callback_rsp(page)
    assert rsp["success"] is True and rsp["imp_success"] is True
    assert rsp["imp_uid"].startswith("imp_") and rsp["merchant_uid"] == "order-1"
    assert json.loads(rsp["custom_data"]) == {"cart": [7, 8]}
    assert page.problems.errors == []

    verified = order_server.find_payment(imp_uid=rsp["imp_uid"])
    assert verified["status"] == "paid" and verified["amount"] == 1000
    assert verified["merchant_uid"] == "order-1" and verified["pg_provider"] == "kcp"
    assert Payment.objects.filter(merchant=merchant).count() == 1


MOBILE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


@pytest.fixture
def phone(browser, live_server):
    """A page on a phone: PortOne's SDK goes to m_redirect_url there (on a PC the callback runs)."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844},
                                  user_agent=MOBILE_UA, is_mobile=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_redirect_mode_comes_back_with_the_query(phone, shop, merchant, order_server):
    page = phone
    order(merchant, shop, m_redirect_url=f"{shop.url}/done")
    page.goto(shop.url + "/")
    page.get_by_role("button", name="Buy").click()
    page.wait_for_url("**/sandbox/pay/")  # the whole page went to the console's window
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{shop.url}/done?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["imp_success"] == ["true"] and query["merchant_uid"] == ["order-1"]
    verified = order_server.find_payment(imp_uid=query["imp_uid"][0])
    assert verified["status"] == "paid"


def test_a_chosen_failure_reaches_the_callback(page, shop, merchant, order_server):
    order(merchant, shop)
    window = buy(page, shop)
    window.get_by_label("PG error", exact=True).select_option("F1005")
    window.get_by_role("button", name="Fail with this error").click()
    rsp = callback_rsp(page)
    assert rsp["success"] is False and rsp["error_code"] == "F1005"
    assert rsp["error_msg"] == "카드사 승인 거절: 비밀번호 오류"  # stored in Korean
    assert order_server.find_payment(imp_uid=rsp["imp_uid"])["status"] == "failed"


def test_closing_the_window_is_a_failure_with_a_message(page, shop, merchant):
    order(merchant, shop)
    window = buy(page, shop)
    window.get_by_role("button", name="Close (the buyer cancels)").click()
    rsp = callback_rsp(page)
    assert rsp["success"] is False and rsp["error_msg"]
    assert Payment.objects.get(imp_uid=rsp["imp_uid"]).status == "failed"


def test_a_virtual_account_is_issued(page, shop, merchant, order_server):
    order(merchant, shop, pay_method="vbank")
    window = buy(page, shop)
    expect(window.get_by_role("button", name="Approve")).to_have_count(0)
    window.get_by_label("Bank").select_option(label="Shinhan Bank")
    window.get_by_role("button", name="Issue virtual account").click()
    rsp = callback_rsp(page)
    assert rsp["success"] is True and rsp["status"] == "ready" and rsp["vbank_num"]
    verified = order_server.find_payment(imp_uid=rsp["imp_uid"])
    assert verified["status"] == "ready" and verified["vbank_name"] == "신한은행"
    assert verified["vbank_num"] == rsp["vbank_num"] and verified["vbank_date"] > 0


def test_bad_params_call_back_at_once(page, shop, merchant):
    shop.setup = {"init": None, "params": {"pg": "kcp.T0000", "merchant_uid": "order-1", "amount": 1000}}
    page.goto(shop.url + "/")
    page.get_by_role("button", name="Buy").click()
    rsp = callback_rsp(page)
    assert rsp["success"] is False and rsp["error_code"] == "F400" and "IMP.init" in rsp["error_msg"]

    order(merchant, shop, amount="ten")  # a string of digits is an amount (i'mport's), this is not
    page.goto(shop.url + "/")
    page.get_by_role("button", name="Buy").click()
    assert callback_rsp(page)["error_code"] == "F400"

    order(merchant, shop, amount=-5)  # refused before anything opens
    page.goto(shop.url + "/")
    page.get_by_role("button", name="Buy").click()
    assert callback_rsp(page)["error_code"] == "F400"
    assert not Payment.objects.exists()


def test_a_refusal_by_the_console_reaches_the_callback(page, shop, merchant):
    order(merchant, shop, pg="nowhere.X1")
    buy(page, shop)
    rsp = callback_rsp(page)
    assert rsp["success"] is False and rsp["error_code"] == "F400" and "nowhere.X1" in rsp["error_msg"]


def test_try_a_test_payment_from_the_channels_page(page, merchant):
    operator = make_member(merchant, "developer")
    log_in(page, operator.email, TEST_PASSWORD)
    page.goto(f"/m/{merchant.code}/channels/")
    page.locator("article", has_text="NHN KCP").get_by_role("link", name="Try a test payment").first.click()
    page.get_by_label("Amount (won)").fill("2500")
    page.get_by_role("button", name="Pay").click()
    page.frame_locator("iframe[title='Payment window']").get_by_role("button", name="Approve").click()
    result = page.get_by_role("status", name="Callback response")
    expect(result).to_contain_text('"success": true')
    expect(result).to_contain_text('"paid_amount": 2500')
    assert page.problems.errors == []

    # m_redirect_url is for a phone: on a PC the popup opens and the callback runs, as at PortOne
    # (the redirect itself: test_redirect_mode_comes_back_with_the_query, on a phone).
    page.get_by_label("Redirect instead of popup").check()
    page.get_by_role("button", name="Pay").click()
    page.frame_locator("iframe[title='Payment window']").get_by_role("button", name="Approve").click()
    expect(result).to_contain_text('"success": true')
    assert "/try/?" not in page.url


@pytest.mark.worker
def test_the_whole_loop_pay_verify_and_receive_the_signed_webhook_then_a_vbank_deposited(
        page, shop, merchant, order_server, settings, shared_worker):
    """The integration loop as a developer runs it: the shop's page pays on kcp.T0000, its
    server verifies the payment through an i'mport client, and the signed webhook for the same
    imp_uid reaches its receiver, sent by a real worker; then a virtual account is issued in
    the window and deposited from the console's Payments page, and the webhook says paid."""
    from standardwebhooks import Webhook

    from tests.hooks import secret_of
    from tests.receiver import Receiver, Reply
    from webhooks.services import endpoint_save

    receiver = Receiver()
    receiver.script("/hook", [Reply(200, b"ok")] * 10)
    endpoint = endpoint_save(actor=Actor(), merchant=merchant, mode="test", url=receiver.url("/hook"),
                             content_type="json", version="v1")
    try:
        with nullcontext(shared_worker) as worker:  # the session's (tests/worker.py)
            settings.WEBHOOK_QUEUE = worker.queue

            order(merchant, shop, merchant_uid="loop-1")
            buy(page, shop).get_by_role("button", name="Approve").click()
            rsp = callback_rsp(page)
            verified = order_server.find_payment(imp_uid=rsp["imp_uid"])
            assert (verified["status"], verified["amount"]) == ("paid", 1000)

            hook = receiver.wait_for(1, "/hook")[0]
            headers = {k.lower(): v for k, v in hook.headers.items()}
            body = Webhook(secret_of(endpoint)).verify(hook.body, headers)  # raises if unsigned
            assert body == {"imp_uid": rsp["imp_uid"], "merchant_uid": "loop-1", "status": "paid"}

            # A virtual account: issued in the window (webhook "ready"), deposited in the console.
            order(merchant, shop, merchant_uid="loop-2", pay_method="vbank")
            window = buy(page, shop)
            window.get_by_label("Bank").select_option(label="Shinhan Bank")
            window.get_by_role("button", name="Issue virtual account").click()
            issued = callback_rsp(page)
            assert issued["success"] is True and issued["vbank_num"]
            ready = Webhook(secret_of(endpoint)).verify(receiver.wait_for(2, "/hook")[1].body,
                                                        {k.lower(): v for k, v in
                                                         receiver.requests[1].headers.items()})
            assert ready == {"imp_uid": issued["imp_uid"], "merchant_uid": "loop-2", "status": "ready"}

            owner = make_member(merchant, "owner")
            log_in(page, owner.email, TEST_PASSWORD)
            page.goto(f"/m/{merchant.code}/payments/{issued['imp_uid']}/")
            page.once("dialog", lambda dialog: dialog.accept())  # the confirmation
            page.get_by_role("button", name="Deposit").click()
            expect(page.get_by_text("Deposit received: the payment is paid.")).to_be_visible()
            deposited = receiver.wait_for(3, "/hook")[2]
            paid = Webhook(secret_of(endpoint)).verify(deposited.body, {k.lower(): v for k, v in
                                                                        deposited.headers.items()})
            assert paid == {"imp_uid": issued["imp_uid"], "merchant_uid": "loop-2", "status": "paid"}
            assert order_server.find_payment(imp_uid=issued["imp_uid"])["status"] == "paid"
    finally:
        receiver.close()
