"""An operator adds whitelist rules, one of them bad, and sees its message next to it."""

import pytest
from playwright.sync_api import expect

from ops.demo import seed_demo
from tests.browser import log_in, wait_htmx_idle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"


def test_whitelist_rules_with_a_bad_one(page):
    demo = seed_demo(password=PASSWORD)
    log_in(page, "admin@demo.test", PASSWORD)
    page.get_by_role("link", name="Whitelist").click()
    cidrs, memos = page.get_by_label("CIDR"), page.get_by_label("Memo")
    cidrs.nth(0).fill("203.0.113.0/24")
    memos.nth(0).fill("office")
    page.get_by_role("button", name="Add rule").click()
    expect(cidrs).to_have_count(2)
    wait_htmx_idle(page)
    cidrs.nth(1).fill("198.51.100.7/24")  # host bits set
    memos.nth(1).fill("vpn")
    page.get_by_label("Enable whitelist").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("did you mean 198.51.100.0/24?")).to_be_visible()
    expect(page.get_by_label("CIDR").nth(1)).to_have_value("198.51.100.7/24")  # nothing typed is lost
    page.get_by_label("CIDR").nth(1).fill("198.51.100.0/24")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Whitelist saved.")).to_be_visible()
    assert list(demo.agency.whitelist_rules.values_list("cidr", "memo")) == [
        ("203.0.113.0/24", "office"), ("198.51.100.0/24", "vpn")]
    # delete a row in place, save, and it is gone
    page.get_by_role("button", name="Delete rule").first.click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Whitelist saved.")).to_be_visible()
    assert list(demo.agency.whitelist_rules.values_list("cidr", flat=True)) == ["198.51.100.0/24"]
    # the only console message is the refused save's own 400
    assert [e for e in page.problems.errors if "status of 400" not in e] == []
