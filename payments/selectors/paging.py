"""Keyset paging for the console's long lists (Payments, Billing keys, Schedules).

A page is addressed by the row it starts after (``?after=``) or ends before (``?before=``):
``<microseconds>.<id>`` of the list's (time, id). No COUNT, no OFFSET: every page costs one
query on an index that starts with the merchant and holds (time, id), however deep the page.
A cursor that does not parse shows the first page.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"([0-9]{1,18})\.([0-9]{1,18})")


def cursor_of(row, field: str) -> str:
    delta = getattr(row, field) - _EPOCH
    return f"{(delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds}.{row.pk}"


def parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    match = _CURSOR.fullmatch(value or "")
    if match is None:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(match[1])), int(match[2])
    except OverflowError:
        return None


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None  # ?after=
    previous_cursor: str | None  # ?before=

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


def _beyond(field: str, value: datetime, pk: int, *, lower: bool) -> Q:
    """The rows past (value, pk): below it (``lower``) or above it."""
    op = "lt" if lower else "gt"
    return Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": pk})


def keyset_page(rows: QuerySet, *, field: str, descending: bool = True, after: str | None = None,
                before: str | None = None, per_page: int = 50) -> KeysetPage:
    """One page of ``rows`` ordered by (``field``, id), newest first (``descending``) or oldest
    first: one query, two when a Previous link leads back past the first page, which is then
    shown whole."""
    order = (f"-{field}", "-id") if descending else (field, "id")
    back_order = (field, "id") if descending else (f"-{field}", "-id")
    back = parse_cursor(before)
    if back is not None:
        found = list(rows.filter(_beyond(field, *back, lower=not descending)).order_by(*back_order)[:per_page + 1])
        if len(found) > per_page:
            found = found[:per_page][::-1]
            return KeysetPage(found, next_cursor=cursor_of(found[-1], field),
                              previous_cursor=cursor_of(found[0], field))
        after = None  # back at the top: the first page, whole
    forward = parse_cursor(after)
    ordered = rows.order_by(*order)
    if forward is not None:
        ordered = ordered.filter(_beyond(field, *forward, lower=descending))
    found = list(ordered[:per_page + 1])
    more = len(found) > per_page
    found = found[:per_page]
    return KeysetPage(
        found,
        next_cursor=cursor_of(found[-1], field) if more else None,
        previous_cursor=cursor_of(found[0], field) if forward is not None and found else None,
    )
