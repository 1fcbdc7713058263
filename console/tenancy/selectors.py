"""Tenant scoping: the one place that decides which merchant an operator reaches, and with
which role.

Every console view reaches a merchant through ``merchant_access_get`` (via the door in
``console.tenancy.access``): a merchant the operator has no membership for (directly, or
through its agency) does not exist as far as the operator can tell (404). The areas' own
selectors take the resulting ``MerchantAccess`` and scope their lists by it.
"""

from dataclasses import dataclass

from django.http import Http404

from console.models import Membership, Merchant, Operator
from console.tenancy.roles import Perm, Role, role_allows, stronger_role


@dataclass(frozen=True)
class MerchantAccess:
    """A merchant the operator may see, and the role they hold on it."""

    merchant: Merchant
    role: str

    def can(self, perm: Perm | str) -> bool:
        return role_allows(self.role, Perm(perm))

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def agency(self) -> Merchant:
        return self.merchant.parent or self.merchant


@dataclass(frozen=True)
class SwitcherEntry:
    merchant: Merchant
    role: str
    is_sub_merchant: bool


def merchant_access_get(*, operator: Operator, code: str) -> MerchantAccess:
    """The operator's access to the merchant with this code, or 404."""
    if not operator.is_authenticated or not operator.is_active:
        raise Http404
    merchant = Merchant.objects.select_related("parent").filter(code=code).first()
    if merchant is None:
        raise Http404
    reach = [merchant.pk] + ([merchant.parent_id] if merchant.parent_id else [])
    role = None
    for member_role in Membership.objects.filter(
        operator=operator, merchant_id__in=reach
    ).values_list("role", flat=True):
        role = stronger_role(role, member_role)
    if role is None:
        raise Http404
    return MerchantAccess(merchant=merchant, role=role)


def operator_merchants(*, operator: Operator) -> list[SwitcherEntry]:
    """Every merchant the operator reaches, each agency followed by its sub-merchants."""
    if not operator.is_authenticated:
        return []
    memberships = list(
        Membership.objects.filter(operator=operator).select_related("merchant", "merchant__parent")
    )
    direct = {m.merchant_id: m.role for m in memberships}
    agency_ids = [m.merchant_id for m in memberships if m.merchant.parent_id is None]
    subs = Merchant.objects.filter(parent_id__in=agency_ids).select_related("parent")
    roles: dict[int, tuple[Merchant, str]] = {}
    for m in memberships:
        roles[m.merchant_id] = (m.merchant, m.role)
    for sub in subs:
        inherited = direct[sub.parent_id]
        roles[sub.pk] = (sub, stronger_role(inherited, direct.get(sub.pk)))

    def sort_key(item):
        merchant, _ = item
        agency = merchant.parent or merchant
        return (agency.name.lower(), agency.pk, merchant.parent_id is not None, merchant.name.lower())

    return [
        SwitcherEntry(merchant=merchant, role=role, is_sub_merchant=merchant.parent_id is not None)
        for merchant, role in sorted(roles.values(), key=sort_key)
    ]


def lock_merchant(merchant: Merchant) -> Merchant:
    """Lock the merchant's row until the transaction ends: role rules, tier codes and the
    whitelist are checked and written under it."""
    return Merchant.objects.select_for_update().get(pk=merchant.pk)
