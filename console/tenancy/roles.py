"""What each role may do, and who may give which role: decided here, and only here.

Every console view names the permission it needs (``Perm``); ``role_allows`` answers
whether an access role holds it. Templates ask the same question through
``MerchantAccess.can``.

A membership stores a ``Role``. How it *acts* is its ``AccessRole``: the same five roles
for a membership on an agency (or a stand-alone merchant), which also reaches the agency's
sub-merchants with the same permissions; and two roles of their own for a sub-merchant's
own members, who hold Manager or Viewer stored on the sub-merchant (``access_role``).
PortOne's V1 console, as the roles are documented there:

- Owner: everything, sub-merchants and their accounts included; gives any role.
- Admin (one per merchant): the same; gives any role but Owner (and Admin: it holds the
  one seat).
- Manager: every function but account management and integration settings, which it
  sees read-only (the audit log included); invites Viewers.
- Developer (at most 10): the integration settings (channels, webhooks, whitelist); sees
  the accounts and the IDs & API keys read-only, and the audit log, which records changes
  to exactly those (and to the sandbox payments a Developer runs); gives no role.
- Viewer: sees every page (accounts and the audit log included); changes nothing.
- Sub-merchant Manager: every function of its own sub-merchant (its own webhook; its
  accounts, to which it gives Manager and Viewer); sees the channels assigned to it.
- Sub-merchant Viewer: sees every page of its own sub-merchant; changes nothing.

REST API keys control payments: creating, reissuing and revoking them stays with Owner and
Admin. When an operator reaches a merchant through two memberships (the agency's and the
sub-merchant's own), the permissions of both count (``perms_of``), and the stronger role is
shown and decides what they may give (``stronger_role``, ``ACCESS_RANK``).
"""

from collections.abc import Iterable
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The role stored on a membership or an invitation."""

    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    DEVELOPER = "developer", _("Developer")
    VIEWER = "viewer", _("Viewer")


class AccessRole(models.TextChoices):
    """How a membership acts on a merchant (``access_role``). The first five are the stored
    roles of an agency's (or a stand-alone merchant's) members, with the same values."""

    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    DEVELOPER = "developer", _("Developer")
    VIEWER = "viewer", _("Viewer")
    SUB_MANAGER = "sub_manager", _("Sub-merchant Manager")
    SUB_VIEWER = "sub_viewer", _("Sub-merchant Viewer")


# The roles a sub-merchant's own members may hold (also ``Membership.clean``).
SUB_MERCHANT_ROLES = (Role.MANAGER, Role.VIEWER)


def access_role(role: str, *, on_sub_merchant: bool) -> AccessRole:
    """How a membership holding ``role`` acts. A sub-merchant's own Manager and Viewer are
    the sub-merchant roles; any other role stored on a sub-merchant (never valid) counts as
    a Sub-merchant Viewer."""
    if not on_sub_merchant:
        return AccessRole(role)
    return AccessRole.SUB_MANAGER if role == Role.MANAGER else AccessRole.SUB_VIEWER


# Stored roles, strongest first: the order of the Accounts page.
ROLE_RANK = {Role.OWNER: 50, Role.ADMIN: 40, Role.MANAGER: 30, Role.DEVELOPER: 20, Role.VIEWER: 10}
# Access roles, strongest first. A sub-merchant's own Manager outranks the agency's Manager
# and Developer there: it may do on its sub-merchant all they may (as permissions and as
# roles it may give), so the stronger role always gives at least what the weaker gives.
ACCESS_RANK = {
    AccessRole.OWNER: 50,
    AccessRole.ADMIN: 40,
    AccessRole.SUB_MANAGER: 35,
    AccessRole.MANAGER: 30,
    AccessRole.DEVELOPER: 20,
    AccessRole.VIEWER: 10,
    AccessRole.SUB_VIEWER: 5,
}


class Perm(StrEnum):
    VIEW_OVERVIEW = "view_overview"
    VIEW_MEMBERS = "view_members"  # the members on the Overview page
    VIEW_INTEGRATION = "view_integration"  # channels, webhooks, IDs & API keys, whitelist
    EDIT_INTEGRATION = "edit_integration"  # channels, whitelist
    EDIT_WEBHOOK = "edit_webhook"  # the endpoint, Send test, secrets, own webhook, resend
    MANAGE_API_KEYS = "manage_api_keys"  # create, reissue, revoke REST API keys
    VIEW_ACCOUNTS = "view_accounts"
    INVITE_MEMBERS = "invite_members"  # with the roles ``assignable_roles`` allows
    MANAGE_ACCOUNTS = "manage_accounts"  # role, memo, removal, resend and revoke invitations
    MANAGE_TWO_FACTOR_RULE = "manage_two_factor_rule"  # it binds the owners and admins
    MANAGE_SUB_MERCHANTS = "manage_sub_merchants"  # add, edit, delete sub-merchants
    # Cancel a payment, deposit into a virtual account (the Payments page). PortOne lets its
    # Manager use every console feature but integration and accounts, and a sub-merchant's
    # Manager everything of its sub-merchant; here the payments are sandbox ones, part of the
    # integration loop, so Developers may too.
    MANAGE_PAYMENTS = "manage_payments"
    VIEW_AUDIT = "view_audit"


_ALL = frozenset(Perm)
_SEES = frozenset({Perm.VIEW_OVERVIEW, Perm.VIEW_MEMBERS, Perm.VIEW_INTEGRATION, Perm.VIEW_ACCOUNTS})

ROLE_PERMS: dict[AccessRole, frozenset[Perm]] = {
    AccessRole.OWNER: _ALL,
    AccessRole.ADMIN: _ALL,
    AccessRole.MANAGER: _SEES | {Perm.VIEW_AUDIT, Perm.INVITE_MEMBERS, Perm.MANAGE_PAYMENTS},
    AccessRole.DEVELOPER: _SEES | {
        Perm.EDIT_INTEGRATION, Perm.EDIT_WEBHOOK, Perm.MANAGE_PAYMENTS, Perm.VIEW_AUDIT,
    },
    AccessRole.VIEWER: _SEES | {Perm.VIEW_AUDIT},
    AccessRole.SUB_MANAGER: _SEES | {
        Perm.VIEW_AUDIT, Perm.EDIT_WEBHOOK, Perm.INVITE_MEMBERS, Perm.MANAGE_ACCOUNTS, Perm.MANAGE_PAYMENTS,
    },
    AccessRole.SUB_VIEWER: _SEES | {Perm.VIEW_AUDIT},
}


def role_allows(role: str, perm: Perm) -> bool:
    """Whether the access role ``role`` holds ``perm`` (an unknown role holds nothing)."""
    try:
        return perm in ROLE_PERMS[AccessRole(role)]
    except ValueError:
        return False


def perms_of(roles: Iterable[str]) -> frozenset[Perm]:
    """What the access roles held on one merchant allow together."""
    perms: frozenset[Perm] = frozenset()
    for role in roles:
        perms |= ROLE_PERMS[AccessRole(role)]
    return perms


def stronger_role(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if ACCESS_RANK[AccessRole(a)] >= ACCESS_RANK[AccessRole(b)] else b


# Platform staff in the admin, and the system itself (the demo seed), act with an owner's
# authority: they pass it as ``actor_role`` like everyone else, never by default.
STAFF_AUTHORITY = AccessRole.OWNER

# Who may give which role (invite with it, or change a member to it), by access role. On a
# sub-merchant only ``SUB_MERCHANT_ROLES`` are given. A Sub-merchant Manager is one only on
# its own sub-merchant, so that is the only merchant it gives roles on. PortOne lets an admin
# give every role but Owner; a merchant has one admin, and an admin giving roles is that one,
# so Admin is never offered to an admin either (it could only be refused).
GIVES: dict[AccessRole, tuple[Role, ...]] = {
    AccessRole.OWNER: tuple(Role),
    AccessRole.ADMIN: (Role.MANAGER, Role.DEVELOPER, Role.VIEWER),
    AccessRole.MANAGER: (Role.VIEWER,),
    AccessRole.DEVELOPER: (),
    AccessRole.VIEWER: (),
    AccessRole.SUB_MANAGER: (Role.MANAGER, Role.VIEWER),
    AccessRole.SUB_VIEWER: (),
}


def assignable_roles(*, actor_role: str | None, merchant) -> list[Role]:
    """The roles ``actor_role`` (its access role on ``merchant``) may give there, strongest
    first; none for an unknown role."""
    try:
        gives = GIVES[AccessRole(actor_role)]
    except ValueError:
        return []
    if not merchant.parent_id:
        return [] if actor_role == AccessRole.SUB_MANAGER else list(gives)
    return [role for role in gives if role in SUB_MERCHANT_ROLES]


def may_manage_member(*, actor_role: str, actor, membership) -> bool:
    """Whether ``actor_role`` (held by ``actor`` on the membership's merchant) may change the
    role or memo of this membership, or remove it. An owner manages everyone; an admin
    everyone but owners and the admin; a Sub-merchant Manager its sub-merchant's own
    members; and anyone may leave (the last-owner rule still applies)."""
    if actor_role == AccessRole.OWNER:
        return True
    if actor is not None and membership.operator_id == actor.pk:
        return True
    if actor_role == AccessRole.ADMIN:
        return membership.role not in (Role.OWNER, Role.ADMIN)
    if actor_role == AccessRole.SUB_MANAGER:
        return membership.merchant.parent_id is not None
    return False
