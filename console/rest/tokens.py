"""The REST door's read on every call: the API key behind a bearer token, looked up by the
token's SHA-256 in one plain SQL statement. Only the kernel's models are read; issuing keys
and tokens (``/users/getToken``) is the ``api_keys`` app's.
"""

from datetime import UTC, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from console.models import ApiKey, ApiToken, Merchant
from console.tenancy.hashing import sha256_hex

LAST_USED_EVERY = timedelta(minutes=1)


# What authenticating a call needs: nothing more is read on this hot path.
# What a token's request needs, read in one statement: the key (``key`` and ``name`` name it
# in the audit rows of tier calls) and its merchant (whitelist and tiers).


def _in_model_order(model, names: set[str]) -> tuple[str, ...]:
    """``Model.from_db`` takes a subset of the fields in the model's own order."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


_KEY_FIELDS = _in_model_order(ApiKey, {"id", "key", "name", "secret_version", "revoked_at", "expires_at",
                                       "last_used_at", "merchant_id"})
_MERCHANT_FIELDS = _in_model_order(Merchant, {"id", "parent_id", "whitelist_enabled", "updated_at"})
_DATETIMES = {"revoked_at", "expires_at", "last_used_at", "updated_at"}


def _token_sql() -> str:
    qn = connection.ops.quote_name

    def cols(model, alias, names):
        return [f"{alias}.{qn(model._meta.get_field(n.removesuffix('_id')).column)}" for n in names]

    token, key, merchant = ApiToken._meta, ApiKey._meta, Merchant._meta
    selected = [f"t.{qn('secret_version')}", *cols(ApiKey, "k", _KEY_FIELDS),
                *cols(Merchant, "m", _MERCHANT_FIELDS)]
    return (f"SELECT {', '.join(selected)} FROM {qn(token.db_table)} t "
            f"JOIN {qn(key.db_table)} k ON k.{qn('id')} = t.{qn('api_key_id')} "
            f"JOIN {qn(merchant.db_table)} m ON m.{qn('id')} = k.{qn('merchant_id')} "
            f"WHERE t.{qn('token_hash')} = %s AND t.{qn('expires_at')} > %s")


def _aware(value):
    """A datetime column as the ORM would give it (SQLite hands a raw cursor text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def token_authenticate(token: str) -> ApiKey | None:
    """The key behind a live token, or None (expired, unknown, reissued or revoked).

    The REST hot path: one plain SQL statement (the ORM would compile the same join on every
    call), its row turned into the ``ApiKey`` and ``Merchant`` instances the views use."""
    if not token:
        return None
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(), [sha256_hex(token), connection.ops.adapt_datetimefield_value(now)])
        row = cursor.fetchone()
    if row is None:
        return None
    token_version, rest = row[0], row[1:]
    key_values = [_aware(v) if f in _DATETIMES else v
                  for f, v in zip(_KEY_FIELDS, rest[:len(_KEY_FIELDS)], strict=True)]
    merchant_values = [_aware(v) if f in _DATETIMES else v
                       for f, v in zip(_MERCHANT_FIELDS, rest[len(_KEY_FIELDS):], strict=True)]
    api_key = ApiKey.from_db(connection.alias, list(_KEY_FIELDS), key_values)
    api_key.merchant = Merchant.from_db(connection.alias, list(_MERCHANT_FIELDS), merchant_values)
    if token_version != api_key.secret_version or not api_key.is_active(now):
        return None
    touch_last_used(api_key)
    return api_key


def touch_last_used(api_key: ApiKey) -> None:
    """Record use, at most about once a minute (not a write on every call)."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_EVERY:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
