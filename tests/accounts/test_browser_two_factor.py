"""An operator sets up two-factor login in a real browser, then logs in with a code from
the app and with a recovery code; a recovery code works once."""

import base64
import re
import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.browser import log_in
from tests.factories import TEST_PASSWORD, make_member, make_merchant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def app_code(key_base32: str, steps: int = 0) -> str:
    """What the authenticator app shows ``steps`` time steps from now."""
    totp = TOTP(base64.b32decode(key_base32 + "=" * (-len(key_base32) % 8)))
    totp.time = time.time() + 30 * steps
    return f"{totp.token():06d}"


def log_out(page, email: str) -> None:
    page.get_by_role("button", name=email).click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_enrol_in_two_factor_then_log_in_with_a_code_and_with_a_recovery_code(page):
    agency = make_merchant("Acme Agency")
    operator = make_member(agency, "admin")
    overview = re.compile(rf"/m/{agency.code}/$")

    # Set up from the user menu.
    log_in(page, operator.email, TEST_PASSWORD)
    expect(page).to_have_url(overview)
    page.get_by_role("button", name=operator.email).click()
    page.get_by_role("link", name="Two-factor login").click()
    expect(page.get_by_role("heading", name="Two-factor login", level=1)).to_be_visible()
    page.get_by_role("link", name="Set up two-factor login").click()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert qr.evaluate("img => img.naturalWidth") > 0  # the browser drew it
    key = page.get_by_role("textbox", name="Setup key").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", key)
    page.get_by_label("Code from the app").fill(app_code(key))
    page.get_by_role("button", name="Confirm and turn on").click()

    # The recovery codes, shown once.
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", c) for c in codes)
    expect(page.get_by_role("button", name="Copy all codes")).to_be_visible()
    page.get_by_role("link", name="I have saved them — continue").click()
    expect(page.get_by_text("Recovery codes left")).to_be_visible()
    expect(page.get_by_text("On", exact=True)).to_be_visible()
    assert not any(c in page.content() for c in codes)
    page.get_by_role("link", name="Back to the console").click()
    log_out(page, operator.email)

    # Log in with a code from the app (the next one: the first was spent at set-up).
    log_in(page, operator.email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))
    page.get_by_label("Code", exact=True).fill(app_code(key, 1))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(overview)
    log_out(page, operator.email)

    # Log in with a recovery code.
    log_in(page, operator.email, TEST_PASSWORD)
    page.get_by_role("link", name="Use a recovery code instead").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Log in with the recovery code").click()
    expect(page).to_have_url(overview)
    expect(page.get_by_role("alert").filter(has_text="You used a recovery code")).to_contain_text("9 are left")
    log_out(page, operator.email)

    # That recovery code is spent.
    log_in(page, operator.email, TEST_PASSWORD)
    page.get_by_role("link", name="Use a recovery code instead").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Log in with the recovery code").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "That recovery code is not right, or it has been used already."
    )
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/recover/"))
    page.goto(f"/m/{agency.code}/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/\?next="))
    # the only console message is the refused recovery code's own 400
    assert [e for e in page.problems.errors if "status of 400" not in e] == []
