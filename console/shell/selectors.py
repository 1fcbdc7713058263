"""Reads of the audit log page: a merchant's trail (an agency's includes its sub-merchants'),
filtered and paged.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.utils import timezone

from console.models import AuditEvent
from console.tenancy.selectors import MerchantAccess


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
