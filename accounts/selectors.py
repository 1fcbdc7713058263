"""Reads of the Accounts and Sub-merchants pages, scoped to a ``MerchantAccess``: the members
that reach a merchant (with what the viewer may do to each), its open invitations, its
sub-merchants. Anything of another merchant is a 404 here.
"""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.audit import AuditAction
from channels.selectors import channels_assigned_to, channels_of_sub_merchant
from console.models import (
    AuditEvent,
    Invitation,
    Membership,
    Merchant,
    Mode,
    Operator,
    TwoFactorDevice,
)
from console.tenancy.roles import ROLE_RANK, Perm, Role, assignable_roles, may_manage_member
from console.tenancy.selectors import MerchantAccess


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
    return (Invitation.objects.filter(merchant=access.merchant, accepted_at__isnull=True,
                                      revoked_at__isnull=True)
            .select_related("invited_by").order_by("-created_at", "-id"))


def invitation_of(*, access: MerchantAccess, invitation_id: int):
    invitation = (Invitation.objects.select_related("merchant")
                  .filter(pk=invitation_id, merchant=access.merchant).first())
    if invitation is None:
        raise Http404
    return invitation


SUB_MERCHANTS_PER_PAGE = 50
SEARCH_MAX = 100  # characters of a search that count


@dataclass(frozen=True)
class SubMerchantRow:
    sub: Merchant
    channels: list  # the agency's channels assigned to it


def sub_merchants_page(*, access: MerchantAccess, q: str = "", page=None) -> tuple[Page, list[SubMerchantRow]]:
    """The Sub-merchants list: the agency's sub-merchants whose name or tier code contains
    ``q`` (any case), by tier code, a page at a time, each with its assigned channels. A fixed
    number of queries whatever the number of sub-merchants."""
    subs = sub_merchants_of(access=access)
    q = (q or "").strip()[:SEARCH_MAX].replace("\x00", "")
    if q:
        subs = subs.filter(Q(name__icontains=q) | Q(tier_code__icontains=q))
    page_obj = Paginator(subs.order_by("tier_code", "id"), SUB_MERCHANTS_PER_PAGE).get_page(page)
    assigned = channels_assigned_to(sub_merchant_ids=[s.pk for s in page_obj.object_list])
    return page_obj, [SubMerchantRow(s, assigned[s.pk]) for s in page_obj.object_list]


def sub_merchant_of(*, access: MerchantAccess, sub_merchant_id: int) -> Merchant:
    """The agency's sub-merchant with this id, or 404 (a sub-merchant has none)."""
    if access.merchant.is_sub_merchant:
        raise Http404
    sub = access.merchant.sub_merchants.filter(pk=sub_merchant_id).first()
    if sub is None:
        raise Http404
    return sub


def sub_merchant_deletion_of(*, access: MerchantAccess, sub_merchant_id: int) -> AuditEvent | None:
    """The audit row of this agency's deletion of the sub-merchant with this id, if it was
    deleted: what a second deletion (or an old tab) is told."""
    if access.merchant.is_sub_merchant:
        return None
    return (AuditEvent.objects.filter(merchant=access.merchant, action=AuditAction.SUB_MERCHANT_DELETE,
                                      target_type=Merchant._meta.label_lower, target_id=str(sub_merchant_id))
            .order_by("-created_at").first())


@dataclass(frozen=True)
class SubMerchantDeletion:
    """What deleting a sub-merchant does, for its confirmation page."""

    members: list  # its own memberships: they lose access
    invitations: list  # its open invitations: revoked
    channels_returned: list  # the agency's channels assigned to it: back to the agency
    own_live_channels: list  # its own live channels: deleted with it
    own_test_channels: int  # its own test channels: deleted with it


def sub_merchant_deletion_preview(*, access: MerchantAccess, sub: Merchant) -> SubMerchantDeletion:
    assigned, own = channels_of_sub_merchant(sub_merchant=sub)
    return SubMerchantDeletion(
        members=list(sub.memberships.select_related("operator").order_by("operator__email")),
        invitations=list(Invitation.objects.filter(merchant=sub, accepted_at__isnull=True,
                                                   revoked_at__isnull=True).order_by("email")),
        channels_returned=assigned,
        own_live_channels=[c for c in own if c.mode == Mode.LIVE],
        own_test_channels=sum(1 for c in own if c.mode != Mode.LIVE),
    )
