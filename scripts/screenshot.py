"""Take the README's screenshot of a running console.

    make run   # in another terminal, with DEMO_PASSWORD set
    DEMO_PASSWORD=... .venv/bin/python scripts/screenshot.py [http://127.0.0.1:8000] [docs/screenshot.png]
"""

import os
import sys

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    out = sys.argv[2] if len(sys.argv) > 2 else "docs/screenshot.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 760})
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(os.environ.get("DEMO_EMAIL", "owner@demo.test"))
        page.get_by_label("Password").fill(os.environ["DEMO_PASSWORD"])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        page.get_by_role("button", name="Switch merchant").click()
        page.screenshot(path=out)
        browser.close()
    print(out)


if __name__ == "__main__":
    main()
