"""What the REST door reads on every call: the API key behind a bearer token, and whether the
caller's address is on the merchant's IP whitelist. Only the kernel's models are read (keys,
tokens, rules and merchants are the kernel's); issuing keys and tokens and editing the
whitelist are the ``api_keys`` app's.

Tokens are looked up by their SHA-256 in one plain SQL statement. ``CompiledWhitelist``
answers in O(log n) whatever the rule count. Each process keeps one compiled copy per
merchant, keyed on ``Merchant.updated_at``, which the call has read with the merchant anyway
(no extra query). Every write to a whitelist rule, however made (the Whitelist page, the
admin, the ORM, SQL), bumps its merchant's ``updated_at`` in the same transaction: a database
trigger does it (migration ``console.0010``), so no code path can forget. A change to the rules
therefore holds from the next call in every process.
"""

import bisect
import ipaddress
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


# --- the IP whitelist ---------------------------------------------------------------------


class CompiledWhitelist:
    """Rules as sorted integer ranges: membership by binary search, whatever the rule count."""

    def __init__(self, cidrs):
        self._ranges = {4: [], 6: []}
        for cidr in cidrs:
            network = ipaddress.ip_network(cidr)
            self._ranges[network.version].append(
                (int(network.network_address), int(network.broadcast_address)))
        self._starts = {}
        for version, ranges in self._ranges.items():
            ranges.sort()
            merged = []
            for start, end in ranges:
                if merged and start <= merged[-1][1] + 1:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
                else:
                    merged.append((start, end))
            self._ranges[version] = merged
            self._starts[version] = [start for start, _end in merged]

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        value = int(ip)
        starts = self._starts[ip.version]
        i = bisect.bisect_right(starts, value) - 1
        return i >= 0 and value <= self._ranges[ip.version][i][1]


_compiled: dict[int, tuple[object, CompiledWhitelist]] = {}


def whitelist_allows(merchant: Merchant, address: str | None) -> bool:
    """Is a REST call from ``address`` allowed for this merchant? (True when the list is off.)"""
    if not merchant.whitelist_enabled:
        return True
    if not address:
        return False
    cached = _compiled.get(merchant.pk)
    if cached is None or cached[0] != merchant.updated_at:  # the rules changed (or first call)
        rules = merchant.whitelist_rules.values_list("cidr", flat=True)
        cached = (merchant.updated_at, CompiledWhitelist(rules))
        _compiled[merchant.pk] = cached
    return cached[1].allows(address)
