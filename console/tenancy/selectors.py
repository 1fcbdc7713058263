"""Tenant scoping: the one place that decides which merchant an operator reaches, and with
which role.

Every console view reaches a merchant through ``merchant_access_get`` (via the door in
``console.tenancy.access``): a merchant the operator has no membership for (directly, or
through its agency) does not exist as far as the operator can tell (404). The areas' own
selectors take the resulting ``MerchantAccess`` and scope their lists by it. What a
membership allows is decided in ``console.tenancy.roles``; how the memberships reaching one
merchant combine is decided here, once (``_access``), for the door, the merchant switcher
and the authority of an invitation's sender.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.http import Http404

from console.models import Membership, Merchant, Operator
from console.tenancy.locks import lock_rows
from console.tenancy.roles import AccessRole, Perm, access_role, perms_of, stronger_role


@dataclass(frozen=True)
class MerchantAccess:
    """A merchant the operator may see; the strongest access role they hold on it (shown, and
    what they may give), and what all the roles they hold there allow together."""

    merchant: Merchant
    role: str
    perms: frozenset[Perm] | None = None  # None: the role's own

    def __post_init__(self):
        if self.perms is None:
            object.__setattr__(self, "perms", perms_of([self.role]))

    def can(self, perm: Perm | str) -> bool:
        return Perm(perm) in self.perms

    @property
    def role_label(self) -> str:
        return AccessRole(self.role).label

    @property
    def agency(self) -> Merchant:
        return self.merchant.parent or self.merchant


@dataclass(frozen=True)
class SwitcherEntry:
    merchant: Merchant
    role: str
    is_sub_merchant: bool


def _access(merchant: Merchant, roles: Mapping[int, str]) -> MerchantAccess | None:
    """The access that the operator's memberships (``roles``: merchant id → stored role, at
    least for this merchant and its agency) give on ``merchant``, or None. An agency
    membership acts with its own role on the agency's sub-merchants; a sub-merchant's own
    membership acts as a sub-merchant role; with both, both count."""
    held = []
    if merchant.parent_id is not None and merchant.parent_id in roles:
        held.append(access_role(roles[merchant.parent_id], on_sub_merchant=False))
    if merchant.pk in roles:
        held.append(access_role(roles[merchant.pk], on_sub_merchant=merchant.parent_id is not None))
    if not held:
        return None
    role = None
    for one in held:
        role = stronger_role(role, one)
    return MerchantAccess(merchant=merchant, role=role, perms=perms_of(held))


def merchant_access_for(*, operator: Operator, merchant: Merchant) -> MerchantAccess | None:
    """The operator's access to ``merchant`` through their memberships, or None."""
    reach = [merchant.pk] + ([merchant.parent_id] if merchant.parent_id else [])
    roles = dict(
        Membership.objects.filter(operator=operator, merchant_id__in=reach).values_list("merchant_id", "role")
    )
    return _access(merchant, roles)


def merchant_access_get(*, operator: Operator, code: str) -> MerchantAccess:
    """The operator's access to the merchant with this code, or 404."""
    if not operator.is_authenticated or not operator.is_active:
        raise Http404
    merchant = Merchant.objects.select_related("parent").filter(code=code).first()
    if merchant is None:
        raise Http404
    access = merchant_access_for(operator=operator, merchant=merchant)
    if access is None:
        raise Http404
    return access


def operator_merchants(*, operator: Operator) -> list[SwitcherEntry]:
    """Every merchant the operator reaches, each agency followed by its sub-merchants."""
    if not operator.is_authenticated:
        return []
    memberships = list(
        Membership.objects.filter(operator=operator).select_related("merchant", "merchant__parent")
    )
    roles = {m.merchant_id: m.role for m in memberships}
    merchants = {m.merchant_id: m.merchant for m in memberships}
    agency_ids = [m.merchant_id for m in memberships if m.merchant.parent_id is None]
    for sub in Merchant.objects.filter(parent_id__in=agency_ids).select_related("parent"):
        merchants[sub.pk] = sub

    def sort_key(merchant):
        agency = merchant.parent or merchant
        return (agency.name.lower(), agency.pk, merchant.parent_id is not None, merchant.name.lower())

    return [
        SwitcherEntry(merchant=merchant, role=_access(merchant, roles).role,
                      is_sub_merchant=merchant.parent_id is not None)
        for merchant in sorted(merchants.values(), key=sort_key)
    ]


def lock_merchant(merchant: Merchant) -> Merchant:
    """Lock the merchant's row until the transaction ends: role rules, tier codes and the
    whitelist are checked and written under it."""
    return lock_rows(Merchant.objects).get(pk=merchant.pk)
