"""Invitation mail under faults: the broker down when the invitation is saved, the mail
server refusing, and the mail sent with no transaction (and so no row lock) held.

Real things: a Celery worker process with beat on the configured broker, a real SMTP
receiver on loopback (aiosmtpd), the Django test client for the Accounts page.
"""

import smtplib
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.services import invitations
from console.models import Invitation
from console.tenancy.audit import Actor
from tests.factories import make_member, make_merchant
from tests.mailbox import invitation_link, smtp_receiver
from tests.worker import celery_worker, wait_until


@contextmanager
def broker_down():
    """Point the Celery app at a port nothing listens on, as a stopped broker looks."""
    from config.celery_app import app

    real = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url = real
        app._pool = None
        app.amqp._producer_pool = None


def _invite(client, agency, email):
    return client.post(reverse("console:accounts", kwargs={"merchant_code": agency.code}),
                       {"email": email, "role": "viewer"}, follow=True)


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_invite_is_no_500_and_the_mail_is_queued():
    from django.test import Client

    agency = make_merchant("Acme Agency")
    owner = make_member(agency, "owner")
    client = Client()
    client.force_login(owner)
    with broker_down():
        page = _invite(client, agency, "offline@example.test")
        assert page.status_code == 200
        assert "The mail is queued" in page.content.decode()
        invitation = Invitation.objects.get(email="offline@example.test")
        assert invitation.send_queued_at is None and invitation.token_hash == ""
        # Resend while the broker is still down: a message, not a 500.
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(minutes=5))
        resend = client.post(reverse("console:invitation_resend", kwargs={
            "merchant_code": agency.code, "invitation_id": invitation.pk}), follow=True)
        assert resend.status_code == 200 and "The mail is queued" in resend.content.decode()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_periodic_job_sends_an_invitation_the_broker_never_took(settings):
    agency = make_merchant("Acme Agency")
    owner = make_member(agency, "owner")
    with smtp_receiver() as (mailbox, email_url), celery_worker(
        beat=True, extra_env={"EMAIL_URL": email_url}
    ) as worker:
        worker.wait_ready()
        settings.MAIL_QUEUE = worker.queue
        with broker_down():
            invitation = invitations.invitation_create(
                actor=Actor(user=owner), merchant=agency, email="later@example.test", role="viewer",
                actor_role="owner", origin="http://testserver")
        assert invitation.mail_queued is False
        # Past the grace a request's own commit has, the job queues it (beat runs it every
        # minute; here it is called as beat would, so the test needs no minute of waiting).
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=invitation.expires_at - invitations.DISPATCH_GRACE * 2)
        assert invitations.invitations_dispatch_due() == 1
        link = invitation_link(mailbox.wait_for("later@example.test"))
        assert "/accounts/invitation/" in link
        # The receiver has the mail before the worker records it: wait for the record,
        # bounded, instead of reading it at once (CI saw that race).
        invitation = wait_until(lambda: Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=False).first())
        assert invitation.send_count == 1
        assert invitation.send_queued_at is not None
        assert invitations.invitations_dispatch_due() == 0  # mailed: nothing more to queue


@pytest.mark.django_db
def test_one_request_is_mailed_once_however_many_tasks_run_it(agency, owner):
    invitation = invitations.invitation_create(
        actor=Actor(user=owner), merchant=agency, email="once@example.test", role="viewer",
        actor_role="owner", origin="http://testserver")
    assert invitations.invitation_send(invitation.pk) is True
    assert invitations.invitation_send(invitation.pk) is False  # e.g. re-queued by the job
    assert len([m for m in mail.outbox if m.to == ["once@example.test"]]) == 1


@pytest.mark.django_db
def test_a_refused_mail_draws_a_new_link_on_the_retry(agency, owner, monkeypatch):
    invitation = invitations.invitation_create(
        actor=Actor(user=owner), merchant=agency, email="retry@example.test", role="viewer",
        actor_role="owner", origin="http://testserver")

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("the mail server went away")

    monkeypatch.setattr(invitations, "send_mail", refuse)
    with pytest.raises(smtplib.SMTPException):
        invitations.invitation_send(invitation.pk)
    invitation.refresh_from_db()
    assert invitation.token_hash == "" and invitation.sent_at is None  # no link that was never mailed
    monkeypatch.undo()
    assert invitations.invitation_send(invitation.pk) is True
    invitation.refresh_from_db()
    assert invitation.token_hash and invitation.send_count == 1


@pytest.mark.django_db
def test_the_mail_is_sent_with_no_transaction_open(agency, owner, monkeypatch):
    """The mail server can be slow: no transaction (and so no lock on the invitation or the
    merchant, and on SQLite no write lock) may be held while it is talked to."""
    invitation = invitations.invitation_create(
        actor=Actor(user=owner), merchant=agency, email="nolock@example.test", role="viewer",
        actor_role="owner", origin="http://testserver")
    seen = {}
    real = invitations.send_mail

    def watching(*args, **kwargs):
        # pytest-django wraps each test in one atomic block; the service must add none.
        seen["depth"] = len(connection.atomic_blocks)
        return real(*args, **kwargs)

    monkeypatch.setattr(invitations, "send_mail", watching)
    with transaction.atomic():
        outer = len(connection.atomic_blocks)
    assert invitations.invitation_send(invitation.pk) is True
    assert seen["depth"] == outer - 1
