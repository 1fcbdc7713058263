"""An operator walks the console shell in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from ops.demo import seed_demo
from tests.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"


@pytest.fixture
def demo(db):
    return seed_demo(password=PASSWORD)


def test_log_in_switch_merchant_and_language_then_log_out(page, demo):
    agency, seoul = demo.agency, demo.sub_merchants[0]

    log_in(page, "owner@demo.test", PASSWORD)
    expect(page).to_have_url(re.compile(rf"/m/{agency.code}/$"))
    expect(page.get_by_role("heading", name=agency.name, level=1)).to_be_visible()
    expect(page.locator("#merchant-code")).to_have_value(agency.code)

    # Switch to the sub-merchant through the switcher.
    page.get_by_role("button", name="Switch merchant").click()
    page.get_by_role("list", name="Merchants").get_by_role("link", name=re.compile(seoul.name)).click()
    expect(page).to_have_url(re.compile(rf"/m/{seoul.code}/$"))
    expect(page.get_by_text(f"Tier code {seoul.tier_code}")).to_be_visible()

    # ... and back to the agency.
    page.get_by_role("button", name="Switch merchant").click()
    page.get_by_role("list", name="Merchants").get_by_role("link", name=re.compile(agency.name)).click()
    expect(page).to_have_url(re.compile(rf"/m/{agency.code}/$"))

    # Korean, then English again.
    page.get_by_role("button", name="한국어").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("link", name="개요")).to_be_visible()
    expect(page.get_by_role("heading", name="가맹점 식별코드")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Overview")).to_be_visible()

    # The copy button copies the merchant code.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").first.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == agency.code

    # The audit log shows what seeding did, newest first.
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name="membership.create").first).to_be_visible()

    # Log out.
    page.get_by_role("button", name="owner@demo.test").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(f"/m/{agency.code}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))

    assert page.problems.errors == []


def test_tier_manager_sees_only_its_sub_merchant(page, demo):
    seoul = demo.sub_merchants[0]
    log_in(page, "tier-manager@demo.test", PASSWORD)
    expect(page).to_have_url(re.compile(rf"/m/{seoul.code}/$"))
    page.get_by_role("button", name="Switch merchant").click()
    expect(page.get_by_role("list", name="Merchants").get_by_role("link")).to_have_count(1)
    # A sub-merchant Manager reads its own sub-merchant's trail (issue 12's role table).
    expect(page.get_by_role("link", name="Audit log")).to_have_count(1)
    assert page.problems.errors == []
    response = page.goto(f"/m/{demo.agency.code}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_bad_login_then_lockout_in_the_browser(page, demo, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(page, "viewer@demo.test", "wrong password")
        expect(page.get_by_text("The email address or password is incorrect.")).to_be_visible()
    log_in(page, "viewer@demo.test", "wrong password")  # the attempt that reaches the limit
    expect(page.get_by_role("heading", name="Too many failed logins")).to_be_visible()
    log_in(page, "viewer@demo.test", PASSWORD)  # even the right password waits now
    expect(page.get_by_role("heading", name="Too many failed logins")).to_be_visible()
