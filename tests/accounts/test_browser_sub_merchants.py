"""Sub-merchants in a real browser, as the agency's admin: add one with a payment channel,
find it by search, delete it after the confirmation page; the channel is the agency's again and
the tier code can be taken again."""

import pytest
from playwright.sync_api import expect

from channels.models import Channel
from console.models import AuditEvent, Merchant
from tests.browser import log_in
from tests.factories import (
    TEST_PASSWORD,
    make_channel,
    make_member,
    make_merchant,
    make_sub_merchant,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_with_a_channel_search_and_delete_a_sub_merchant(page):
    agency = make_merchant("Acme Agency")
    admin = make_member(agency, "admin")
    card = make_channel(agency, mid="A52Q7", name="KCP card")
    make_sub_merchant(agency, "BSN", name="Acme Busan")
    log_in(page, admin.email, TEST_PASSWORD)
    page.get_by_role("link", name="Sub-merchants").click()

    # Add Acme Seoul with the agency's KCP channel.
    form = page.get_by_role("form", name="Add a sub-merchant")
    form.locator("#id_name").fill("Acme Seoul")
    form.get_by_label("Tier code").fill("SEL")
    form.get_by_label("KCP card · kcp.A52Q7 (Live)").check()
    form.get_by_label("Contact name").fill("Kim")
    form.get_by_role("button", name="Add sub-merchant").click()
    expect(page.get_by_text("Sub-merchant Acme Seoul (tier code SEL) added.")).to_be_visible()
    expect(page.locator("tr[data-tier='SEL']")).to_contain_text("KCP card · kcp.A52Q7")
    # The channel is taken now: the add form no longer offers it.
    expect(page.get_by_role("form", name="Add a sub-merchant").get_by_label("KCP card · kcp.A52Q7 (Live)")).to_have_count(0)

    # Search by name, then by tier code in lower case.
    search = page.get_by_role("search", name="Search sub-merchants")
    search.get_by_label("Name or tier code").fill("seoul")
    search.get_by_role("button", name="Search").click()
    expect(page.locator("tr[data-tier]")).to_have_count(1)
    expect(page.locator("tr[data-tier='SEL']")).to_be_visible()
    search = page.get_by_role("search", name="Search sub-merchants")
    search.get_by_label("Name or tier code").fill("bsn")
    search.get_by_role("button", name="Search").click()
    expect(page.locator("tr[data-tier]")).to_have_count(1)
    expect(page.locator("tr[data-tier='BSN']")).to_be_visible()
    page.get_by_role("link", name="Show all").click()
    expect(page.locator("tr[data-tier]")).to_have_count(2)

    # Delete it: the confirmation page names what follows.
    page.locator("tr[data-tier='SEL']").get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete Acme Seoul (SEL)?")).to_be_visible()
    expect(page.get_by_text("These channels are this agency's again")).to_be_visible()
    expect(page.get_by_text("KCP card · kcp.A52Q7")).to_be_visible()
    expect(page.get_by_text("The tier code SEL is free again")).to_be_visible()
    expect(page.get_by_text("Its open invitations are revoked").or_(page.get_by_text("It has no open invitations."))).to_be_visible()
    expect(page.get_by_text("stay in this agency's delivery log")).to_be_visible()
    page.get_by_role("form", name="Delete sub-merchant").get_by_role("button", name="Delete sub-merchant").click()
    expect(page.get_by_text("Sub-merchant Acme Seoul deleted.")).to_be_visible()
    expect(page.locator("tr[data-tier='SEL']")).to_have_count(0)
    card.refresh_from_db()
    assert card.assigned_to is None and card.merchant_id == agency.pk
    assert AuditEvent.objects.filter(merchant=agency, action="sub_merchant.delete", actor=admin).exists()

    # The channel is offered again, and the tier code SEL can be taken again.
    form = page.get_by_role("form", name="Add a sub-merchant")
    form.locator("#id_name").fill("Acme Seoul 2")
    form.get_by_label("Tier code").fill("SEL")
    form.get_by_label("KCP card · kcp.A52Q7 (Live)").check()
    form.get_by_role("button", name="Add sub-merchant").click()
    expect(page.get_by_text("Sub-merchant Acme Seoul 2 (tier code SEL) added.")).to_be_visible()
    new = Merchant.objects.get(parent=agency, tier_code="SEL")
    assert Channel.objects.get(pk=card.pk).assigned_to_id == new.pk
    assert page.problems.errors == []


def test_rename_a_tier_while_its_edit_page_is_open_in_another_tab(page):
    """Sub-merchants are addressed by id: renaming the tier code in one tab leaves the other
    tab's page working, and its later save is told what changed instead of a 404."""
    agency = make_merchant("Acme Agency")
    admin = make_member(agency, "admin")
    sub = make_sub_merchant(agency, "SEL", name="Acme Seoul")
    log_in(page, admin.email, TEST_PASSWORD)
    page.get_by_role("link", name="Sub-merchants").click()
    page.locator("tr[data-tier='SEL']").get_by_role("link", name="Edit").click()
    edit_url = page.url
    assert f"/sub-merchants/{sub.pk}/" in edit_url

    other = page.context.new_page()  # a second tab, same login
    other.goto(edit_url)
    other.get_by_label("Tier code").fill("SEO")
    other.get_by_role("button", name="Save").click()
    expect(other.get_by_text("SEO")).not_to_have_count(0)
    sub.refresh_from_db()
    assert sub.tier_code == "SEO"

    # The first tab still shows SEL; it renames the contact and saves: no 404, no lost form.
    page.get_by_label("Contact name").fill("Kim")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Someone changed this sub-merchant while you were editing")).to_be_visible()
    expect(page.get_by_label("Tier code")).to_have_value("SEO")  # refreshed: it was not changed here
    expect(page.get_by_label("Contact name")).to_have_value("Kim")  # kept: it was
    page.get_by_role("button", name="Save").click()
    expect(page.locator("tr[data-tier='SEO']")).to_be_visible()
    sub.refresh_from_db()
    assert (sub.tier_code, sub.contact_name) == ("SEO", "Kim")
    page.goto(edit_url)  # the bookmark still opens it
    expect(page.locator("#id_tier_code")).to_have_value("SEO")
