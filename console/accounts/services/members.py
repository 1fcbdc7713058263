"""Writes to memberships: who holds which role on a merchant, under the role rules.

Every rule is checked with the merchant's row locked, so that two requests cannot both take
the last admin seat or both demote one of two owners. Who may give which role is decided in
``console.tenancy.roles``; the actor's role is always passed by the caller.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from console.models import Membership, Merchant, Operator
from console.tenancy.audit import Actor, AuditAction, audit_record
from console.tenancy.roles import (
    STAFF_AUTHORITY,
    SUB_MERCHANT_ROLES,
    Perm,
    Role,
    assignable_roles,
    may_manage_member,
    role_allows,
    stronger_role,
)
from console.tenancy.selectors import lock_merchant

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


def role_grant_check(*, actor_role: str, merchant: Merchant, role: str) -> None:
    """Refuse a role that ``actor_role`` may not give on ``merchant``, saying why."""
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role from the list.")})
    if role in assignable_roles(actor_role=actor_role, merchant=merchant):
        return
    if merchant.parent_id and role not in SUB_MERCHANT_ROLES:
        raise ValidationError({"role": _("A sub-merchant's members can only be Manager or Viewer.")})
    raise ValidationError({"role": _("Only an owner can give the Owner or Admin role.")})


def givable_roles(*, actor_role: str | None, merchant: Merchant) -> list[Role]:
    """The roles someone holding ``actor_role`` on ``merchant`` may give there: none without
    the right to manage accounts, otherwise ``assignable_roles``."""
    if actor_role is None or not role_allows(actor_role, Perm.MANAGE_ACCOUNTS):
        return []
    return assignable_roles(actor_role=actor_role, merchant=merchant)


def sender_role(operator: Operator | None, merchant: Merchant) -> str | None:
    """The authority ``operator`` holds now to give roles on ``merchant``, for an invitation
    they sent: ``STAFF_AUTHORITY`` for active staff who may add memberships in the admin
    (they could grant the role there directly); otherwise their role on the merchant, through
    a membership on it or on its agency, the stronger counting (as ``merchant_access_get``
    computes it). None for no one, an inactive account, or an operator without a role."""
    if operator is None or not operator.is_active:
        return None
    if operator.is_staff and operator.has_perm("console.add_membership"):
        return STAFF_AUTHORITY
    reach = [merchant.pk] + ([merchant.parent_id] if merchant.parent_id else [])
    role = None
    for member_role in Membership.objects.filter(
        operator=operator, merchant_id__in=reach
    ).values_list("role", flat=True):
        role = stronger_role(role, member_role)
    return role


def role_limits_check(
    merchant: Merchant, role: str, *, membership: Membership | None = None,
    invitation_id: int | None = None,
) -> None:
    """Refuse a role that would break the per-merchant limits. Open, unexpired invitations
    count, so that accepting one can never break them."""
    from console.models import Invitation

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
    actor_role: str, invitation_id: int | None = None,
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
        actor=actor, merchant=merchant, action=AuditAction.MEMBERSHIP_CREATE, target=membership,
        changes={"operator": (None, operator.email), "role": (None, membership.role)},
    )
    return membership


@transaction.atomic
def membership_set_role(
    *, actor: Actor, membership: Membership, role: str, actor_role: str
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
    old_role = membership.role
    membership.role = Role(role)
    membership.full_clean()
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor, merchant=membership.merchant, action=AuditAction.MEMBERSHIP_UPDATE,
        target=membership, changes={"role": (old_role, membership.role)},
    )
    _withdraw_invitations_beyond_role(actor, membership)
    return membership


@transaction.atomic
def membership_delete(*, actor: Actor, membership: Membership, actor_role: str) -> None:
    lock_merchant(membership.merchant)
    membership = Membership.objects.select_for_update().select_related("merchant", "operator").get(
        pk=membership.pk
    )
    _check_actor(actor_role, actor, membership, None)
    last_owner_check(membership)
    audit_record(
        actor=actor, merchant=membership.merchant, action=AuditAction.MEMBERSHIP_DELETE,
        target=membership, changes={"role": (membership.role, None)},
    )
    membership.delete()
    _withdraw_invitations_beyond_role(actor, membership)


def _withdraw_invitations_beyond_role(actor: Actor, membership: Membership) -> None:
    """After a member's role was lowered or taken away: their open invitations that they may
    no longer give are withdrawn now, in the same transaction (acceptance checks again)."""
    from .invitations import sender_invitations_revoke  # invitations imports this module

    sender_invitations_revoke(actor=actor, sender=membership.operator, merchant=membership.merchant)
