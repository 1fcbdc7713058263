"""Accounts in a real browser: invite by email (a real worker mails a real SMTP receiver),
accept, log in; and a role change that takes effect at the member's next request."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from console.models import Invitation, Membership
from tests.browser import PageProblems, log_in
from tests.factories import TEST_PASSWORD, make_member, make_merchant
from tests.mailbox import invitation_link, smtp_receiver
from tests.worker import celery_worker, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-long-fresh-passphrase-42"


def _new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = PageProblems(page)
    return context, page


def test_invite_resend_accept_and_log_in(page, browser, live_server, settings):
    agency = make_merchant("Acme Agency")
    owner = make_member(agency, "owner")
    with smtp_receiver() as (mailbox, email_url), celery_worker(extra_env={"EMAIL_URL": email_url}) as worker:
        worker.wait_ready()
        settings.MAIL_QUEUE = worker.queue

        log_in(page, owner.email, TEST_PASSWORD)
        page.get_by_role("link", name="Accounts").click()
        form = page.get_by_role("form", name="Invite a member")
        form.get_by_label("Email").fill("new.dev@example.test")
        form.get_by_label("Role").select_option(label="Developer")
        form.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_text("Invitation sent to new.dev@example.test.")).to_be_visible()
        first = invitation_link(mailbox.wait_for("new.dev@example.test"))
        assert first.startswith(live_server.url)
        # The mailbox has the mail before the worker records the send (what "Resend" checks):
        # wait for the record, bounded.
        wait_until(lambda: Invitation.objects.filter(email="new.dev@example.test", sent_at__isnull=False).exists())

        # Resend at once is refused (no mail flood); a minute later it sends a new link.
        page.locator("tr[data-invitation='new.dev@example.test']").get_by_role("button", name="Resend").click()
        expect(page.get_by_text("was sent less than a minute ago")).to_be_visible()
        Invitation.objects.filter(email="new.dev@example.test").update(
            sent_at=timezone.now() - timedelta(minutes=2))
        page.locator("tr[data-invitation='new.dev@example.test']").get_by_role("button", name="Resend").click()
        expect(page.get_by_text("Invitation sent again to new.dev@example.test.")).to_be_visible()
        second = invitation_link(mailbox.wait_for("new.dev@example.test", count=2))
        assert second != first

        context, guest = _new_page(browser, live_server)
        guest.goto(first)
        expect(guest.get_by_text("This link was replaced by a newer invitation email.")).to_be_visible()
        guest.goto(second)
        expect(guest.get_by_role("heading", name="Join Acme Agency")).to_be_visible()
        guest.get_by_label("Your name").fill("New Dev")
        guest.locator("#id_password1").fill(NEW_PASSWORD)
        guest.locator("#id_password2").fill(NEW_PASSWORD)
        guest.get_by_role("button", name="Create account and join").click()
        expect(guest.get_by_text("Welcome to Acme Agency. Your role: Developer.")).to_be_visible()
        expect(guest.get_by_role("link", name="Channels")).to_be_visible()

        # Log out and in again with the new password.
        guest.get_by_role("button", name="new.dev@example.test").click()
        guest.get_by_role("button", name="Log out").click()
        log_in(guest, "new.dev@example.test", NEW_PASSWORD)
        expect(guest.get_by_role("heading", name="Acme Agency")).to_be_visible()
        guest.goto(second)  # used once
        expect(guest.get_by_text("This invitation was already used.")).to_be_visible()
        # The refused links answer 410 on purpose; the browser notes those, nothing else.
        assert [e for e in guest.problems.errors if "status of 410" not in e] == []
        context.close()

    page.reload()
    row = page.locator("tr[data-member='new.dev@example.test']")
    expect(row).to_contain_text("New Dev")
    expect(row.get_by_label("Role of new.dev@example.test")).to_have_value("developer")
    expect(page.locator("#invitations")).to_have_count(0)  # none open
    # The refused resend answered 400 on purpose; nothing else went wrong.
    assert [e for e in page.problems.errors if "status of 400" not in e] == []


def test_a_role_change_takes_effect_at_the_next_request(page, browser, live_server):
    agency = make_merchant("Acme Agency")
    owner = make_member(agency, "owner")
    admin = make_member(agency, "admin")

    context, member = _new_page(browser, live_server)
    log_in(member, admin.email, TEST_PASSWORD)
    member.get_by_role("link", name="Accounts").click()
    expect(member.get_by_role("button", name="Send invitation")).to_be_visible()

    log_in(page, owner.email, TEST_PASSWORD)
    page.get_by_role("link", name="Accounts").click()
    row = page.locator(f"tr[data-member='{admin.email}']")
    row.get_by_label(f"Role of {admin.email}").select_option(label="Viewer")
    row.get_by_role("button", name="Change").click()
    expect(page.get_by_text(f"{admin.email} is now Viewer.")).to_be_visible()
    assert Membership.objects.get(operator=admin).role == "viewer"

    member.reload()  # the very next request: a viewer reads the page, and changes nothing
    expect(member.get_by_text("You can see this page; only an owner or the admin can change it.")).to_be_visible()
    expect(member.get_by_role("button", name="Send invitation")).to_have_count(0)
    member.goto(reverse("channels:new", kwargs={"merchant_code": agency.code}))  # an admin's, not a viewer's
    expect(member.get_by_role("heading", name="Not allowed")).to_be_visible()

    # Removing asks first, then the member loses the merchant at once.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"tr[data-member='{admin.email}']").get_by_role("button", name="Remove").click()
    expect(page.get_by_text(f"{admin.email} was removed from Acme Agency.")).to_be_visible()
    member.goto(f"/m/{agency.code}/")
    expect(member.get_by_role("heading", name="Not found")).to_be_visible()
    # The 403 and 404 answers are the point; the browser notes those, nothing else.
    assert [e for e in member.problems.errors if not ("status of 403" in e or "status of 404" in e)] == []
    context.close()
    assert page.problems.errors == []


def test_add_and_edit_a_sub_merchant_then_find_it_in_the_audit_log(page):
    agency = make_merchant("Acme Agency")
    owner = make_member(agency, "owner")
    log_in(page, owner.email, TEST_PASSWORD)
    page.get_by_role("link", name="Sub-merchants").click()
    expect(page.get_by_text("No sub-merchants yet.")).to_be_visible()

    form = page.get_by_role("form", name="Add a sub-merchant")
    form.locator("#id_name").fill("Acme Busan")
    form.get_by_label("Tier code").fill("bsn")
    form.get_by_label("Service URL").fill("busan.example.com")
    form.get_by_label("Contact phone").fill("051-123-4567")
    form.get_by_role("button", name="Add sub-merchant").click()
    expect(page.get_by_text("Sub-merchant Acme Busan (tier code BSN) added.")).to_be_visible()
    row = page.locator("tr[data-tier='BSN']")
    expect(row).to_contain_text("https://busan.example.com")

    # The same tier code again: said next to the field, nothing added.
    form = page.get_by_role("form", name="Add a sub-merchant")
    form.locator("#id_name").fill("Another")
    form.get_by_label("Tier code").fill("BSN")
    form.get_by_role("button", name="Add sub-merchant").click()
    expect(page.get_by_text("The tier code BSN is taken")).to_be_visible()
    expect(page.locator("tr[data-tier]")).to_have_count(1)

    page.locator("tr[data-tier='BSN']").get_by_role("link", name="Edit").click()
    page.get_by_label("Contact name").fill("Kim")
    page.get_by_label("Webhook same as the main store").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Sub-merchant Acme Busan saved.")).to_be_visible()
    expect(page.locator("tr[data-tier='BSN']")).to_contain_text("Kim")
    expect(page.locator("tr[data-tier='BSN']")).to_contain_text("Its own")

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").select_option("sub_merchant.update")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("1 event", exact=True)).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Contact name")  # the field by its label
    page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_label("Action")).to_have_value("")
    # The refused tier code answered 400 on purpose; nothing else went wrong.
    assert [e for e in page.problems.errors if "status of 400" not in e] == []
