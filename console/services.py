"""Writes to merchants, sub-merchants and memberships (invitations: ``console.invitations``).

Each service validates, writes, and records its audit event in one
transaction. Views, the admin and management commands all call these.
"""

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import Actor, audit_record, changed_fields, snapshot
from .models import Membership, Merchant, Operator
from .roles import SUB_MERCHANT_ROLES, Role, assignable_roles, may_manage_member  # noqa: F401

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
        actor=actor, merchant=agency, action="sub_merchant.create", target=sub,
        changed_fields=["name", "tier_code", *[f for f, v in profile.items() if v != ""]],
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
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    before = snapshot(merchant, MERCHANT_EDITABLE)
    for name, value in values.items():
        setattr(merchant, name, value.strip() if isinstance(value, str) else value)
    if merchant.tier_code:
        merchant.tier_code = merchant.tier_code.upper()
        if merchant.tier_code != before["tier_code"]:
            lock_merchant(merchant.parent)
            _refuse_taken_tier_code(merchant.parent, merchant.tier_code)
    merchant.full_clean()
    changed = changed_fields(merchant, before, MERCHANT_EDITABLE)
    if changed:
        _save_or_refuse_taken_tier_code(
            lambda: merchant.save(update_fields=[*changed, "updated_at"]), merchant.tier_code
        )
        audit_record(
            actor=actor, merchant=merchant.parent or merchant,
            action="sub_merchant.update" if merchant.parent_id else "merchant.update",
            target=merchant, changed_fields=changed,
        )
    return merchant


@transaction.atomic
def two_factor_rule_set(*, actor: Actor, merchant: Merchant, required: bool) -> Merchant:
    """Require two-factor login of the merchant's owners and admins (from their next login).
    Set on the agency: its owners and admins are the sub-merchants' too."""
    if merchant.parent_id:
        raise ValidationError(_("The two-factor rule is set on the agency: it covers its owners "
                                "and admins everywhere."))
    return merchant_update(actor=actor, merchant=merchant, require_two_factor=required)


# --- Memberships ---------------------------------------------------------------
# Role rules, checked with the merchant's row locked so that two requests cannot both
# take the last admin seat or both demote one of two owners:
# - one admin per merchant, at most MAX_DEVELOPERS developers (open invitations count);
# - a sub-merchant's own members are Manager or Viewer;
# - the last owner can be neither removed nor demoted;
# - an admin manages managers, developers and viewers; only an owner grants or changes
#   Owner and Admin.

MAX_ADMINS = 1
MAX_DEVELOPERS = 10


def lock_merchant(merchant: Merchant) -> Merchant:
    """Lock the merchant's row until the transaction ends: the role rules and tier codes
    are checked under it."""
    return Merchant.objects.select_for_update().get(pk=merchant.pk)


def role_grant_check(*, actor_role: str, merchant: Merchant, role: str) -> None:
    """Refuse a role that ``actor_role`` may not give on ``merchant``, saying why."""
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role from the list.")})
    if role in assignable_roles(actor_role=actor_role, merchant=merchant):
        return
    if merchant.parent_id and role not in SUB_MERCHANT_ROLES:
        raise ValidationError({"role": _("A sub-merchant's members can only be Manager or Viewer.")})
    raise ValidationError({"role": _("Only an owner can give the Owner or Admin role.")})


def role_limits_check(
    merchant: Merchant, role: str, *, membership: Membership | None = None,
    invitation_id: int | None = None,
) -> None:
    """Refuse a role that would break the per-merchant limits. Open, unexpired invitations
    count, so that accepting one can never break them."""
    from .models import Invitation

    limits = {Role.ADMIN: MAX_ADMINS, Role.DEVELOPER: MAX_DEVELOPERS}
    if role not in limits:
        return
    members = Membership.objects.filter(merchant=merchant, role=role)
    if membership is not None and membership.pk:
        members = members.exclude(pk=membership.pk)
    invitations = Invitation.objects.filter(
        merchant=merchant, role=role, accepted_at__isnull=True, revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    if invitation_id is not None:
        invitations = invitations.exclude(pk=invitation_id)
    if members.count() + invitations.count() >= limits[role]:
        if role == Role.ADMIN:
            raise ValidationError({"role": _(
                "This merchant already has an admin (or an open invitation for one). "
                "A merchant has one admin: change that member's role first."
            )})
        raise ValidationError({"role": _(
            "This merchant already has %(max)d developers (open invitations included), "
            "the most it may have."
        ) % {"max": MAX_DEVELOPERS}})


def last_owner_check(membership: Membership) -> None:
    """Refuse to take away the merchant's last owner (demoting or removing)."""
    if membership.role != Role.OWNER:
        return
    others = Membership.objects.filter(merchant_id=membership.merchant_id, role=Role.OWNER).exclude(
        pk=membership.pk
    )
    if not others.exists():
        raise ValidationError({"role": _(
            "This is the merchant's last owner. Make another member an owner first."
        )})


def _check_actor(actor_role: str, actor: Actor, membership: Membership, new_role: str | None) -> None:
    if not may_manage_member(actor_role=actor_role, actor=actor.user, membership=membership):
        raise ValidationError(_("Only an owner can change or remove an owner or the admin."))
    if new_role is not None:
        role_grant_check(actor_role=actor_role, merchant=membership.merchant, role=new_role)


@transaction.atomic
def membership_create(
    *, actor: Actor, operator: Operator, merchant: Merchant, role: str,
    actor_role: str = Role.OWNER, invitation_id: int | None = None,
) -> Membership:
    merchant = lock_merchant(merchant)
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role from the list.")})
    if Membership.objects.filter(operator=operator, merchant=merchant).exists():
        raise ValidationError({"email": _("%(email)s is already a member of this merchant.")
                               % {"email": operator.email}})
    membership = Membership(operator=operator, merchant=merchant, role=Role(role))
    membership.full_clean(validate_constraints=False)  # the one above, under the lock
    role_grant_check(actor_role=actor_role, merchant=merchant, role=role)
    role_limits_check(merchant, role, invitation_id=invitation_id)
    membership.save()
    audit_record(
        actor=actor, merchant=merchant, action="membership.create", target=membership,
        changed_fields=["operator", "role"],
    )
    return membership


@transaction.atomic
def membership_set_role(
    *, actor: Actor, membership: Membership, role: str, actor_role: str = Role.OWNER
) -> Membership:
    lock_merchant(membership.merchant)
    membership = Membership.objects.select_for_update().select_related("merchant", "operator").get(
        pk=membership.pk
    )
    if membership.role == role:
        return membership
    _check_actor(actor_role, actor, membership, role)
    last_owner_check(membership)
    role_limits_check(membership.merchant, role, membership=membership)
    membership.role = Role(role)
    membership.full_clean()
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor, merchant=membership.merchant, action="membership.update", target=membership,
        changed_fields=["role"],
    )
    return membership


@transaction.atomic
def membership_delete(*, actor: Actor, membership: Membership, actor_role: str = Role.OWNER) -> None:
    lock_merchant(membership.merchant)
    membership = Membership.objects.select_for_update().select_related("merchant", "operator").get(
        pk=membership.pk
    )
    _check_actor(actor_role, actor, membership, None)
    last_owner_check(membership)
    audit_record(
        actor=actor, merchant=membership.merchant, action="membership.delete", target=membership,
        changed_fields=["role"],
    )
    membership.delete()
