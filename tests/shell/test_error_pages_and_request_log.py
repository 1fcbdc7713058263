"""`make run` meets a newcomer with the product's own pages, and its log stays readable.

- The local settings run with DEBUG off unless DJANGO_DEBUG=1: a 404 is templates/404.html
  (not Django's page with the URL list), a stale form is templates/403_csrf.html, and static
  files are still served (whitenoise, from the finders).
- A refused request (403, 404) is one line in the log, without a traceback.
"""

import io
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from api_keys.services.api_keys import api_key_create
from console.tenancy.audit import Actor
from ops.log_filters import RefusalsWithoutTraceback
from tests.factories import make_member
from tests.worker import ROOT
from tests.worker import test_database_url as worker_database_url

pytestmark = pytest.mark.django_db


def _settings_of(env: dict) -> str:
    code = "import django; django.setup(); from django.conf import settings as s; print(s.DEBUG)"
    base = {k: v for k, v in os.environ.items() if k not in {
        "DJANGO_DEBUG", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PGCONSOLE_VAR_DIR"}}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.script
@pytest.mark.parametrize(("debug", "expected"), [(None, "False"), ("0", "False"), ("1", "True")])
def test_local_settings_have_debug_off_unless_django_debug_is_1(tmp_path, debug, expected):
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.local", "PGCONSOLE_VAR_DIR": str(tmp_path)}
    if debug is not None:
        env["DJANGO_DEBUG"] = debug
    assert _settings_of(env) == expected


def _request(url: str, *, cookie: str = "", data: bytes | None = None, headers=None):
    request = urllib.request.Request(url, data=data, headers={**({"Cookie": cookie} if cookie else {}),
                                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers


def _get(url: str) -> tuple[int, str]:
    return _request(url)[:2]


def _forbidden_action(agency) -> str:
    """A button a viewer may not press (Reissue secret: owners and admins only)."""
    issued = api_key_create(actor=Actor(), merchant=agency, name="k")
    return reverse("console:api_key_reissue", kwargs={"merchant_code": agency.code, "key_id": issued.api_key.pk})


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _runserver(tmp_path, port, **extra):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"},
        "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": worker_database_url(),
        "PGCONSOLE_VAR_DIR": str(tmp_path), "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "PYTHONUNBUFFERED": "1", **extra,
    }
    log = open(tmp_path / f"runserver-{port}.log", "w+")
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None and time.monotonic() < deadline, (tmp_path / f"runserver-{port}.log").read_text()
        try:
            _get(f"http://127.0.0.1:{port}/healthz")
            return server, log
        except OSError:
            time.sleep(0.1)


def _stop(server, log) -> str:
    server.terminate()
    server.wait(timeout=20)
    log.flush()
    log.seek(0)
    output = log.read()
    log.close()
    return output


@pytest.mark.script
@pytest.mark.django_db(transaction=True)
def test_make_runs_settings_serve_the_products_404_and_403_and_static_files(tmp_path, agency):
    """The development server as `make run` starts it (local settings, nothing set)."""
    forbidden = _forbidden_action(agency)
    client = Client()
    client.force_login(make_member(agency, "viewer"))  # a session in the shared database
    session = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    port = _free_port()
    server, log = _runserver(tmp_path, port)
    try:
        base = f"http://127.0.0.1:{port}"
        status, html = _get(f"{base}/no-such-page/")
        assert status == 404
        assert "<title>404 · PG Console</title>" in html and "There is nothing here" in html
        assert "Using the URLconf" not in html and "Page not found at" not in html
        _status, _html, headers = _request(f"{base}/accounts/login/")
        csrf = headers["Set-Cookie"].split("csrftoken=", 1)[1].split(";", 1)[0]
        status, html, _headers = _request(f"{base}{forbidden}", cookie=f"{session}; csrftoken={csrf}", data=b"",
                                          headers={"X-CSRFToken": csrf})
        assert status == 403 and "<title>403 · PG Console</title>" in html and "Traceback" not in html
        for path in ("/static/js/console.js", "/static/css/console.css", "/static/bootstrap/css/bootstrap.min.css"):
            assert _get(f"{base}{path}")[0] == 200, path  # DEBUG off, still served
    finally:
        output = _stop(server, log)
    assert "Traceback" not in output
    refused = [line for line in output.splitlines() if "django.request" in line]
    assert len(refused) == 2, output  # one line each: "Not Found", "Forbidden (Permission denied)"
    assert "Not Found: /no-such-page/" in refused[0] and f"Forbidden (Permission denied): {forbidden}" in refused[1]


@pytest.mark.script
@pytest.mark.django_db(transaction=True)
def test_with_django_debug_1_the_debug_pages_come_back(tmp_path):
    port = _free_port()
    server, log = _runserver(tmp_path, port, DJANGO_DEBUG="1")
    try:
        status, html = _get(f"http://127.0.0.1:{port}/no-such-page/")
    finally:
        _stop(server, log)
    assert status == 404 and "Using the URLconf" in html


def test_a_stale_form_gets_the_products_page(agency, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("console:api_keys", kwargs={"merchant_code": agency.code}), {"name": "k"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "This form has expired" in html and "reload the page" in html
    assert "CSRF verification failed" not in html and "More information is available" not in html


# --- the request log ------------------------------------------------------------------------


@pytest.fixture
def console_log():
    """What the project's "console" handler (the root's, as configured by LOGGING) writes."""
    [handler] = [h for h in logging.getLogger().handlers if h.name == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def test_a_403_is_one_log_line_without_a_traceback(client, agency, console_log):
    forbidden = _forbidden_action(agency)
    client.force_login(make_member(agency, "viewer"))
    assert client.post(forbidden).status_code == 403
    lines = [line for line in console_log.getvalue().splitlines() if line.strip()]
    request_lines = [line for line in lines if " django.request " in line]
    assert len(request_lines) == 1 and f"WARNING django.request Forbidden (Permission denied): {forbidden}" in request_lines[0]
    assert "Traceback" not in console_log.getvalue() and "PermissionDenied" not in console_log.getvalue()


def test_a_404_of_another_merchant_is_one_log_line_without_a_traceback(client, owner, console_log):
    client.force_login(owner)
    assert client.get("/m/imp00000000/").status_code == 404
    output = console_log.getvalue()
    assert [line for line in output.splitlines() if " django.request " in line] == [
        line for line in output.splitlines() if "Not Found: /m/imp00000000/" in line]
    assert output.count("Not Found: /m/imp00000000/") == 1 and "Traceback" not in output


def test_errors_keep_their_traceback():
    """Only refusals lose it: a 500's exception is what the operator needs to see."""
    try:
        raise ValueError("boom")
    except ValueError:
        error = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s",
                                  ("/x/",), sys.exc_info())
    error.status_code = 500
    assert RefusalsWithoutTraceback().filter(error) and error.exc_info is not None
    formatted = logging.Formatter().format(error)
    assert "Traceback" in formatted and "ValueError: boom" in formatted
