"""Invitation tokens never reach a log: every handler of the project's LOGGING redacts them,
in the web process (the development server's access log, Django's DEBUG console) and in a
real Celery worker process."""

import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.core import signing

from accounts.services import invitations
from ops.log_filters import RedactSecrets
from ops.tasks import ping
from tests.worker import ROOT, celery_worker, wait_until
from tests.worker import test_database_url as worker_database_url

pytestmark = pytest.mark.django_db


def _token() -> str:
    """A token of the very shape the invitation mail carries."""
    return signing.dumps({"i": 4242, "n": secrets.token_urlsafe(32)}, salt=invitations.SALT)


def _configured_handlers() -> list[logging.Handler]:
    """Every handler that writes somewhere, on any logger (libraries' NullHandlers write
    nothing; pytest adds its own to capture output)."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    handlers = {id(h): h for logger in loggers for h in logger.handlers}.values()
    return [h for h in handlers if not isinstance(h, logging.NullHandler)
            and not type(h).__module__.startswith("_pytest")]


def test_every_log_handler_redacts_invitation_links():
    token = _token()
    handlers = _configured_handlers()
    assert {"console", "django.server", "mail_admins"} <= {h.name for h in handlers}
    for handler in handlers:
        assert any(isinstance(f, RedactSecrets) for f in handler.filters), handler.name
        # A line as the development server writes it, through this handler alone.
        record = logging.LogRecord("django.server", logging.ERROR, __file__, 1, '"%s" %s %s',
                                   (f"GET /accounts/invitation/{token}/ HTTP/1.1", 410, 0), None)
        assert handler.filter(record), handler.name
        line = handler.format(record)
        assert token not in line, handler.name
        assert "/accounts/invitation/[redacted]/" in line, handler.name


@pytest.mark.parametrize(("written", "masked"), [
    ("9410000070000000", "941000******0000"),
    ("9410-0000-7000-0000", "941000******0000"),
    ("9410 0000 7000 0000", "941000******0000"),
    ("3760-030000-00000", "376003*****0000"),
    ("9410%2D0000%2D7000%2D0000", "941000******0000"),  # URL-encoded in a query string
    ("4242+4242+4242+4242", "424242******4242"),
    ("1" * 30, "111111" + "*" * 20 + "1111"),
])
def test_every_log_handler_masks_card_numbers(written, masked):
    """A card number in a log line (a query string a merchant got wrong, a message) is masked
    as PortOne masks it, by every handler; ids, times, amounts and phone numbers stay."""
    kept = ("imp_123456789012 imp12345678 1733123456 10000000000 010-1234-5678 2026-12-02 "
            "?after=1733123456789012.42 1234-5678-9012")
    for handler in _configured_handlers():
        record = logging.LogRecord("django.server", logging.ERROR, __file__, 1, '"%s" %s',
                                   (f"GET /pay?card_number={written}&x=1 HTTP/1.1", kept), None)
        assert handler.filter(record), handler.name
        line = handler.format(record)
        digits = "".join(c for c in written if c.isdigit())
        assert f"card_number={masked}&x=1" in line and digits not in line, handler.name
        assert kept in line, handler.name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.script
@pytest.mark.django_db(transaction=True)
def test_the_development_server_and_the_debug_console_write_no_token(tmp_path):
    """runserver with local settings (DEBUG on): its access log and Django's request log."""
    token, port = _token(), _free_port()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "1",
        "DATABASE_URL": worker_database_url(), "PGCONSOLE_VAR_DIR": str(tmp_path),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY, "PYTHONUNBUFFERED": "1",
    }
    log = open(tmp_path / "runserver.log", "w+")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:  # until the server answers
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "runserver.log").read_text()
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        # Signed like a real link but naming no invitation: 410 Gone, logged twice.
        assert _get(f"{base}/accounts/invitation/{token}/") == 410
        assert _get(f"{base}/accounts/login/?next=/accounts/invitation/{token}/") == 200
        # The server writes a request's access line after its answer went out: wait for the
        # last one (bounded) rather than read the log the instant the answer came.
        last = '"GET /accounts/login/?next=/accounts/invitation/[redacted]/ HTTP/1.1" 200'
        wait_until(lambda: last in (tmp_path / "runserver.log").read_text(), timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    output = (tmp_path / "runserver.log").read_text()
    assert token not in output
    assert "Gone: /accounts/invitation/[redacted]/" in output  # django.request
    assert '"GET /accounts/invitation/[redacted]/ HTTP/1.1" 410' in output  # django.server
    assert '"GET /accounts/login/?next=/accounts/invitation/[redacted]/ HTTP/1.1" 200' in output


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_keeps_the_redaction_filter():
    """Celery logs a task's return value; ``console.ping`` echoes what it is given, so a
    ping carrying an invitation path shows what the worker writes for such a line."""
    token = _token()
    path = f"/accounts/invitation/{token}/"
    with celery_worker(loglevel="INFO") as worker:
        worker.wait_ready()
        result = ping.apply_async(kwargs={"value": path}, queue=worker.queue)
        assert result.get(timeout=30) == {"echo": path}
        # Celery writes the "succeeded" line just after storing the result.
        deadline = time.monotonic() + 30
        while f"[{result.id}] succeeded" not in worker.output():
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.1)
        output = worker.output()
    assert token not in output
    assert "{'echo': '/accounts/invitation/[redacted]/'}" in output
