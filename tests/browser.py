"""Playwright for Python driving Debian's Chromium (never a downloaded browser): one browser
for the browser tests of a session (of each xdist worker), which run together; each test
gets its own context (cookies, storage) in it."""

import os
from contextlib import contextmanager

import pytest

from .services import CHROMIUM, Shared, need

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def _chromium():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which
    # Django would otherwise take for async code calling the ORM.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


BROWSER = Shared(_chromium)


@pytest.fixture(scope="session")
def _browser_slot():
    yield BROWSER
    BROWSER.stop()


@pytest.fixture
def browser(_browser_slot):
    need(os.path.exists(CHROMIUM), f"Chromium at {CHROMIUM}")
    return _browser_slot.get()


class PageProblems:
    """Collects script errors and CSP violations, so a test can assert there were none."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: self.errors.append(f"console: {msg.text}")
            if msg.type == "error" or "Content Security Policy" in msg.text
            else None,
        )


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = PageProblems(page)
    yield page
    context.close()


def log_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def wait_htmx_idle(page) -> None:
    """Wait until htmx has no request in flight and has settled its last swap (new content
    is wired up only after settling; a real person is never that fast, a test is)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping, .htmx-added')"
    )
