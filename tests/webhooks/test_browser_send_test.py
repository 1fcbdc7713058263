"""Send test as an operator meets it: the page says when the form differs from what is
saved (the test goes to the saved URL), and a double click sends one notification."""

import pytest
from playwright.sync_api import expect

from console.models import Merchant
from console.tenancy.audit import Actor
from ops.demo import seed_demo
from tests.browser import log_in
from webhooks import services
from webhooks.models import Delivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"


def test_unsaved_changes_are_named_and_a_double_click_sends_once(page):
    seed_demo(password=PASSWORD)
    agency = Merchant.objects.get(name="Demo Agency")
    services.endpoint_save(actor=Actor(), merchant=agency, mode="test", url="http://127.0.0.1:9/saved",
                           content_type="json", version="v1")
    log_in(page, "developer@demo.test", PASSWORD)
    page.get_by_role("link", name="Webhooks").click()
    form = page.get_by_role("form", name="Test webhook")
    note = form.get_by_text("You have unsaved changes.")
    expect(note).to_be_hidden()
    form.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/typed-not-saved")
    expect(note).to_be_visible()
    expect(note).to_contain_text("http://127.0.0.1:9/saved")
    form.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/saved")
    expect(note).to_be_hidden()  # back to what is saved: nothing to warn about

    form.get_by_role("button", name="Send test").dblclick()
    expect(page.locator("#test-result-test").get_by_role("status")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert Delivery.objects.filter(merchant=agency, trigger="test").count() == 1
    assert Delivery.objects.get(merchant=agency, trigger="test").url == "http://127.0.0.1:9/saved"
