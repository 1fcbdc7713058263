"""The roles in a real browser, walked by what an operator sees (labels and roles): a Developer
and a Viewer read Accounts and the audit log without a way to change them, and the
Developer's menu has no empty heading; a Manager invites a Viewer (the only role it is offered);
a sub-merchant's Manager invites a Viewer of its sub-merchant and points the sub-merchant's own
webhook at its server."""

import pytest
from playwright.sync_api import expect

from accounts import services
from accounts.tasks import invitation_send_task
from api_keys.services.api_keys import api_key_create
from console.models import Invitation
from console.tenancy.audit import Actor
from tests.browser import log_in
from tests.factories import TEST_PASSWORD, make_member, make_merchant, make_sub_merchant
from webhooks.models import WebhookEndpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def no_mail(monkeypatch):
    """The invitation mail is the worker's business (tests/accounts/test_browser_accounts.py sends it):
    here the broker takes it and nothing more."""
    taken = []
    monkeypatch.setattr(invitation_send_task, "apply_async", lambda *args, **kwargs: taken.append(kwargs))
    return taken


def _menu(page):
    return page.get_by_role("navigation", name="Console navigation")


def _assert_no_empty_heading(page):
    menu = _menu(page)
    lists = menu.get_by_role("list")
    count = lists.count()
    assert count >= 2
    for i in range(count):
        expect(lists.nth(i).get_by_role("link")).not_to_have_count(0)
    # one heading above each list, none alone
    expect(menu.locator("div.text-uppercase")).to_have_count(count)


def _assert_read_only_accounts(page):
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    expect(page.get_by_text("You can see this page; only an owner or the admin can change it.")).to_be_visible()
    expect(page.get_by_role("form", name="Invite a member")).to_have_count(0)
    expect(page.get_by_role("main").get_by_role("combobox")).to_have_count(0)
    expect(page.get_by_role("button", name="Change")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    expect(page.get_by_label("Require two-factor login for owners and admins")).to_be_disabled()


def test_a_developer_reads_accounts_api_keys_and_the_audit_log_and_its_menu_has_no_empty_heading(page):
    agency = make_merchant("Acme Agency")
    owner = make_member(agency, "owner")
    issued = api_key_create(actor=Actor(user=owner), merchant=agency, name="Order server")
    developer = make_member(agency, "developer")
    log_in(page, developer.email, TEST_PASSWORD)
    # PortOne's Dev uses the integration and reads the accounts: it reads their history too.
    expect(_menu(page).get_by_role("link", name="Audit log")).to_have_count(1)
    _assert_no_empty_heading(page)

    _menu(page).get_by_role("link", name="Accounts").click()
    _assert_read_only_accounts(page)
    expect(page.locator(f"tr[data-member='{owner.email}']")).to_contain_text("Owner")

    _menu(page).get_by_role("link", name="IDs & API keys").click()
    expect(page.get_by_role("heading", name="IDs & API keys")).to_be_visible()
    expect(page.get_by_role("row", name="Order server").get_by_role("textbox", name="imp_key")).to_have_value(
        issued.api_key.key)
    expect(page.get_by_role("button", name="Create API key")).to_have_count(0)
    expect(page.get_by_text("Only an Owner or an Admin creates, reissues and revokes API keys")).to_contain_text(
        "You are Developer")
    expect(page.get_by_role("button", name="Reissue secret")).to_have_count(0)
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    _assert_no_empty_heading(page)
    assert page.problems.errors == []


def test_a_viewer_reads_accounts_and_the_audit_log(page):
    agency = make_merchant("Acme Agency")
    owner = make_member(agency, "owner")
    services.merchant_update(actor=Actor(user=owner), merchant=agency, contact_name="Lee")
    viewer = make_member(agency, "viewer")
    log_in(page, viewer.email, TEST_PASSWORD)
    _assert_no_empty_heading(page)

    _menu(page).get_by_role("link", name="Accounts").click()
    _assert_read_only_accounts(page)

    _menu(page).get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=owner.email).first).to_be_visible()
    expect(page.get_by_role("button", name="Filter")).to_be_visible()
    assert page.problems.errors == []


def test_a_manager_invites_a_viewer_the_only_role_it_is_offered(page, no_mail):
    agency = make_merchant("Acme Agency")
    make_member(agency, "owner")
    manager = make_member(agency, "manager")
    log_in(page, manager.email, TEST_PASSWORD)
    _menu(page).get_by_role("link", name="Accounts").click()
    form = page.get_by_role("form", name="Invite a member")
    role = form.get_by_label("Role")
    expect(role.locator("option")).to_have_count(1)
    expect(role.locator("option")).to_have_text("Viewer")
    form.get_by_label("Email").fill("desk@example.test")
    form.get_by_label("Memo").fill("Front desk")
    form.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to desk@example.test.")).to_be_visible()
    row = page.locator("tr[data-invitation='desk@example.test']")
    expect(row).to_contain_text("Viewer")
    expect(row).to_contain_text("Front desk")
    expect(row.get_by_role("button", name="Resend")).to_have_count(0)  # it manages no invitation
    invitation = Invitation.objects.get(email="desk@example.test")
    assert (invitation.role, invitation.memo, invitation.invited_by) == ("viewer", "Front desk", manager)
    assert len(no_mail) == 1
    assert page.problems.errors == []


def test_a_sub_merchant_manager_invites_a_viewer_and_sets_its_own_webhook(page, no_mail):
    agency = make_merchant("Acme Agency")
    make_member(agency, "owner")
    seoul = make_sub_merchant(agency, "SEL", name="Acme Seoul")
    manager = make_member(seoul, "manager")
    log_in(page, manager.email, TEST_PASSWORD)
    expect(page.get_by_text("Your role: Sub-merchant Manager")).to_be_visible()
    expect(_menu(page).get_by_role("link", name="Sub-merchants")).to_have_count(0)
    _assert_no_empty_heading(page)

    _menu(page).get_by_role("link", name="Accounts").click()
    form = page.get_by_role("form", name="Invite a member")
    expect(form.get_by_label("Role").locator("option")).to_have_text(["Manager", "Viewer"])
    form.get_by_label("Email").fill("till@example.test")
    form.get_by_label("Role").select_option(label="Viewer")
    form.get_by_label("Memo").fill("Till 2")
    form.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to till@example.test.")).to_be_visible()
    expect(page.locator("tr[data-invitation='till@example.test']")).to_contain_text("Till 2")
    invitation = Invitation.objects.get(email="till@example.test")
    assert (invitation.merchant, invitation.role) == (seoul, "viewer")

    _menu(page).get_by_role("link", name="Webhooks").click()
    expect(page.get_by_text("Notifications go to the webhook of the agency, Acme Agency.")).to_be_visible()
    page.get_by_role("button", name="Use own webhook").click()
    expect(page.get_by_text("This sub-merchant uses its own webhook, set below.")).to_be_visible()
    live = page.get_by_role("form", name="Live webhook")
    live.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/seoul")
    live.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Webhook settings saved (Live).")).to_be_visible()
    endpoint = WebhookEndpoint.objects.get(merchant=seoul, mode="live")
    assert endpoint.url == "http://127.0.0.1:9/seoul"
    seoul.refresh_from_db()
    assert seoul.webhook_same_as_agency is False
    assert page.problems.errors == []
