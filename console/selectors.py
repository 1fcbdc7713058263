"""Reads, and tenant scoping: the one place that decides what an operator sees.

Every console view reaches a merchant through ``merchant_access_get``: a merchant
the operator has no membership for (directly, or through its agency) does not
exist as far as the operator can tell (404). Lists are scoped here too.
"""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404

from .models import AuditEvent, Membership, Merchant, Operator
from .roles import ROLE_RANK, Perm, Role, role_allows, stronger_role


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


def sub_merchants_of(*, access: MerchantAccess) -> QuerySet[Merchant]:
    if access.merchant.is_sub_merchant:
        return Merchant.objects.none()
    return access.merchant.sub_merchants.order_by("tier_code")


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    inherited: bool  # reaches this sub-merchant through the agency


def members_of(*, access: MerchantAccess) -> list[MemberRow]:
    """Memberships that reach this merchant: its own and, for a sub-merchant, the agency's."""
    merchant = access.merchant
    scope = Q(merchant=merchant)
    if merchant.parent_id:
        scope |= Q(merchant_id=merchant.parent_id)
    rows = Membership.objects.filter(scope).select_related("operator", "merchant")
    result = [MemberRow(m, inherited=m.merchant_id != merchant.pk) for m in rows]
    result.sort(key=lambda r: (-ROLE_RANK[Role(r.membership.role)], r.membership.operator.email))
    return result


def audit_events_page(*, access: MerchantAccess, page: int | str | None, per_page: int = 50) -> Page:
    """Audit events of this merchant and, for an agency, of its sub-merchants. Newest first."""
    merchant = access.merchant
    scope = Q(merchant=merchant)
    if not merchant.is_sub_merchant:
        scope |= Q(merchant__parent=merchant)
    events = AuditEvent.objects.filter(scope).select_related("merchant").order_by("-created_at", "-id")
    return Paginator(events, per_page).get_page(page)
