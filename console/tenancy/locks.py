"""Row locks: the one way the project takes them.

``lock_rows(queryset)`` is ``SELECT … FOR UPDATE OF`` the queryset's own table, whatever it
joins for reading (``select_related``). A bare ``select_for_update()`` on a query that joins
the merchant locks the merchant's row too on PostgreSQL, so that every approve or cancel of
a merchant's payments would wait for the others, and for any edit of the merchant, and
``FOR UPDATE`` on the nullable side of an outer join is an error there. A row that must be
locked is locked by a query of its own (``lock_merchant``). On a database without row locks
(SQLite) the query runs unlocked, as ``select_for_update`` does.

A test checks that no module of the project calls ``select_for_update`` but this one
(``tests/console/test_faults_locks.py``).
"""

from django.db.models import QuerySet


def lock_rows(queryset: QuerySet, *, skip_locked: bool = False) -> QuerySet:
    """``queryset`` locking only its own rows until the transaction ends. ``skip_locked``
    leaves out the rows another transaction holds instead of waiting for them."""
    return queryset.select_for_update(of=("self",), skip_locked=skip_locked)
