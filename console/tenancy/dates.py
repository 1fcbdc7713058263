"""Date filters as operators give them: whole days in the console's time zone, both ends
included (the audit log, the Payments page)."""

from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone


def day_range(field: str, date_from: date | None, date_to: date | None) -> Q:
    """``field`` from the start of ``date_from`` to the end of ``date_to`` (either may be None)."""
    tz = timezone.get_current_timezone()
    condition = Q()
    if date_from:
        condition &= Q(**{f"{field}__gte": datetime.combine(date_from, time.min, tz)})
    if date_to:
        condition &= Q(**{f"{field}__lt": datetime.combine(date_to + timedelta(days=1), time.min, tz)})
    return condition
