"""Reloading a page that showed a secret once repeats nothing (post/redirect/get): after
Create API key one key exists, after Reissue secret the secret just copied keeps working,
and after a reload the secret is no longer on the page. The same for recovery codes."""

import json
import re

import pytest
from playwright.sync_api import expect

from console.models import ApiKey, AuditEvent
from ops.demo import seed_demo
from tests.accounts.test_browser_two_factor import app_code
from tests.browser import log_in
from tests.factories import TEST_PASSWORD, make_member, make_merchant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"


def get_token(page, key, secret):
    return page.request.post("/users/getToken", data=json.dumps({"imp_key": key, "imp_secret": secret}),
                             headers={"Content-Type": "application/json"})


def test_reload_after_create_and_after_reissue_repeats_nothing(page):
    seed_demo(password=PASSWORD)
    log_in(page, "admin@demo.test", PASSWORD)
    page.get_by_role("link", name="IDs & API keys").click()
    keys_before = ApiKey.objects.count()

    page.get_by_label("Name").fill("order server")
    page.get_by_role("button", name="Create API key").click()
    shown = page.get_by_role("alert", name="New secret")
    expect(shown).to_contain_text("shown only now")
    key = shown.get_by_role("textbox", name="imp_key").input_value()
    secret = shown.get_by_role("textbox", name="imp_secret").input_value()
    expect(page).to_have_url(re.compile(r"/api-keys/$"))  # redirected: a reload is a GET

    page.reload()  # F5
    expect(page.get_by_role("heading", name="IDs & API keys")).to_be_visible()
    expect(page.get_by_role("alert", name="New secret")).to_have_count(0)
    assert secret not in page.content()
    assert ApiKey.objects.count() == keys_before + 1  # one key, not two
    assert ApiKey.objects.filter(key=key, name="order server").count() == 1
    assert get_token(page, key, secret).status == 200  # the copied secret works

    page.once("dialog", lambda dialog: dialog.accept())  # "Reissue the secret?" confirmation
    page.get_by_role("row", name="order server").get_by_role("button", name="Reissue secret").click()
    shown = page.get_by_role("alert", name="New secret")
    new_secret = shown.get_by_role("textbox", name="imp_secret").input_value()
    assert new_secret != secret
    version = ApiKey.objects.get(key=key).secret_version

    page.reload()  # F5 after Reissue: no second rotation
    expect(page.get_by_role("heading", name="IDs & API keys")).to_be_visible()
    expect(page.get_by_role("alert", name="New secret")).to_have_count(0)
    assert new_secret not in page.content()
    assert ApiKey.objects.get(key=key).secret_version == version
    assert get_token(page, key, new_secret).status == 200  # the secret just copied still works
    assert get_token(page, key, secret).status == 401
    assert page.problems.errors == []


def test_reload_after_setting_up_two_factor_shows_no_codes(page):
    agency = make_merchant("Acme Agency")
    operator = make_member(agency, "admin")
    log_in(page, operator.email, TEST_PASSWORD)
    page.goto("/accounts/two-factor/set-up/")
    key = page.get_by_role("textbox", name="Setup key").input_value()
    page.get_by_label("Code from the app").fill(app_code(key))
    page.get_by_role("button", name="Confirm and turn on").click()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem").all_inner_texts()
    assert len(codes) == 10

    page.reload()  # F5: the settings page, without the codes
    expect(page.get_by_role("heading", name="Two-factor login", level=1)).to_be_visible()
    expect(page.get_by_text("Recovery codes left")).to_be_visible()
    assert not any(c in page.content() for c in codes)
    assert AuditEvent.objects.filter(action="two_factor.enrol").count() == 1
    assert page.problems.errors == []
