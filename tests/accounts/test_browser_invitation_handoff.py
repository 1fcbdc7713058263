"""The emailed invitation link in a real browser: it hands over to a URL without its token,
a member who must log in first comes back to the accept step, another browser cannot
continue, and a different logged-in operator is refused."""

import re

import pytest
from playwright.sync_api import expect

from accounts.services import invitations
from console.models import Membership
from console.tenancy.audit import Actor
from tests.browser import PageProblems
from tests.factories import TEST_PASSWORD, OperatorFactory, make_member, make_merchant
from tests.mailbox import invitation_link, smtp_receiver
from tests.worker import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ACCEPT = re.compile(r"/accounts/invitation/accept/$")


def _new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = PageProblems(page)
    return context, page


def test_log_in_first_then_accept_and_nobody_else_can(page, browser, live_server, settings):
    agency = make_merchant("Acme Agency")
    owner = make_member(agency, "owner")
    known = OperatorFactory(email="known.member@example.test")
    with smtp_receiver() as (mailbox, email_url), celery_worker(extra_env={"EMAIL_URL": email_url}) as worker:
        worker.wait_ready()
        settings.MAIL_QUEUE = worker.queue
        invitations.invitation_create(actor=Actor(user=owner), merchant=agency, email=known.email,
                                      role="viewer", actor_role="owner", origin=live_server.url)
        link = invitation_link(mailbox.wait_for(known.email))
    token = link.rstrip("/").rsplit("/", 1)[1]

    # The member opens the link: the address bar no longer holds the token.
    page.goto(link)
    expect(page).to_have_url(ACCEPT)
    assert token not in page.url
    expect(page.get_by_text("You already have an account.")).to_be_visible()

    # Another browser, without that session, cannot use the token-free address.
    context, stranger = _new_page(browser, live_server)
    stranger.goto("/accounts/invitation/accept/")
    expect(stranger.get_by_text("To accept an invitation, open the link in its email in this browser.")
           ).to_be_visible()
    # A different operator, logged in, who opens the link itself is refused.
    stranger.goto("/accounts/login/")
    stranger.get_by_label("Email").fill(owner.email)
    stranger.get_by_label("Password").fill(TEST_PASSWORD)
    stranger.get_by_role("button", name="Log in").click()
    stranger.goto(link)
    expect(stranger.get_by_text(f"You are logged in as {owner.email}.")).to_be_visible()
    assert [e for e in stranger.problems.errors if not ("status of 400" in e or "status of 403" in e)] == []
    context.close()

    # Log in first: the login page comes back to the accept step, the session kept it.
    page.get_by_role("link", name="Log in to accept").click()
    page.get_by_label("Email").fill("Known.Member@example.test")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(ACCEPT)
    page.get_by_role("button", name="Join Acme Agency").click()
    expect(page.get_by_text("Welcome to Acme Agency. Your role: Viewer.")).to_be_visible()
    assert Membership.objects.get(operator=known, merchant=agency).role == "viewer"
    assert page.problems.errors == []
