"""The PG catalog: one entry per payment gateway the console offers.

Facts come from shared/reference/pg-catalog.md and PortOne's V1 docs (``providers.py``
says which page each rule comes from). Adding a PG means adding one ``Provider`` to
``PROVIDERS`` (``providers.py``; the types are in ``types.py``); tests/channels/test_pg_catalog.py
checks every entry is well formed and tests/channels/test_pg_catalog_docs.py that every `pg` code
PortOne's V1 index lists is here. Bank and card codes are in ``codes.py``.

Queries the rest of the console (and the sandbox payments) use, by `pg` code:
``billing_key_issuance``, ``can_pay_at_issuance``, ``offers_keyin``,
``offers_certification``, ``provider_for_code``.
"""

from .providers import PROVIDERS
from .types import (
    GUIDE_BASE,
    MODULE_LABELS,
    MODULE_TYPE,
    PAYMENT_METHODS,
    SUBSCRIPTION,
    BillingKey,
    CredentialField,
    Issuance,
    Kind,
    Module,
    PgCode,
    Provider,
    Text,
)

__all__ = [
    "GUIDE_BASE", "MODULE_LABELS", "MODULE_TYPE", "PAYMENT_METHODS", "PROVIDERS", "SUBSCRIPTION",
    "BillingKey", "CredentialField", "Issuance", "Kind", "Module", "PgCode", "Provider", "Text",
    "all_pg_codes", "billing_key_issuance", "can_pay_at_issuance", "get", "offers_certification",
    "offers_keyin", "pg_code", "pg_string", "provider_choices", "provider_for_code",
]

BY_KEY: dict[str, Provider] = {p.key: p for p in PROVIDERS}
BY_CODE: dict[str, tuple[Provider, PgCode]] = {c.code: (p, c) for p in PROVIDERS for c in p.codes}


def get(key: str) -> Provider | None:
    return BY_KEY.get(key)


def provider_choices():
    return [(p.key, str(p.name)) for p in PROVIDERS]


def pg_string(pg_code: str, mid: str) -> str:
    """IMP.request_pay's `pg` parameter: `{code}.{MID}`."""
    return f"{pg_code}.{mid}"


def all_pg_codes() -> list[str]:
    return list(BY_CODE)


def pg_code(code: str) -> PgCode | None:
    entry = BY_CODE.get(code)
    return entry[1] if entry else None


def provider_for_code(code: str) -> Provider | None:
    entry = BY_CODE.get(code)
    return entry[0] if entry else None


def billing_key_issuance(code: str) -> tuple[str, ...]:
    """How a billing key is issued for `code`: ``("window",)``, ``("api",)``,
    ``("window", "api")``, or ``()`` when it issues none (or is unknown)."""
    entry = pg_code(code)
    return entry.billing.issuance if entry else ()


def can_pay_at_issuance(code: str, pay_method: str | None = None) -> bool:
    """Whether a billing key issued through the window can pay at once (V1 SDK). Where it
    depends on the payment method (Welcome), pass it: without one the answer is no."""
    entry = pg_code(code)
    return bool(entry and entry.billing.can_pay_at_issuance(pay_method))


def offers_keyin(code: str) -> bool:
    entry = pg_code(code)
    return bool(entry and entry.keyin)


def offers_certification(code: str) -> bool:
    entry = pg_code(code)
    return bool(entry and entry.certification)
