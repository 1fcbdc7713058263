"""Remake the screenshots in docs/screenshots/ from a running console (Debian's Chromium, no
download): every console page, 1280 px wide, the whole page, in English and in Korean.

    make run                                   # in another terminal (or PORT=8013 make run)
    .venv/bin/python scripts/screenshot.py [http://127.0.0.1:8000] [docs/screenshots]

The password is DEMO_PASSWORD, else the one `seed_demo` kept in var/demo-password (what
`make run` seeds); the login DEMO_EMAIL, else owner@demo.test. Each page is saved as
<page>-<lang>.png: overview, payments, payment-detail, billing-keys, schedules, channels,
webhooks, webhook-delivery, api-keys, whitelist, accounts, sub-merchants, audit-log.

A fresh demo has no payment yet: the first run makes some the way a merchant's server does,
through the REST API with an API key it creates ("Screenshots …"): a key-in payment that stores
a billing key, and two scheduled payments. Their webhook goes to a receiver this script runs on
loopback (which `make run`'s local settings allow), set as the test webhook's URL when it has
none, so that a delivery is there to show; once the script ends, that URL answers no more
(change it on the Webhooks page). A later run finds the payments and only takes pictures.
Korean needs a CJK font on the machine (Debian: fonts-noto-cjk).
"""

import json
import os
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH, HEIGHT = 1280, 800
# name: the path under /m/<merchant code>/; None: found by following a link (see FOLLOW).
PAGES = {
    "overview": "",
    "payments": "payments/",
    "payment-detail": None,
    "billing-keys": "billing-keys/",
    "schedules": "schedules/",
    "channels": "channels/",
    "webhooks": "webhooks/",
    "webhook-delivery": None,
    "api-keys": "api-keys/",
    "whitelist": "whitelist/",
    "accounts": "accounts/",
    "sub-merchants": "sub-merchants/",
    "audit-log": "audit/",
}
# A page reached from a list: the list's path and the CSS of the first link to follow.
FOLLOW = {
    "payment-detail": ("payments/", "main table a[href*='/payments/imp_']"),
    "webhook-delivery": ("webhooks/deliveries/", "main table a[href*='/webhooks/deliveries/']"),
}
TEST_CARD = "9410-0000-7000-0000"  # the sandbox approves it
KEY_PG = "ksnet.2999199990"  # a shared test MID for the key-in and subscription APIs


def password() -> str:
    if os.environ.get("DEMO_PASSWORD"):
        return os.environ["DEMO_PASSWORD"]
    kept = Path(os.environ.get("PGCONSOLE_VAR_DIR", ROOT / "var")) / "demo-password"
    if kept.exists():
        return kept.read_text().strip()
    sys.exit("Set DEMO_PASSWORD (the demo's password): var/demo-password is not there.")


def log_in(page, email: str, secret: str) -> str:
    """Log in and return the merchant code the console opened."""
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(secret)
    page.locator("button.btn-primary[type=submit]").click()
    page.wait_for_url("**/m/**")
    return page.url.split("/m/", 1)[1].split("/", 1)[0]


def rest(base: str, path: str, body: dict, token: str | None = None) -> dict:
    """One call of the i'mport REST API, as a merchant's server makes it; its ``response``."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = token
    request = urllib.request.Request(base.rstrip("/") + path, data=json.dumps(body).encode(), headers=headers,
                                     method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        envelope = json.load(answer)
    if envelope.get("code") != 0:
        raise SystemExit(f"{path}: {envelope.get('message')}")
    return envelope["response"]


class Receiver(BaseHTTPRequestHandler):
    """A merchant's webhook endpoint that takes every notification (200)."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args):
        pass


def make_sandbox_data(page, base: str, merchant: str, webhook_url: str) -> None:
    """Payments, a billing key, schedules and a webhook delivery, when the demo has none."""
    page.goto(f"/m/{merchant}/payments/")
    if page.locator(FOLLOW["payment-detail"][1]).count():
        return
    print("The demo has no payment yet: making some through the REST API.")
    # The test webhook, so that the payment is notified (and fails to arrive, on the record).
    page.goto(f"/m/{merchant}/webhooks/")
    test_form = page.locator("#endpoint-test form").first
    url = test_form.locator("input[name$=url]")
    if url.count() and not url.input_value():
        url.fill(webhook_url)
        test_form.locator("button[type=submit]").first.click()
        page.wait_for_load_state()
    # An API key: its secret is shown once, on the page after Create.
    page.goto(f"/m/{merchant}/api-keys/")
    create = page.locator("form[method=post]:has(input[name=name])")
    create.locator("input[name=name]").fill(f"Screenshots {time.strftime('%Y-%m-%d %H:%M')}")
    create.locator("button[type=submit]").click()
    page.wait_for_load_state()
    imp_key = page.locator(".alert input[aria-label=imp_key]").input_value()
    imp_secret = page.locator(".alert input[aria-label=imp_secret]").input_value()
    token = rest(base, "/users/getToken", {"imp_key": imp_key, "imp_secret": imp_secret})["access_token"]
    stamp = time.strftime("%Y%m%d%H%M%S")
    rest(base, "/subscribe/payments/onetime", {
        "merchant_uid": f"order-{stamp}", "amount": 12900, "name": "Blue mug", "pg": KEY_PG,
        "card_number": TEST_CARD, "expiry": "2030-12", "birth": "900101", "customer_uid": "gildong_0001",
        "buyer_name": "Hong Gildong", "buyer_email": "gildong@example.test"}, token)
    at = int(time.time()) + 86_400
    rest(base, "/subscribe/payments/schedule", {"customer_uid": "gildong_0001", "schedules": [
        {"merchant_uid": f"plan-{stamp}-{n}", "schedule_at": at + n * 30 * 86_400, "amount": 9900,
         "name": "Monthly plan"} for n in (1, 2)]}, token)
    page.goto(f"/m/{merchant}/webhooks/deliveries/")
    for _ in range(30):  # until the worker has sent the payment's webhook
        if page.locator(FOLLOW["webhook-delivery"][1]).count():
            break
        time.sleep(1)
        page.reload()


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else ROOT / "docs" / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    email, secret = os.environ.get("DEMO_EMAIL", "owner@demo.test"), password()
    missing = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    webhook_url = f"http://127.0.0.1:{receiver.server_address[1]}/portone-webhook"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for lang in ("en", "ko"):
            context = browser.new_context(base_url=base, viewport={"width": WIDTH, "height": HEIGHT},
                                          locale="ko-KR" if lang == "ko" else "en-US",
                                          extra_http_headers={"Accept-Language": lang})
            page = context.new_page()
            merchant = log_in(page, email, secret)
            if lang == "en":
                make_sandbox_data(page, base, merchant, webhook_url)
            for name, path in PAGES.items():
                if path is None:
                    listing, link = FOLLOW[name]
                    page.goto(f"/m/{merchant}/{listing}")
                    found = page.locator(link).first
                    if not found.count():
                        missing.append(f"{name}-{lang}")
                        continue
                    page.goto(found.get_attribute("href"))
                else:
                    page.goto(f"/m/{merchant}/{path}")
                page.wait_for_load_state("networkidle")
                target = out / f"{name}-{lang}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target)
            context.close()
        browser.close()
    receiver.shutdown()
    if missing:
        sys.exit("Not taken (nothing to link to): " + ", ".join(missing))


if __name__ == "__main__":
    main()
