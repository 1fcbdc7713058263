"""Reads, and tenant scoping: the one place that decides what an operator sees.

Every console view reaches a merchant through ``merchant_access_get``: a merchant
the operator has no membership for (directly, or through its agency) does not
exist as far as the operator can tell (404). Lists are scoped here too.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from .models import AuditEvent, Membership, Merchant, Operator
from .roles import (
    ROLE_RANK,
    Perm,
    Role,
    assignable_roles,
    may_manage_member,
    role_allows,
    stronger_role,
)


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
    two_factor: bool = False  # has a confirmed two-factor device
    manageable: bool = False  # the viewer may change or remove it
    role_choices: tuple = ()  # (value, label) the viewer may pick for it


def members_of(*, access: MerchantAccess, viewer: Operator | None = None) -> list[MemberRow]:
    """Memberships that reach this merchant: its own and, for a sub-merchant, the agency's.
    With ``viewer`` (the operator looking), each row also says what they may do to it."""
    from .models import TwoFactorDevice

    merchant = access.merchant
    scope = Q(merchant=merchant)
    if merchant.parent_id:
        scope |= Q(merchant_id=merchant.parent_id)
    rows = list(Membership.objects.filter(scope).select_related("operator", "merchant"))
    enrolled = set(TwoFactorDevice.objects.filter(
        user_id__in=[m.operator_id for m in rows], confirmed=True
    ).values_list("user_id", flat=True))
    can_manage = viewer is not None and access.can(Perm.MANAGE_ACCOUNTS)
    givable = [(r.value, r.label) for r in assignable_roles(actor_role=access.role, merchant=merchant)]
    result = []
    for m in rows:
        inherited = m.merchant_id != merchant.pk
        manageable = can_manage and not inherited and may_manage_member(
            actor_role=access.role, actor=viewer, membership=m)
        choices = givable if any(v == m.role for v, _ in givable) else [
            *givable, (m.role, m.get_role_display())]
        result.append(MemberRow(m, inherited=inherited, two_factor=m.operator_id in enrolled,
                                manageable=manageable, role_choices=tuple(choices) if manageable else ()))
    result.sort(key=lambda r: (r.inherited, -ROLE_RANK[Role(r.membership.role)],
                               r.membership.operator.email))
    return result


def membership_of(*, access: MerchantAccess, membership_id: int) -> Membership:
    """A membership of this merchant itself (not one inherited from the agency), or 404."""
    membership = (Membership.objects.select_related("operator", "merchant")
                  .filter(pk=membership_id, merchant=access.merchant).first())
    if membership is None:
        raise Http404
    return membership


def open_invitations_of(*, access: MerchantAccess) -> QuerySet:
    from .models import Invitation

    return (Invitation.objects.filter(merchant=access.merchant, accepted_at__isnull=True,
                                      revoked_at__isnull=True)
            .select_related("invited_by").order_by("-created_at", "-id"))


def invitation_of(*, access: MerchantAccess, invitation_id: int):
    from .models import Invitation

    invitation = (Invitation.objects.select_related("merchant")
                  .filter(pk=invitation_id, merchant=access.merchant).first())
    if invitation is None:
        raise Http404
    return invitation


def sub_merchant_of(*, access: MerchantAccess, tier_code: str) -> Merchant:
    """The agency's sub-merchant with this tier code, or 404 (a sub-merchant has none)."""
    if access.merchant.is_sub_merchant:
        raise Http404
    sub = access.merchant.sub_merchants.filter(tier_code=tier_code).first()
    if sub is None:
        raise Http404
    return sub


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # an email, or "system"
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.actor or self.action or self.date_from or self.date_to)


def _audit_scope(access: MerchantAccess) -> Q:
    merchant = access.merchant
    scope = Q(merchant=merchant)
    if not merchant.is_sub_merchant:
        scope |= Q(merchant__parent=merchant)
    return scope


def audit_filter_choices(*, access: MerchantAccess) -> dict[str, list[str]]:
    """Actors and actions that occur in this merchant's trail, for the filter lists."""
    events = AuditEvent.objects.filter(_audit_scope(access))
    return {
        "actors": list(events.exclude(actor_email="").order_by("actor_email")
                       .values_list("actor_email", flat=True).distinct()),
        "actions": list(events.order_by("action").values_list("action", flat=True).distinct()),
    }


def audit_events_page(
    *, access: MerchantAccess, page: int | str | None, filters: AuditFilters | None = None,
    per_page: int = 50,
) -> Page:
    """Audit events of this merchant and, for an agency, of its sub-merchants. Newest first.
    Dates are whole days in the console's time zone, both ends included."""
    events = AuditEvent.objects.filter(_audit_scope(access))
    filters = filters or AuditFilters()
    if filters.actor == "system":
        events = events.filter(actor_email="")
    elif filters.actor:
        events = events.filter(actor_email__iexact=filters.actor)
    if filters.action:
        events = events.filter(action=filters.action)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        events = events.filter(created_at__gte=datetime.combine(filters.date_from, time.min, tz))
    if filters.date_to:
        events = events.filter(
            created_at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tz)
        )
    events = events.select_related("merchant").order_by("-created_at", "-id")
    return Paginator(events, per_page).get_page(page)
