"""Writes to memberships: who holds which role on a merchant, under the role rules.

Every rule is checked with the merchant's row locked, so that two requests cannot both take
the last admin seat or both demote one of two owners. Who may give which role is decided in
``console.tenancy.roles``; the actor's role is always passed by the caller.
"""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import AuditAction
from console.models import Invitation, Membership, Merchant, Operator
from console.tenancy.audit import Actor, audit_record
from console.tenancy.locks import lock_rows
from console.tenancy.roles import (
    STAFF_AUTHORITY,
    SUB_MERCHANT_ROLES,
    AccessRole,
    Role,
    assignable_roles,
    may_manage_member,
)
from console.tenancy.selectors import lock_merchant, merchant_access_for

# --- Memberships ---------------------------------------------------------------
# Role rules, checked with the merchant's row locked so that two requests cannot both
# take the last admin seat or both demote one of two owners:
# - one admin per merchant, at most MAX_DEVELOPERS developers (open invitations count);
# - a sub-merchant's own members are Manager or Viewer;
# - the last owner can be neither removed nor demoted;
# - who gives which role, and who manages whom, is ``console.tenancy.roles`` (``GIVES``,
#   ``may_manage_member``): only an owner gives Owner or changes an owner.

MAX_ADMINS = 1
MAX_DEVELOPERS = 10
MEMO_MAX = Membership._meta.get_field("memo").max_length
_MARKUP = re.compile(r"<[a-zA-Z/!?]")


def _role_label(value: str | None) -> str:
    try:
        return AccessRole(value).label
    except ValueError:
        return str(value)


def role_grant_check(*, actor_role: str | None, merchant: Merchant, role: str) -> None:
    """Refuse a role that ``actor_role`` may not give on ``merchant``, saying why."""
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role from the list.")})
    givable = assignable_roles(actor_role=actor_role, merchant=merchant)
    if role in givable:
        return
    if merchant.parent_id and role not in SUB_MERCHANT_ROLES:
        raise ValidationError({"role": _("A sub-merchant's members can only be Manager or Viewer.")})
    if role in (Role.OWNER, Role.ADMIN) and actor_role == AccessRole.ADMIN:
        raise ValidationError({"role": _("Only an owner can give the Owner or Admin role.")})
    if not givable:
        raise ValidationError({"role": _("Your role (%(role)s) cannot give roles here.")
                               % {"role": _role_label(actor_role)}})
    raise ValidationError({"role": _("Your role (%(role)s) can give only: %(roles)s.") % {
        "role": _role_label(actor_role), "roles": ", ".join(str(r.label) for r in givable)}})


def givable_roles(*, actor_role: str | None, merchant: Merchant) -> list[Role]:
    """The roles someone holding ``actor_role`` on ``merchant`` may give there (none for no
    role): ``assignable_roles``."""
    if actor_role is None:
        return []
    return assignable_roles(actor_role=actor_role, merchant=merchant)


def memo_clean(memo: str | None) -> str:
    """A member's or an invitation's memo, trimmed; refused, saying why, when it is too long
    or holds HTML (a memo is plain text, shown escaped anyway)."""
    memo = (memo or "").strip()
    if len(memo) > MEMO_MAX:
        raise ValidationError({"memo": _(
            "The memo is too long: at most %(max)d characters (this one has %(n)d)."
        ) % {"max": MEMO_MAX, "n": len(memo)}})
    if _MARKUP.search(memo):
        raise ValidationError({"memo": _(
            "A memo is plain text: leave out HTML tags (anything like <b> or </a>)."
        )})
    return memo


def sender_role(operator: Operator | None, merchant: Merchant) -> str | None:
    """The authority ``operator`` holds now to give roles on ``merchant``, for an invitation
    they sent: ``STAFF_AUTHORITY`` for active staff who may add memberships in the admin
    (they could grant the role there directly); otherwise their access role on the merchant,
    through a membership on it or on its agency, as the console's door computes it
    (``merchant_access_for``). None for no one, an inactive account, or an operator without
    a role."""
    if operator is None or not operator.is_active:
        return None
    if operator.is_staff and operator.has_perm("console.add_membership"):
        return STAFF_AUTHORITY
    access = merchant_access_for(operator=operator, merchant=merchant)
    return access.role if access is not None else None


def role_limits_check(
    merchant: Merchant, role: str, *, membership: Membership | None = None,
    invitation_id: int | None = None,
) -> None:
    """Refuse a role that would break the per-merchant limits. Open, unexpired invitations
    count, so that accepting one can never break them."""
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
        if actor_role == AccessRole.ADMIN:
            raise ValidationError(_("Only an owner can change or remove an owner or the admin."))
        raise ValidationError(_("Your role (%(role)s) cannot change or remove this member.")
                              % {"role": _role_label(actor_role)})
    if new_role is not None:
        role_grant_check(actor_role=actor_role, merchant=membership.merchant, role=new_role)


@transaction.atomic
def membership_create(
    *, actor: Actor, operator: Operator, merchant: Merchant, role: str,
    actor_role: str, invitation_id: int | None = None, memo: str = "",
) -> Membership:
    merchant = lock_merchant(merchant)
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role from the list.")})
    if Membership.objects.filter(operator=operator, merchant=merchant).exists():
        raise ValidationError({"email": _("%(email)s is already a member of this merchant.")
                               % {"email": operator.email}})
    membership = Membership(operator=operator, merchant=merchant, role=Role(role), memo=memo_clean(memo))
    membership.full_clean(validate_constraints=False)  # the one above, under the lock
    role_grant_check(actor_role=actor_role, merchant=merchant, role=role)
    role_limits_check(merchant, role, invitation_id=invitation_id)
    membership.save()
    changes = {"operator": (None, operator.email), "role": (None, membership.role)}
    if membership.memo:
        changes["memo"] = (None, membership.memo)
    audit_record(actor=actor, merchant=merchant, action=AuditAction.MEMBERSHIP_CREATE,
                 target=membership, changes=changes)
    return membership


@transaction.atomic
def membership_set_role(
    *, actor: Actor, membership: Membership, role: str, actor_role: str
) -> Membership:
    lock_merchant(membership.merchant)
    membership = lock_rows(Membership.objects.select_related("merchant", "operator")).get(pk=membership.pk)
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
def membership_set_memo(*, actor: Actor, membership: Membership, memo: str, actor_role: str) -> Membership:
    """Change a member's memo (not secret: the audit row keeps the old and the new text)."""
    memo = memo_clean(memo)
    lock_merchant(membership.merchant)
    membership = lock_rows(Membership.objects.select_related("merchant", "operator")).get(pk=membership.pk)
    _check_actor(actor_role, actor, membership, None)
    if membership.memo == memo:
        return membership
    old_memo, membership.memo = membership.memo, memo
    membership.save(update_fields=["memo"])
    audit_record(actor=actor, merchant=membership.merchant, action=AuditAction.MEMBERSHIP_MEMO,
                 target=membership, changes={"memo": (old_memo, memo)})
    return membership


@transaction.atomic
def membership_delete(*, actor: Actor, membership: Membership, actor_role: str) -> None:
    lock_merchant(membership.merchant)
    membership = lock_rows(Membership.objects.select_related("merchant", "operator")).get(pk=membership.pk)
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
