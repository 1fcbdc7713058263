"""Writes to merchants, sub-merchants and memberships.

Each service validates, writes, and records its audit event in one
transaction. Views, the admin and management commands all call these.
"""

import secrets

from django.db import IntegrityError, transaction

from .audit import Actor, audit_record, changed_fields, snapshot
from .models import Membership, Merchant, Operator
from .roles import Role

MERCHANT_CODE_ATTEMPTS = 8


def _new_merchant_code() -> str:
    return f"imp{secrets.randbelow(10**8):08d}"


def _merchant_insert(merchant: Merchant) -> Merchant:
    """Give the merchant a fresh, unique code and insert it.

    Codes are random, so two processes rarely collide; when they do, the
    unique index refuses the second and we draw again.
    """
    merchant.full_clean(exclude=["code"])
    for _ in range(MERCHANT_CODE_ATTEMPTS):
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
        actor=actor, merchant=merchant, action="merchant.create", target=merchant,
        changed_fields=["name"],
    )
    _provision_test_channels(actor, merchant)
    return merchant


@transaction.atomic
def sub_merchant_create(*, actor: Actor, agency: Merchant, name: str, tier_code: str) -> Merchant:
    sub = _merchant_insert(Merchant(name=name, parent=agency, tier_code=tier_code.strip().upper()))
    audit_record(
        actor=actor, merchant=agency, action="sub_merchant.create", target=sub,
        changed_fields=["name", "tier_code"],
    )
    _provision_test_channels(actor, sub)
    return sub


MERCHANT_EDITABLE = ("name", "tier_code")


@transaction.atomic
def merchant_update(*, actor: Actor, merchant: Merchant, **values) -> Merchant:
    unknown = set(values) - set(MERCHANT_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    before = snapshot(merchant, MERCHANT_EDITABLE)
    for name, value in values.items():
        setattr(merchant, name, value)
    merchant.full_clean()
    changed = changed_fields(merchant, before, MERCHANT_EDITABLE)
    if changed:
        merchant.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor, merchant=merchant.parent or merchant, action="merchant.update",
            target=merchant, changed_fields=changed,
        )
    return merchant


@transaction.atomic
def membership_create(
    *, actor: Actor, operator: Operator, merchant: Merchant, role: str
) -> Membership:
    membership = Membership(operator=operator, merchant=merchant, role=Role(role))
    membership.full_clean()
    membership.save()
    audit_record(
        actor=actor, merchant=merchant, action="membership.create", target=membership,
        changed_fields=["operator", "role"],
    )
    return membership


@transaction.atomic
def membership_set_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    membership.role = Role(role)
    membership.full_clean()
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor, merchant=membership.merchant, action="membership.update", target=membership,
        changed_fields=["role"],
    )
    return membership


@transaction.atomic
def membership_delete(*, actor: Actor, membership: Membership) -> None:
    audit_record(
        actor=actor, merchant=membership.merchant, action="membership.delete", target=membership,
        changed_fields=["role"],
    )
    membership.delete()
