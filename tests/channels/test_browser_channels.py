"""An operator adds, edits and assigns a live KCP channel in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from channels.models import Channel
from channels.services import channel_credentials
from ops.demo import seed_demo
from tests.browser import log_in, wait_htmx_idle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"
SITE_KEY = "kcp-browser-site-key-8842"


def log_out(page):
    page.get_by_role("button", name=re.compile(r"@demo\.test$")).click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_add_edit_assign_and_role_views_of_a_kcp_channel(page):
    demo = seed_demo(password=PASSWORD)
    agency, seoul = demo.agency, demo.sub_merchants[0]

    # 1. Add a live KCP channel and see its card with kcp.<MID>.
    log_in(page, "developer@demo.test", PASSWORD)
    page.get_by_role("link", name="Channels").click()
    page.get_by_role("link", name="Add channel").click()
    page.get_by_label("PG", exact=True).select_option(label="NHN KCP")
    # the module list comes in place for the chosen PG
    expect(page.get_by_label("Module")).to_contain_text("Payment window · subscription")
    wait_htmx_idle(page)
    page.get_by_label("Module").select_option(label="Payment window · general")
    expect(page.get_by_label("Site code *")).to_be_visible()  # the form came in place (htmx)
    assert "/channels/new/?" in page.url
    page.get_by_label("Channel name").fill("KCP from the browser")
    page.get_by_label("Site code *").fill("B77X1")
    page.get_by_label("Site key *").fill(SITE_KEY)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Channel added: kcp.B77X1")).to_be_visible()
    card = page.get_by_role("article", name=re.compile(r"kcp\.B77X1"))
    expect(card.get_by_role("textbox", name="pg")).to_have_value("kcp.B77X1")
    expect(card.get_by_role("button", name="Copy pg")).to_be_visible()
    assert SITE_KEY not in page.content()

    # 2. Edit it, leaving the secret blank: the stored secret is kept.
    card.get_by_role("link", name="Edit information").click()
    expect(page.get_by_label("Site key")).to_have_attribute("placeholder", "•••• 8842")
    expect(page.get_by_label("Site key")).to_have_value("")
    assert SITE_KEY not in page.content()
    page.get_by_label("Channel name").fill("KCP renamed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Channel saved.")).to_be_visible()
    channel = Channel.objects.get(merchant=agency, mid="B77X1")
    assert channel.name == "KCP renamed"
    assert channel_credentials(channel) == {"site_key": SITE_KEY}

    # 3. Assign it to the sub-merchant.
    card = page.get_by_role("article", name=re.compile(r"kcp\.B77X1"))
    card.get_by_label("Assign to a sub-merchant").select_option(label=f"{seoul.name} ({seoul.tier_code})")
    card.get_by_role("button", name="Assign").click()
    expect(page.get_by_text(f"Assigned to {seoul.name}")).to_be_visible()
    assert page.problems.errors == []
    log_out(page)

    # 4. The sub-merchant's manager sees it.
    log_in(page, "tier-manager@demo.test", PASSWORD)
    page.get_by_role("link", name="Channels").click()
    card = page.get_by_role("article", name=re.compile(r"kcp\.B77X1"))
    expect(card).to_be_visible()
    expect(card.get_by_text(f"Assigned by {agency.name}")).to_be_visible()
    expect(card.get_by_role("link", name="Edit information")).to_have_count(0)
    log_out(page)

    # 5. A viewer sees the channel but cannot edit it.
    log_in(page, "viewer@demo.test", PASSWORD)
    page.get_by_role("link", name="Channels").click()
    card = page.get_by_role("article", name=re.compile(r"kcp\.B77X1"))
    expect(card).to_be_visible()
    expect(page.get_by_role("link", name="Add channel")).to_have_count(0)
    expect(card.get_by_role("link", name="Edit information")).to_have_count(0)
    expect(card.get_by_role("button", name="Assign")).to_have_count(0)
    assert page.problems.errors == []
    response = page.goto(f"/m/{agency.code}/channels/{channel.channel_key}/edit/")
    assert response.status == 403
