"""REST API keys and tokens, i'mport style.

A key (imp_key) is public; its secret (imp_secret) is shown once and stored only as a
SHA-256 hash (it is 48 random bytes, so a fast hash is enough). ``/users/getToken`` issues
a 30-minute token; asking again returns the same token, extended by 5 minutes when less
than a minute is left. Reissuing a secret bumps ``secret_version``, which ends every token
issued with the old one; revoking ends the key. Finding the key behind a token, on every call,
is the REST door's (``console.rest.tokens.token_authenticate``).
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api_keys.audit import AuditAction
from console.models import ApiKey, ApiToken, Merchant
from console.tenancy.audit import Actor, audit_record
from console.tenancy.crypto import decrypt_text, encrypt_text
from console.tenancy.hashing import sha256_hex
from console.tenancy.locks import lock_rows

NAME_MAX_LENGTH = ApiKey._meta.get_field("name").max_length  # one limit: the model's
TOKEN_LIFETIME = timedelta(minutes=30)
EXTEND_WHEN_LESS_THAN = timedelta(minutes=1)
EXTENSION = timedelta(minutes=5)


def _new_key() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(16))


def _new_secret() -> str:
    return secrets.token_urlsafe(60)[:80]


@dataclass
class IssuedSecret:
    api_key: ApiKey
    secret: str  # shown to the operator once, never stored


@transaction.atomic
def api_key_create(*, actor: Actor, merchant: Merchant, name: str,
                   expires_at: datetime | None = None) -> IssuedSecret:
    if merchant.is_sub_merchant:
        raise ValidationError(_("Sub-merchants have no keys of their own: the agency's keys act "
                                "for them with the Tier header."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the key a name, e.g. “order server”.")]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": [_("The name is too long: at most %(max)d characters.")
                                        % {"max": NAME_MAX_LENGTH}]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": [_("The expiry must be in the future.")]})
    secret = _new_secret()
    key = ApiKey.objects.create(merchant=merchant, name=name, key=_new_key(), secret_hash=sha256_hex(secret),
                                expires_at=expires_at)
    audit_record(actor=actor, merchant=merchant, action=AuditAction.API_KEY_CREATE, target=key,
                 changed_fields=["secret"],  # its name only: the secret is shown once, never kept
                 changes={"name": (None, name),
                          **({"expires_at": (None, expires_at)} if expires_at else {})})
    return IssuedSecret(api_key=key, secret=secret)


@transaction.atomic
def api_key_reissue(*, actor: Actor, api_key: ApiKey) -> IssuedSecret:
    """A new secret; the old one and every token issued with it stop at once."""
    api_key = lock_rows(ApiKey.objects).get(pk=api_key.pk)
    if api_key.revoked_at:
        raise ValidationError(_("This key is revoked."))
    secret = _new_secret()
    api_key.secret_hash = sha256_hex(secret)
    api_key.secret_version += 1
    api_key.save(update_fields=["secret_hash", "secret_version"])
    api_key.tokens.all().delete()
    audit_record(actor=actor, merchant=api_key.merchant, action=AuditAction.API_KEY_REISSUE,
                 target=api_key, changed_fields=["secret"])
    return IssuedSecret(api_key=api_key, secret=secret)


@transaction.atomic
def api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    api_key = lock_rows(ApiKey.objects).get(pk=api_key.pk)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        api_key.tokens.all().delete()
        audit_record(actor=actor, merchant=api_key.merchant, action=AuditAction.API_KEY_REVOKE,
                     target=api_key, changes={"revoked_at": (None, api_key.revoked_at)})
    return api_key


def api_key_check(imp_key: str, imp_secret: str) -> ApiKey | None:
    """The active key with this secret, or None (constant-time secret comparison)."""
    api_key = ApiKey.objects.select_related("merchant").filter(key=(imp_key or "").strip()).first()
    if api_key is None or not api_key.is_active():
        sha256_hex(imp_secret or "")  # same work whether or not the key exists
        return None
    if not hmac.compare_digest(api_key.secret_hash, sha256_hex(imp_secret or "")):
        return None
    return api_key


@dataclass
class IssuedToken:
    token: str
    now: datetime
    expires_at: datetime


@transaction.atomic
def token_issue(api_key: ApiKey) -> IssuedToken:
    """The key's live token (extended when nearly expired), or a new one."""
    now = timezone.now()
    current = (lock_rows(ApiToken.objects)
               .filter(api_key=api_key, secret_version=api_key.secret_version, expires_at__gt=now)
               .order_by("-expires_at").first())
    if current is not None:
        if current.expires_at - now < EXTEND_WHEN_LESS_THAN:
            current.expires_at += EXTENSION
            current.save(update_fields=["expires_at"])
        return IssuedToken(token=decrypt_text(current.token_encrypted), now=now, expires_at=current.expires_at)
    ApiToken.objects.filter(api_key=api_key, expires_at__lte=now).delete()
    token = secrets.token_hex(20)
    created = ApiToken.objects.create(api_key=api_key, token_hash=sha256_hex(token),
                                      token_encrypted=encrypt_text(token),
                                      secret_version=api_key.secret_version, issued_at=now,
                                      expires_at=now + TOKEN_LIFETIME)
    return IssuedToken(token=token, now=now, expires_at=created.expires_at)
