"""Local mail (config/settings/local.py): what the console sends stays on the machine, readable.

A real worker with the local settings sends an invitation into a temporary PGCONSOLE_VAR_DIR:
the file in var/mail/ holds the whole link on its own line and the Korean text as text, and
the link opens the invitation. The outbox page lists the mail with its links clickable; only
the local settings route it.
"""

import os
import re
import stat
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.urls import Resolver404, include, path, resolve

import config.urls
from accounts.services import invitations
from console.models import Invitation
from console.tenancy.audit import Actor
from ops.mail import LocalMailBackend, read_messages
from tests.factories import make_member, make_merchant
from tests.ops.test_settings import PRODUCTION_ENV
from tests.services import need
from tests.worker import ROOT, celery_worker, wait_until

pytestmark = pytest.mark.django_db

# This module is also the URL configuration of its outbox tests: the site, plus the local
# route that config/urls.py adds only under the local settings.
urlpatterns = [*config.urls.urlpatterns, path("local/", include("ops.local_urls"))]
OUTBOX = "/local/outbox/"
LINK_LINE = re.compile(r"^(https?://\S+/accounts/invitation/\S+/)$", re.MULTILINE)


def _wait_for_file(directory, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(directory.glob("*.txt")) if directory.is_dir() else []
        if files:
            return files
        time.sleep(0.2)
    raise AssertionError(f"no mail in {directory} after {timeout}s")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(__name__)
def test_a_real_worker_keeps_the_invitation_readable_and_its_link_works(client, tmp_path, settings):
    # The worker runs the local settings in its own var folder; it must share the broker with
    # this process, so Redis (the filesystem broker's folder is inside the var folder).
    need(bool(settings.REDIS_URL), "Redis (a worker in its own PGCONSOLE_VAR_DIR shares no filesystem broker)")
    agency = make_merchant("Acme Agency")
    owner = make_member(agency, "owner")
    worker_env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "PGCONSOLE_VAR_DIR": str(tmp_path),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the link is signed: this process checks it
        "PGCONSOLE_ENCRYPTION_KEYS": ",".join(settings.PGCONSOLE_ENCRYPTION_KEYS),
        "PGCONSOLE_PUBLIC_URL": "",  # the link starts with the inviter's address
    }
    with celery_worker(extra_env=worker_env) as worker:
        worker.wait_ready()
        settings.MAIL_QUEUE = worker.queue
        invitation = invitations.invitation_create(
            actor=Actor(user=owner), merchant=agency, email="new.person@example.test", role="viewer",
            actor_role="owner", origin="http://testserver")
        files = _wait_for_file(tmp_path / "mail")
        # The worker writes the file, then logs where it went, then records the send: wait for
        # its last line (bounded) instead of reading its log the instant the file appears.
        wait_until(lambda: f"invitation {invitation.pk} sent" in worker.output(), timeout=30)
        output = worker.output()
    assert len(files) == 1
    text = files[0].read_text(encoding="utf-8")

    # Headers decoded, the body as UTF-8 text: no MIME, no quoted-printable.
    assert "To: new.person@example.test\n" in text
    # The merchant named once; the product as the console names it in each language (issue 22).
    assert re.search(r"^Subject: \[PG Console · PG 콘솔\] .* invited you to Acme Agency · 가맹점 초대$", text, re.M)
    assert "님이 PG 콘솔의 Acme Agency 가맹점에 초대했습니다." in text
    assert "=EB" not in text and "Content-Transfer-Encoding" not in text and "=\n" not in text
    links = LINK_LINE.findall(text)
    assert len(links) == 2 and links[0] == links[1]  # the English and the Korean part, each whole
    link = links[0]
    # The folder and the file are this user's only (the link is a one-time credential).
    assert stat.S_IMODE((tmp_path / "mail").stat().st_mode) == 0o700
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    # The worker says where it went, without the link (the log stays free of tokens).
    assert f"kept in {files[0]}" in output and link.rsplit("/", 2)[-2] not in output

    # The link opens the invitation.
    assert Invitation.objects.get().sent_at is not None
    opened = client.get(link.removeprefix("http://testserver"), follow=True)
    assert opened.status_code == 200 and opened.redirect_chain[-1][0] == "/accounts/invitation/accept/"
    assert "Join Acme Agency" in opened.content.decode()

    # The outbox page lists it, the link clickable.
    settings.PGCONSOLE_MAIL_DIR = tmp_path / "mail"
    client.force_login(owner)
    page = client.get(OUTBOX)
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "new.person@example.test" in html and "Acme Agency · 가맹점 초대" in html
    assert f'<a href="{link}"' in html
    assert files[0].name in html


@pytest.mark.urls(__name__)
def test_the_outbox_lists_the_newest_first_with_links_and_needs_a_login(client, agency, owner, tmp_path, settings):
    settings.PGCONSOLE_MAIL_DIR = tmp_path / "mail"
    backend = LocalMailBackend(directory=tmp_path / "mail")
    for n in (1, 2):
        message = mail.EmailMessage(f"Message {n} · 메시지", f"Hello {n}.\n\nhttps://example.test/a/{n}/?x=1&y=2\n",
                                    to=[f"person{n}@example.test"])
        assert backend.send_messages([message]) == 1
    anonymous = client.get(OUTBOX)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(owner)
    html = client.get(OUTBOX).content.decode()
    assert html.index("Message 2 · 메시지") < html.index("Message 1 · 메시지")
    assert '<a href="https://example.test/a/2/?x=1&amp;y=2"' in html
    assert "person1@example.test" in html and "person2@example.test" in html


@pytest.mark.urls(__name__)
def test_an_empty_outbox_says_how_to_fill_it(client, owner, tmp_path, settings):
    settings.PGCONSOLE_MAIL_DIR = tmp_path / "nothing-yet"
    client.force_login(owner)
    page = client.get(OUTBOX)
    assert page.status_code == 200 and "No mail yet." in page.content.decode()


def test_the_local_backend_writes_one_decoded_file_a_message(tmp_path):
    long_link = "http://127.0.0.1:8000/accounts/invitation/" + "x" * 150 + ":1vQ:" + "y" * 43 + "/"
    message = mail.EmailMultiAlternatives(
        "초대 · Invitation", f"안녕하세요.\n\n{long_link}\n", from_email="PG Console <noreply@localhost>",
        to=["a@example.test"], cc=["b@example.test"], reply_to=["c@example.test"],
    )
    message.attach_alternative("<p>HTML part</p>", "text/html")
    assert LocalMailBackend(directory=tmp_path / "mail").send_messages([message]) == 1
    [kept] = read_messages(tmp_path / "mail")
    assert kept.subject == "초대 · Invitation" and kept.to == "a@example.test"
    assert kept.headers["Cc"] == "b@example.test" and kept.headers["Reply-To"] == "c@example.test"
    assert kept.headers["From"] == "PG Console <noreply@localhost>"
    assert f"\n{long_link}\n" in kept.body and kept.body.startswith("안녕하세요.")
    assert "----- text/html -----\n<p>HTML part</p>" in kept.body


def test_a_header_cannot_add_a_header(tmp_path):
    message = mail.EmailMessage("Subject", "Body", to=["a@example.test"])
    message.subject = "line one\nBcc: someone@example.test"  # refused by Django's own check
    with pytest.raises(ValueError):
        LocalMailBackend(directory=tmp_path).send_messages([message])
    assert list(tmp_path.iterdir()) == []


def _resolves(env: dict) -> str:
    code = ("import django; django.setup(); from django.urls import resolve, Resolver404\n"
            "try:\n    resolve('/local/outbox/'); print('routed')\n"
            "except Resolver404:\n    print('not routed')")
    base = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS",
        "DJANGO_SETTINGS_MODULE", "PGCONSOLE_ENCRYPTION_KEYS", "PGCONSOLE_VAR_DIR", "EMAIL_URL"}}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.script
def test_only_the_local_settings_route_the_outbox(tmp_path):
    assert _resolves({"DJANGO_SETTINGS_MODULE": "config.settings.local", "PGCONSOLE_VAR_DIR": str(tmp_path)}) == "routed"
    assert _resolves(PRODUCTION_ENV) == "not routed"
    assert _resolves({"DJANGO_SETTINGS_MODULE": "config.settings.test", "PGCONSOLE_VAR_DIR": str(tmp_path)}) == "not routed"
    with pytest.raises(Resolver404):  # this very test run (test settings)
        resolve(OUTBOX, urlconf=settings.ROOT_URLCONF)
    with override_settings(PGCONSOLE_LOCAL_OUTBOX=True):  # read when the URLs load, not per request
        with pytest.raises(Resolver404):
            resolve(OUTBOX, urlconf=settings.ROOT_URLCONF)
