"""Remake the README's screenshots from a running console (Debian's Chromium, no download).

    DEMO_PASSWORD=... make run      # in another terminal
    DEMO_PASSWORD=... .venv/bin/python scripts/screenshot.py [http://127.0.0.1:8000] [docs/screenshots]

Logs in as the demo owner and saves, in English and in Korean: the Channels page
(channels-en.png, channels-ko.png) and the Webhooks page (webhooks-en.png, webhooks-ko.png).
Korean needs a CJK font on the machine (Debian: fonts-noto-cjk).
"""

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = {"channels": "channels/", "webhooks": "webhooks/"}


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for lang in ("en", "ko"):
            context = browser.new_context(base_url=base, viewport={"width": 1366, "height": 900},
                                          locale=lang, extra_http_headers={"Accept-Language": lang})
            page = context.new_page()
            page.goto("/accounts/login/")
            page.locator("input[name=username]").fill(os.environ.get("DEMO_EMAIL", "owner@demo.test"))
            page.locator("input[name=password]").fill(os.environ["DEMO_PASSWORD"])
            page.locator("button.btn-primary[type=submit]").click()
            page.wait_for_url("**/m/**")
            merchant = page.url.split("/m/", 1)[1].split("/", 1)[0]
            for name, path in PAGES.items():
                page.goto(f"/m/{merchant}/{path}")
                page.wait_for_load_state("networkidle")
                target = out / f"{name}-{lang}.png"
                page.screenshot(path=str(target))
                print(target)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
