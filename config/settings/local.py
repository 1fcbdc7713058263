"""What `make run` uses: a developer machine, nothing configured."""

import os
import secrets
from pathlib import Path

from .base import *  # noqa: F403
from .base import (
    DATABASES,
    PGCONSOLE_ENCRYPTION_KEYS,
    PGCONSOLE_MAIL_DIR,
    VAR_DIR,
    _private_dir,
    env,
)

# `make run` is how a newcomer meets the product: its own error pages (templates/404.html,
# 403.html, 500.html), not Django's debug pages with URL lists and tracebacks. Developing,
# DJANGO_DEBUG=1 make run turns the debug pages on.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

# Static files with DEBUG off and no collectstatic: whitenoise serves them from where they
# are (static/, the Bootstrap package), and sees an edited file at the next request.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Mail stays on this machine, readable: one decoded file a message in var/mail/, listed at
# /local/outbox/ (ops/mail.py, ops/outbox.py). EMAIL_URL sends it by SMTP
# instead; DJANGO_EMAIL_BACKEND picks any backend.
PGCONSOLE_LOCAL_OUTBOX = True
if env("DJANGO_EMAIL_BACKEND", default=""):
    MAILERS = {"default": {"BACKEND": env("DJANGO_EMAIL_BACKEND")}}
elif not env("EMAIL_URL", default=""):
    MAILERS = {"default": {"BACKEND": "ops.mail.LocalMailBackend",
                           "OPTIONS": {"directory": str(PGCONSOLE_MAIL_DIR)}}}


# The development server serves each keep-alive client from a thread of its own, and a
# persistent connection is kept per thread: 30 idle browser tabs held 30 PostgreSQL connections,
# still held after they left, and about 100 exhausted the server for every database on it. So
# every request closes its connection here (Django's default); production (gunicorn) keeps one
# per worker thread, a fixed number (docs/operations.md).
DATABASES["default"]["CONN_MAX_AGE"] = 0

# var/ holds this machine's sessions, encrypted secrets and their key: this user's only.
# A folder made before that rule is closed now.
_private_dir(VAR_DIR)
if VAR_DIR.stat().st_uid == os.getuid() and VAR_DIR.stat().st_mode & 0o077:
    VAR_DIR.chmod(0o700)
# The SQLite file is made here, 0600, before SQLite would make it with the umask's mode;
# its -wal and -shm files take their mode from it.
_db_name = str(DATABASES["default"]["NAME"])
if (DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
        and _db_name != ":memory:" and not _db_name.startswith("file:")
        and Path(_db_name).parent.is_dir()):
    try:
        os.close(os.open(_db_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _local_encryption_key() -> str:
    """A key for this checkout only, made once in var/ (never used in production). Written
    to a file opened 0600, then linked into place, so it is never readable by others, never
    seen half-written, and two processes starting at once agree on one key."""
    from cryptography.fernet import Fernet

    path = VAR_DIR / "encryption.key"
    if not path.exists():
        draft = VAR_DIR / f".encryption.key.{secrets.token_hex(8)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(Fernet.generate_key().decode())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process was first: its key counts
        finally:
            draft.unlink()
    return path.read_text().strip()


if not PGCONSOLE_ENCRYPTION_KEYS:
    PGCONSOLE_ENCRYPTION_KEYS = [_local_encryption_key()]

# Loopback is open here, so webhooks can go to a receiver on this machine.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
