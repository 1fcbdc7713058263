"""What each role may do: decided here, and only here.

Every console view names the permission it needs (``Perm``); ``role_allows``
answers whether a role holds it. Templates ask the same question through
``MerchantAccess.can``.

Meaning of the roles (see shared/reference/console-pages.md):

- Owner: everything; the account that signed the merchant up.
- Admin: everything.
- Manager: everything except account management and integration settings,
  which it sees read-only.
- Developer: the integration pages (channels, webhooks, API keys, whitelist).
- Viewer: view only.

And who may give which role (``assignable_roles``, ``may_manage_member``): an owner gives
any; an admin manages managers, developers and viewers; a sub-merchant's own members are
Manager or Viewer (the agency's members reach it too).
"""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    DEVELOPER = "developer", _("Developer")
    VIEWER = "viewer", _("Viewer")


# Strongest first: when an operator reaches a merchant through two memberships
# (the agency's and the sub-merchant's own), the stronger role counts.
ROLE_RANK = {
    Role.OWNER: 50,
    Role.ADMIN: 40,
    Role.MANAGER: 30,
    Role.DEVELOPER: 20,
    Role.VIEWER: 10,
}


class Perm(StrEnum):
    VIEW_OVERVIEW = "view_overview"
    VIEW_MEMBERS = "view_members"
    VIEW_INTEGRATION = "view_integration"
    EDIT_INTEGRATION = "edit_integration"
    MANAGE_API_KEYS = "manage_api_keys"
    VIEW_ACCOUNTS = "view_accounts"
    MANAGE_ACCOUNTS = "manage_accounts"
    VIEW_AUDIT = "view_audit"


_ALL = frozenset(Perm)

ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.OWNER: _ALL,
    Role.ADMIN: _ALL,
    Role.MANAGER: frozenset(
        {Perm.VIEW_OVERVIEW, Perm.VIEW_MEMBERS, Perm.VIEW_INTEGRATION, Perm.VIEW_ACCOUNTS}
    ),
    Role.DEVELOPER: frozenset(
        {Perm.VIEW_OVERVIEW, Perm.VIEW_INTEGRATION, Perm.EDIT_INTEGRATION}
    ),
    Role.VIEWER: frozenset(
        {Perm.VIEW_OVERVIEW, Perm.VIEW_MEMBERS, Perm.VIEW_INTEGRATION}
    ),
}


def role_allows(role: str, perm: Perm) -> bool:
    try:
        return perm in ROLE_PERMS[Role(role)]
    except ValueError:
        return False


def stronger_role(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if ROLE_RANK[Role(a)] >= ROLE_RANK[Role(b)] else b


# Platform staff in the admin, and the system itself (the demo seed), act with an owner's
# authority: they pass it as ``actor_role`` like everyone else, never by default.
STAFF_AUTHORITY = Role.OWNER

# The roles a sub-merchant's own members may hold.
SUB_MERCHANT_ROLES = (Role.MANAGER, Role.VIEWER)
_OWNER_GIVES_ONLY = (Role.OWNER, Role.ADMIN)


def assignable_roles(*, actor_role: str, merchant) -> list[Role]:
    """The roles ``actor_role`` may give on ``merchant``, strongest first."""
    roles = list(SUB_MERCHANT_ROLES) if merchant.parent_id else list(Role)
    if actor_role != Role.OWNER:
        roles = [r for r in roles if r not in _OWNER_GIVES_ONLY]
    return roles


def may_manage_member(*, actor_role: str, actor, membership) -> bool:
    """Whether ``actor_role`` (held by ``actor``) may change or remove this membership."""
    if actor_role == Role.OWNER:
        return True
    if actor is not None and membership.operator_id == actor.pk:
        return True  # anyone may leave (the last-owner rule still applies)
    return membership.role not in _OWNER_GIVES_ONLY
