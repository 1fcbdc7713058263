"""What `make run` uses: a developer machine, nothing configured."""

from .base import *  # noqa: F403
from .base import PGCONSOLE_ENCRYPTION_KEYS, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
MAILERS = {
    "default": {
        "BACKEND": env(
            "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
        )
    }
}


def _local_encryption_key() -> str:
    """A key for this checkout only, made once in var/ (never used in production)."""
    from cryptography.fernet import Fernet

    path = VAR_DIR / "encryption.key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


if not PGCONSOLE_ENCRYPTION_KEYS:
    PGCONSOLE_ENCRYPTION_KEYS = [_local_encryption_key()]

# Loopback is open here, so webhooks can go to a receiver on this machine.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
