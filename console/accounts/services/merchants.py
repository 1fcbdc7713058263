"""Writes to merchants and sub-merchants (tiers): creating them with a fresh merchant code and
their test channels, editing their profile and tier code, the two-factor rule.

Each service validates, writes, and records its audit row in one transaction. Tier codes are
checked under the agency's row lock (``lock_merchant``).
"""

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from console.models import Merchant
from console.tenancy.audit import Actor, AuditAction, audit_changes, audit_record, snapshot
from console.tenancy.selectors import lock_merchant

MERCHANT_CODE_ATTEMPTS = 8


def _new_merchant_code() -> str:
    return f"imp{secrets.randbelow(10**8):08d}"


def _merchant_insert(merchant: Merchant) -> Merchant:
    """Give the merchant a fresh, unique code and insert it.

    Codes are random, so two processes rarely collide; when they do, the
    unique index refuses the second and we draw again.
    """
    merchant.full_clean(exclude=["code"])
    for _attempt in range(MERCHANT_CODE_ATTEMPTS):
        merchant.code = _new_merchant_code()
        if Merchant.objects.filter(code=merchant.code).exists():
            continue
        try:
            with transaction.atomic():
                merchant.save(force_insert=True)
            return merchant
        except IntegrityError:
            if Merchant.objects.filter(code=merchant.code).exists():
                merchant.pk = None
                continue
            raise
    raise RuntimeError("could not draw an unused merchant code")


def _provision_test_channels(actor: Actor, merchant: Merchant) -> None:
    """Every merchant starts with a test channel per shared test credential."""
    from channels.services import test_channels_provision

    test_channels_provision(actor=actor, merchant_ids=[merchant.pk])


@transaction.atomic
def merchant_create(*, actor: Actor, name: str) -> Merchant:
    merchant = _merchant_insert(Merchant(name=name))
    audit_record(
        actor=actor, merchant=merchant, action=AuditAction.MERCHANT_CREATE, target=merchant,
        changes={"name": (None, merchant.name)},
    )
    _provision_test_channels(actor, merchant)
    return merchant


SUB_MERCHANT_PROFILE = ("service_url", "contact_name", "contact_phone", "webhook_same_as_agency")


def _tier_code_taken_error(tier_code: str) -> ValidationError:
    return ValidationError({"tier_code": _(
        "The tier code %(code)s is taken: this agency already has a sub-merchant with it."
    ) % {"code": tier_code}})


def _refuse_taken_tier_code(agency: Merchant, tier_code: str) -> None:
    """Call with the agency's row locked, so two requests cannot take one code."""
    if tier_code and Merchant.objects.filter(parent=agency, tier_code=tier_code).exists():
        raise _tier_code_taken_error(tier_code)


def _save_or_refuse_taken_tier_code(save, tier_code: str) -> None:
    """The unique index stays the last word (a writer that skipped the lock)."""
    try:
        with transaction.atomic():
            save()
    except IntegrityError as exc:
        if "merchant_tier_code_unique_under_parent" in str(exc):
            raise _tier_code_taken_error(tier_code) from exc
        raise


@transaction.atomic
def sub_merchant_create(
    *, actor: Actor, agency: Merchant, name: str, tier_code: str, **profile
) -> Merchant:
    unknown = set(profile) - set(SUB_MERCHANT_PROFILE)
    if unknown:
        raise ValueError(f"not a sub-merchant field: {sorted(unknown)}")
    agency = lock_merchant(agency)  # one tier code at a time
    sub = Merchant(name=(name or "").strip(), parent=agency,
                   tier_code=(tier_code or "").strip().upper(), **profile)
    _refuse_taken_tier_code(agency, sub.tier_code)
    _save_or_refuse_taken_tier_code(lambda: _merchant_insert(sub), sub.tier_code)
    audit_record(
        actor=actor, merchant=agency, action=AuditAction.SUB_MERCHANT_CREATE, target=sub,
        changes={f: (None, getattr(sub, f))
                 for f in ("name", "tier_code", *[f for f, v in profile.items() if v != ""])},
    )
    _provision_test_channels(actor, sub)
    return sub


MERCHANT_EDITABLE = ("name", "tier_code", "require_two_factor", *SUB_MERCHANT_PROFILE)


@transaction.atomic
def merchant_update(*, actor: Actor, merchant: Merchant, **values) -> Merchant:
    """Change a merchant's or sub-merchant's profile. Audited as ``merchant.update`` or, for a
    sub-merchant (recorded on its agency), ``sub_merchant.update``."""
    unknown = set(values) - set(MERCHANT_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    merchant = lock_merchant(merchant)
    before = snapshot(merchant, MERCHANT_EDITABLE)
    for name, value in values.items():
        setattr(merchant, name, value.strip() if isinstance(value, str) else value)
    if merchant.tier_code:
        merchant.tier_code = merchant.tier_code.upper()
        if merchant.tier_code != before["tier_code"]:
            lock_merchant(merchant.parent)
            _refuse_taken_tier_code(merchant.parent, merchant.tier_code)
    merchant.full_clean()
    changes = audit_changes(merchant, before, MERCHANT_EDITABLE)
    if changes:
        _save_or_refuse_taken_tier_code(
            lambda: merchant.save(update_fields=[*changes, "updated_at"]), merchant.tier_code
        )
        action = (AuditAction.SUB_MERCHANT_UPDATE if merchant.parent_id
                  else AuditAction.MERCHANT_UPDATE)
        audit_record(actor=actor, merchant=merchant.parent or merchant, action=action,
                     target=merchant, changes=changes)
    return merchant


@transaction.atomic
def two_factor_rule_set(*, actor: Actor, merchant: Merchant, required: bool) -> Merchant:
    """Require two-factor login of the merchant's owners and admins (from their next login).
    Set on the agency: its owners and admins are the sub-merchants' too."""
    if merchant.parent_id:
        raise ValidationError(_("The two-factor rule is set on the agency: it covers its owners "
                                "and admins everywhere."))
    return merchant_update(actor=actor, merchant=merchant, require_two_factor=required)
