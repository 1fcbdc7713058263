"""Settings by environment, checked in fresh interpreters (settings load once per process)."""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.script  # each test runs a fresh interpreter

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
    "DJANGO_ALLOWED_HOSTS": "console.example.com",
    "DATABASE_URL": "postgres://pgconsole@db.internal:5432/pgconsole",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "PGCONSOLE_ENCRYPTION_KEYS": "PmqHEJKk3HEXux-nx6LElaQZ19ZrdmrVJujpBNpALO0=",
}


def run(code: str, env: dict, *, check=True, cwd=ROOT, timeout=60) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "PGCONSOLE_ENCRYPTION_KEYS",
        "DJANGO_READ_DOT_ENV_FILE", "PGCONSOLE_PUBLIC_URL", "PGCONSOLE_VAR_DIR"}}
    return subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=cwd,
        capture_output=True, text=True, check=check, timeout=timeout, umask=0o022,
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


# --- .env: read for development, in production only when asked ------------------------

DOT_ENV_SHOWS = (
    "import importlib, os; s = importlib.import_module(os.environ['DJANGO_SETTINGS_MODULE']); "
    "print(s.PGCONSOLE_PUBLIC_URL)"
)
FROM_DOT_ENV = "https://from-the-dot-env.example"


@pytest.mark.parametrize(("settings_module", "read_dot_env", "expected"), [
    ("config.settings.production", None, ""),
    ("config.settings.production", "0", ""),
    ("config.settings.production", "1", FROM_DOT_ENV),
    ("config.settings.local", None, FROM_DOT_ENV),
    ("config.settings.local", "0", ""),
])
def test_dot_env_is_read_only_where_asked(tmp_path, settings_module, read_dot_env, expected):
    """A copy of config/ in a folder of its own, with a .env beside it (its BASE_DIR)."""
    shutil.copytree(ROOT / "config", tmp_path / "config",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / ".env").write_text(f"PGCONSOLE_PUBLIC_URL={FROM_DOT_ENV}\n")
    env = {**PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": settings_module,
           "PGCONSOLE_VAR_DIR": str(tmp_path / "var")}
    if read_dot_env is not None:
        env["DJANGO_READ_DOT_ENV_FILE"] = read_dot_env
    out = run(DOT_ENV_SHOWS, env, cwd=tmp_path)
    assert out.stdout.strip() == expected


# --- Local state: this user's only --------------------------------------------------------

MIGRATE_AND_LIST = """
import django, json, os
django.setup()
from django.core.management import call_command
from django.conf import settings
call_command("migrate", verbosity=0)
call_command("createcachetable", verbosity=0)
root = os.environ["PGCONSOLE_VAR_DIR"]
modes = {}
for folder, dirs, files in os.walk(root):  # while the connection is open: -wal and -shm too
    for name in dirs + files:
        path = os.path.join(folder, name)
        modes[os.path.relpath(path, root)] = os.stat(path).st_mode
modes["."] = os.stat(root).st_mode
print(json.dumps(modes))
"""


def test_local_state_is_readable_by_its_user_only(tmp_path):
    var = tmp_path / "fresh" / "var"  # nothing exists yet
    out = run(MIGRATE_AND_LIST, {"DJANGO_SETTINGS_MODULE": "config.settings.local",
                                 "PGCONSOLE_VAR_DIR": str(var)}, timeout=180)
    modes = json.loads(out.stdout)
    assert {"db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm", "encryption.key",
            "celery/queue", "celery/processed", "celery/results", "celery/control"} <= set(modes)
    for name, mode in modes.items():
        expected = 0o700 if stat.S_ISDIR(mode) else 0o600
        assert stat.S_IMODE(mode) == expected, f"{name}: {oct(stat.S_IMODE(mode))}"
    assert stat.S_IMODE(os.stat(tmp_path / "fresh").st_mode) == 0o700  # made for it, too


def test_local_settings_close_a_var_folder_made_before(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    run("import django; django.setup()", {"DJANGO_SETTINGS_MODULE": "config.settings.local",
                                          "PGCONSOLE_VAR_DIR": str(var)})
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert stat.S_IMODE((var / "encryption.key").stat().st_mode) == 0o600
