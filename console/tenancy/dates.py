"""Date filters as operators give them: whole days in the console's time zone, both ends
included (the audit log, the Payments page)."""

from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone


def _midnight(day: date, tz) -> datetime | None:
    """The start of ``day`` in ``tz``, or None when it is no datetime in UTC (before year 1 or
    after 9999: a date field takes ``0001-01-01`` and ``9999-12-31``)."""
    try:
        start = datetime.combine(day, time.min, tz)
        start.astimezone(UTC)
    except OverflowError:
        return None
    return start


def day_range(field: str, date_from: date | None, date_to: date | None) -> Q:
    """``field`` from the start of ``date_from`` to the end of ``date_to`` (either may be None).
    An end past what a datetime holds bounds nothing: no row is that late, nor that early."""
    tz = timezone.get_current_timezone()
    condition = Q()
    if date_from:
        start = _midnight(date_from, tz)
        if start is None and date_from.year > 1:
            return Q(pk__in=[])  # from after year 9999 in UTC: nothing
        if start is not None:
            condition &= Q(**{f"{field}__gte": start})
    if date_to:
        end = _midnight(date_to + timedelta(days=1), tz) if date_to < date.max else None
        if end is not None:
            condition &= Q(**{f"{field}__lt": end})
    return condition
