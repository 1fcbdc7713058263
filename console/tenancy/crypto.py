"""Encryption at rest for credentials and secrets (Fernet, keys from the environment).

``PGCONSOLE_ENCRYPTION_KEYS`` is a list of Fernet keys, newest first. Everything is
encrypted with the first; any of them decrypts. To rotate: put a new key first,
deploy, run ``python manage.py rotate_encryption_keys``, then drop the old key. That command
re-encrypts every column in the registry here: each app names its encrypted columns from its
``AppConfig.ready()`` (``register_encrypted``), so the kernel lists none of them.
"""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "InvalidToken", "decrypt_json", "encrypt_json", "encrypted_fields", "generate_key",
    "register_encrypted", "rotate_token",
]

_encrypted: list[tuple[type, str]] = []  # (model, field name), in registration order


def register_encrypted(model, *fields: str) -> None:
    """Name a model's encrypted columns (text encrypted here), for ``rotate_encryption_keys``.
    A name the model lacks fails at start-up."""
    for field in fields:
        model._meta.get_field(field)
        if (model, field) not in _encrypted:
            _encrypted.append((model, field))


def encrypted_fields() -> list[tuple[type, str]]:
    """Every registered encrypted column, as ``(model, field name)``."""
    return list(_encrypted)


def generate_key() -> str:
    return Fernet.generate_key().decode()


@lru_cache(maxsize=4)
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("Set PGCONSOLE_ENCRYPTION_KEYS (one or more Fernet keys).")
    try:
        return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "PGCONSOLE_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from exc


def _fernet() -> MultiFernet:
    return _multi(tuple(settings.PGCONSOLE_ENCRYPTION_KEYS))


def encrypt_json(data: dict) -> str:
    if not data:
        return ""
    return _fernet().encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    return json.loads(_fernet().decrypt(token.encode()))


def encrypt_text(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def rotate_token(token: str) -> str:
    """Re-encrypt under the newest key (a no-op for an empty value)."""
    if not token:
        return token
    return _fernet().rotate(token.encode()).decode()
