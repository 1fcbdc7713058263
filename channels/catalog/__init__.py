"""The PG catalog: one entry per payment gateway the console offers.

Facts come from shared/reference/pg-catalog.md. Adding a PG means adding one
``Provider`` to ``PROVIDERS`` (``providers.py``; the types are in ``types.py``); tests/test_pg_catalog.py checks every entry is well
formed. Field lists for JTNET, Blue Walnut, CHAI and Alipay are the least
documented: they are the minimum, easy to amend here.
"""

from .providers import PROVIDERS
from .types import (
    GUIDE_BASE,
    MODULE_LABELS,
    MODULE_TYPE,
    PAYMENT_METHODS,
    SUBSCRIPTION,
    CredentialField,
    Kind,
    Module,
    PgCode,
    Provider,
    Text,
)

__all__ = [
    "GUIDE_BASE", "MODULE_LABELS", "MODULE_TYPE", "PAYMENT_METHODS", "PROVIDERS", "SUBSCRIPTION",
    "CredentialField", "Kind", "Module", "PgCode", "Provider", "Text", "get", "pg_string",
    "provider_choices",
]

BY_KEY: dict[str, Provider] = {p.key: p for p in PROVIDERS}


def get(key: str) -> Provider | None:
    return BY_KEY.get(key)


def provider_choices():
    return [(p.key, str(p.name)) for p in PROVIDERS]


def pg_string(pg_code: str, mid: str) -> str:
    """IMP.request_pay's `pg` parameter: `{code}.{MID}`."""
    return f"{pg_code}.{mid}"
