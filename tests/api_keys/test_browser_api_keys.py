"""An admin creates an API key, sees its secret once, reissues it, and the old secret fails."""

import json

import pytest
from playwright.sync_api import expect

from ops.demo import seed_demo
from tests.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"


def get_token(page, key, secret):
    return page.request.post("/users/getToken", data=json.dumps({"imp_key": key, "imp_secret": secret}),
                             headers={"Content-Type": "application/json"})


def test_create_key_secret_once_then_reissue(page):
    seed_demo(password=PASSWORD)
    log_in(page, "admin@demo.test", PASSWORD)
    page.get_by_role("link", name="IDs & API keys").click()
    page.get_by_label("Name").fill("order server")
    page.get_by_role("button", name="Create API key").click()
    shown = page.get_by_role("alert", name="New secret")
    expect(shown).to_contain_text("shown only now")
    key = shown.get_by_role("textbox", name="imp_key").input_value()
    first_secret = shown.get_by_role("textbox", name="imp_secret").input_value()
    assert get_token(page, key, first_secret).status == 200

    page.get_by_role("link", name="IDs & API keys").click()  # a fresh look: the secret is gone
    assert first_secret not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())  # "Reissue the secret?" confirmation
    page.get_by_role("button", name="Reissue secret").click()
    shown = page.get_by_role("alert", name="New secret")
    new_secret = shown.get_by_role("textbox", name="imp_secret").input_value()
    assert new_secret != first_secret
    refused = get_token(page, key, first_secret)
    assert refused.status == 401 and refused.json()["code"] != 0
    assert get_token(page, key, new_secret).status == 200
    assert page.problems.errors == []
