"""Settings by environment, checked in fresh interpreters (settings load once per process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
    "DJANGO_ALLOWED_HOSTS": "console.example.com",
    "DATABASE_URL": "postgres://pgconsole@db.internal:5432/pgconsole",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "PGCONSOLE_ENCRYPTION_KEYS": "PmqHEJKk3HEXux-nx6LElaQZ19ZrdmrVJujpBNpALO0=",
}


def run(code: str, env: dict, *, check=True) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "PGCONSOLE_ENCRYPTION_KEYS"}}
    return subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=ROOT,
        capture_output=True, text=True, check=check, timeout=60,
    )


SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'broker': s.CELERY_BROKER_URL, "
    "'journal': s.DATABASES['default'].get('OPTIONS', {}).get('init_command', '')}))"
)


def test_nothing_configured_means_sqlite_wal_and_filesystem_broker(tmp_path):
    out = run(SHOW, {"DJANGO_SETTINGS_MODULE": "config.settings.local",
                     "PGCONSOLE_VAR_DIR": str(tmp_path)})
    shown = json.loads(out.stdout)
    assert shown["db"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in shown["journal"]
    assert shown["broker"] == "filesystem://"


def test_database_url_and_redis_url_switch_backends(tmp_path):
    out = run(SHOW, {"DJANGO_SETTINGS_MODULE": "config.settings.local",
                     "PGCONSOLE_VAR_DIR": str(tmp_path),
                     "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
                     "REDIS_URL": "redis://127.0.0.1:6379/3"})
    shown = json.loads(out.stdout)
    assert shown["db"] == "django.db.backends.postgresql"
    assert shown["broker"] == "redis://127.0.0.1:6379/3"


def test_celery_broker_url_wins_over_redis_url(tmp_path):
    out = run(SHOW, {"DJANGO_SETTINGS_MODULE": "config.settings.local",
                     "PGCONSOLE_VAR_DIR": str(tmp_path),
                     "REDIS_URL": "redis://127.0.0.1:6379/3",
                     "CELERY_BROKER_URL": "redis://127.0.0.1:6379/5"})
    assert json.loads(out.stdout)["broker"] == "redis://127.0.0.1:6379/5"


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "PGCONSOLE_ENCRYPTION_KEYS"]
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    out = run("import django; django.setup()", env, check=False)
    assert out.returncode != 0
    assert missing in out.stderr


def test_production_check_deploy_is_clean():
    out = run(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'DEBUG'])",
        PRODUCTION_ENV,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "System check identified no issues" in out.stdout


def test_production_cookies_hsts_and_csp():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_SSL_REDIRECT, s.DEBUG, s.SECURE_CSP['script-src']]))"
    )
    secure_session, secure_csrf, hsts, redirect, debug, script_src = json.loads(
        run(code, PRODUCTION_ENV).stdout
    )
    assert secure_session and secure_csrf and redirect and not debug
    assert hsts >= 31536000
    assert script_src == ["'self'"]


def test_a_bad_encryption_key_fails_the_system_check():
    env = {**PRODUCTION_ENV, "PGCONSOLE_ENCRYPTION_KEYS": "not-a-fernet-key"}
    out = run(
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check'])",
        env,
        check=False,
    )
    assert out.returncode != 0
    assert "pgconsole.E002" in out.stderr
