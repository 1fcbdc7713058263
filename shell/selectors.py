"""Reads of the audit log page: a merchant's trail (an agency's includes its sub-merchants'),
filtered and paged.
"""

from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from channels.audit import AuditAction
from console.models import AuditEvent
from console.tenancy.dates import day_range
from console.tenancy.selectors import MerchantAccess

# What the system records by itself, not an operator's change.
BOOKKEEPING = (AuditAction.CHANNEL_CREATE_SHARED_TEST,)


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # an email, or "system"
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    bookkeeping: bool = False  # also list what the system records by itself

    @property
    def active(self) -> bool:
        return bool(self.actor or self.action or self.date_from or self.date_to or self.bookkeeping)


def _audit_scope(access: MerchantAccess) -> Q:
    merchant = access.merchant
    scope = Q(merchant=merchant)
    if not merchant.is_sub_merchant:
        scope |= Q(merchant__parent=merchant)
    return scope


def audit_filter_choices(*, access: MerchantAccess) -> dict:
    """Actors and actions that occur in this merchant's trail, for the filter lists, and how
    many rows are the system's own bookkeeping (for the toggle that shows them)."""
    events = AuditEvent.objects.filter(_audit_scope(access))
    actions = list(events.order_by("action").values("action")
                   .annotate(system=Count("id", filter=Q(actor_email=""))))
    return {
        "actors": list(events.exclude(actor_email="").order_by("actor_email")
                       .values_list("actor_email", flat=True).distinct()),
        "actions": [row["action"] for row in actions],
        "bookkeeping": sum(row["system"] for row in actions if row["action"] in BOOKKEEPING),
    }


def audit_events_page(
    *, access: MerchantAccess, page: int | str | None, filters: AuditFilters | None = None,
    per_page: int = 50,
) -> Page:
    """Audit events of this merchant and, for an agency, of its sub-merchants. Newest first.
    Dates are whole days in the console's time zone, both ends included."""
    events = AuditEvent.objects.filter(_audit_scope(access))
    filters = filters or AuditFilters()
    if not filters.bookkeeping and filters.action not in BOOKKEEPING:
        # The system's own bookkeeping (e.g. the ~20 shared test channels every new merchant
        # gets) is not an operator's change: hidden unless asked for, and counted.
        events = events.exclude(action__in=BOOKKEEPING, actor_email="")
    if filters.actor == "system":
        events = events.filter(actor_email="")
    elif filters.actor:
        events = events.filter(actor_email__iexact=filters.actor)
    if filters.action:
        events = events.filter(action=filters.action)
    events = events.filter(day_range("created_at", filters.date_from, filters.date_to))
    events = events.select_related("merchant").order_by("-created_at", "-id")
    return Paginator(events, per_page).get_page(page)

