"""Reads of billing keys and scheduled payments, scoped to the merchant that asks (a REST
token's merchant, or an operator's ``MerchantAccess``): another merchant's, its agency's
and its sub-merchants' are not found."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Left
from django.http import Http404
from django.utils.translation import gettext as _

from console.models import AuditEvent
from console.tenancy.selectors import MerchantAccess
from payments.audit import AuditAction
from payments.domain.errors import PaymentError, Refusal
from payments.models import BillingKey, Payment, Schedule, ScheduleStatus, Status
from payments.selectors.paging import keyset_page

UIDS_MAX = 100  # customer_uid[] in one GET /subscribe/customers
SCHEDULE_QUERY_MAX_DAYS = 92  # PortOne: schedules are listed three months at a time
SCHEDULE_LIST_MAX = 1000  # GET /subscribe/payments/schedule's limit, at most


# --- the REST API ---------------------------------------------------------------------


def billing_key_for_api(*, merchant_id: int, customer_uid: str) -> BillingKey | None:
    """The live key of ``customer_uid`` (a deleted one is unknown), or None."""
    return BillingKey.objects.filter(merchant_id=merchant_id, customer_uid=customer_uid,
                                     deleted_at__isnull=True).first()


def billing_keys_by_uids(*, merchant_id: int, customer_uids: list[str]) -> list[BillingKey]:
    """``GET /subscribe/customers?customer_uid[]=…``: the live keys among these (at most
    ``UIDS_MAX``), in the order asked; the caller tells the missing ones apart (207)."""
    uids = list(dict.fromkeys(customer_uids))[:UIDS_MAX]
    found = {key.customer_uid: key for key in BillingKey.objects.filter(
        merchant_id=merchant_id, customer_uid__in=uids, deleted_at__isnull=True)}
    return [found[uid] for uid in uids if uid in found]


def payments_of_customer(*, merchant_id: int, customer_uid: str) -> QuerySet[Payment]:
    """``GET /subscribe/customers/{customer_uid}/payments``: the payments made with (or that
    issued) this ``customer_uid``'s keys, newest first (a queryset to page)."""
    return (Payment.objects.filter(merchant_id=merchant_id, customer_uid=customer_uid)
            .prefetch_related("cancellations").order_by("-started_at", "-id"))


def schedule_for_api(*, merchant_id: int, merchant_uid: str) -> Schedule | None:
    return (Schedule.objects.filter(merchant_id=merchant_id, merchant_uid=merchant_uid)
            .select_related("payment").first())


def schedules_between(*, merchant_id: int, start: datetime, end: datetime, status: str | None = None,
                      customer_uid: str | None = None, oldest_first: bool = False) -> QuerySet[Schedule]:
    """``GET /subscribe/payments/schedule`` and ``…/customers/{customer_uid}/schedules``: the
    schedules due from ``start`` (included) to ``end`` (excluded), newest first (or oldest,
    PortOne's ``sorting=scheduled``), of one ``schedule_status`` or all. At most
    ``SCHEDULE_QUERY_MAX_DAYS`` days at a time (``F400`` otherwise)."""
    if end <= start:
        raise PaymentError(Refusal.INVALID, _("The end of the period must come after its start."))
    if end - start > timedelta(days=SCHEDULE_QUERY_MAX_DAYS):
        raise PaymentError(Refusal.INVALID, _("Schedules are listed %(days)d days at a time at most: narrow the "
                                     "period.") % {"days": SCHEDULE_QUERY_MAX_DAYS})
    if status and status not in ScheduleStatus.values:
        raise PaymentError(Refusal.INVALID, _("schedule_status must be one of %(statuses)s.")
                           % {"statuses": ", ".join(ScheduleStatus.values)})
    found = Schedule.objects.filter(merchant_id=merchant_id, schedule_at__gte=start, schedule_at__lt=end)
    if status:
        found = found.filter(status=status)
    if customer_uid is not None:
        found = found.filter(customer_uid=customer_uid)
    order = ("schedule_at", "id") if oldest_first else ("-schedule_at", "-id")
    return found.select_related("payment").order_by(*order)


# --- the console ----------------------------------------------------------------------


class ScheduleView:
    """The Schedules page's tabs."""

    DUE = "due"  # still to run
    DONE = "done"  # ran and paid (cancelled afterwards included)
    FAILED = "failed"  # ran and failed
    CANCELLED = "cancelled"  # cancelled before running
    ALL = (DUE, DONE, FAILED, CANCELLED)


def billing_keys_for_console(*, access: MerchantAccess, include_deleted: bool = True) -> QuerySet[BillingKey]:
    """The merchant's billing keys (deleted ones too, unless asked otherwise), newest first;
    ``pending_schedule_counts`` gives a page's keys their schedules still to run."""
    keys = BillingKey.objects.filter(merchant=access.merchant).select_related("channel").defer(
        "channel__credentials_encrypted")
    if not include_deleted:
        keys = keys.filter(deleted_at__isnull=True)
    return keys.order_by("-created_at", "-id")


def billing_key_for_console(*, access: MerchantAccess, pk: int) -> BillingKey:
    key = (BillingKey.objects.filter(merchant=access.merchant, pk=pk).select_related("channel")
           .defer("channel__credentials_encrypted").first())
    if key is None:
        raise Http404
    return key


def billing_key_payments(*, key: BillingKey) -> QuerySet[Payment]:
    """The payments made with this key row (not those of an earlier or later key under the
    same ``customer_uid``), newest first."""
    return key.payments.order_by("-started_at", "-id")


def billing_key_schedules(*, key: BillingKey) -> QuerySet[Schedule]:
    """The schedules of this key's ``customer_uid``, the latest first."""
    return (Schedule.objects.filter(merchant_id=key.merchant_id, customer_uid=key.customer_uid)
            .select_related("payment").order_by("-schedule_at", "-id"))


def pending_schedule_counts(*, merchant_id: int, customer_uids: list[str]) -> dict[str, int]:
    """How many schedules each ``customer_uid`` still has to run: what deleting its key would
    make fail (the delete confirmation says so)."""
    rows = (Schedule.objects.filter(merchant_id=merchant_id, customer_uid__in=customer_uids,
                                    status=ScheduleStatus.SCHEDULED)
            .values("customer_uid").annotate(n=Count("id")))
    return {row["customer_uid"]: row["n"] for row in rows}


def schedules_for_console(*, access: MerchantAccess, view: str = ScheduleView.DUE) -> QuerySet[Schedule]:
    """One tab of the Schedules page: due soonest first; the others latest first."""
    found = Schedule.objects.filter(merchant=access.merchant).select_related("payment")
    if view == ScheduleView.DUE:
        return found.filter(status=ScheduleStatus.SCHEDULED).order_by("schedule_at", "id")
    if view == ScheduleView.CANCELLED:
        found = found.filter(status=ScheduleStatus.REVOKED)
    elif view == ScheduleView.FAILED:
        found = found.filter(Q(payment__isnull=True) | Q(payment__status=Status.FAILED),
                             status=ScheduleStatus.EXECUTED)
    elif view == ScheduleView.DONE:
        found = found.filter(status=ScheduleStatus.EXECUTED).exclude(payment__status=Status.FAILED).exclude(
            payment__isnull=True)
    else:
        raise Http404
    return found.order_by("-schedule_at", "-id")


def schedule_for_console(*, access: MerchantAccess, pk: int) -> Schedule:
    schedule = Schedule.objects.filter(merchant=access.merchant, pk=pk).select_related("payment").first()
    if schedule is None:
        raise Http404
    return schedule


# --- the console's pages: paged lists -------------------------------------------------

CONSOLE_PER_PAGE = 50
DETAIL_ROWS = 50  # a billing key's page lists its latest payments and schedules, this many each
# What a row of the Billing keys page shows: the customer fields stay behind.
KEY_LIST_FIELDS = ("id", "merchant_id", "customer_uid", "pg_provider", "pg_id", "issued_through", "card_code",
                   "card_name", "card_number", "card_type", "created_at", "deleted_at")


@dataclass
class BillingKeyRow:
    key: BillingKey
    pending: int  # schedules of its customer_uid still to run
    pending_fail: bool  # ... and they will fail: the key is deleted and no live one took its place


@dataclass
class BillingKeysPage:
    rows: list[BillingKeyRow]
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


def billing_keys_page(*, access: MerchantAccess, q: str = "", after: str | None = None, before: str | None = None,
                      per_page: int = CONSOLE_PER_PAGE) -> BillingKeysPage:
    """One page of the Billing keys page: this merchant's keys (deleted ones too), newest first,
    those whose ``customer_uid`` starts with ``q`` (case counts: it is the merchant's own ID),
    each with its schedules still to run. Three queries whatever the page (keyset paging on
    the index (merchant, -created_at, -id))."""
    keys = BillingKey.objects.filter(merchant=access.merchant).only(*KEY_LIST_FIELDS)
    q = q.strip()
    if q:
        # Its first len(q) characters equal to q: case-sensitive on SQLite too, whose LIKE (what
        # __startswith becomes) ignores case, and exact whatever q holds (no LIKE wildcards).
        keys = keys.alias(uid_start=Left("customer_uid", len(q))).filter(uid_start=q)
    page = keyset_page(keys, field="created_at", after=after, before=before, per_page=per_page)
    uids = list({key.customer_uid for key in page.rows})
    pending = pending_schedule_counts(merchant_id=access.merchant.pk, customer_uids=uids) if uids else {}
    live = set(BillingKey.objects.filter(merchant=access.merchant, customer_uid__in=list(pending),
                                         deleted_at__isnull=True).values_list("customer_uid", flat=True)) \
        if pending else set()
    rows = []
    for key in page.rows:
        count = pending.get(key.customer_uid, 0)
        if key.is_deleted and key.customer_uid in live:
            count = 0  # they are the live key's
        rows.append(BillingKeyRow(key=key, pending=count, pending_fail=bool(count) and key.is_deleted))
    return BillingKeysPage(rows, next_cursor=page.next_cursor, previous_cursor=page.previous_cursor)


def billing_key_ids(*, merchant_id: int, customer_uids: list[str]) -> dict[str, int]:
    """The billing key each ``customer_uid`` points to on the console: its live key, else its
    latest deleted one (uids never issued are left out). One query."""
    found: dict[str, tuple] = {}
    rows = BillingKey.objects.filter(merchant_id=merchant_id, customer_uid__in=list(set(customer_uids))).values_list(
        "customer_uid", "id", "created_at", "deleted_at")
    for uid, pk, created_at, deleted_at in rows:
        rank = (deleted_at is None, created_at, pk)
        if uid not in found or rank > found[uid]:
            found[uid] = rank
    return {uid: rank[2] for uid, rank in found.items()}


@dataclass
class SchedulesPage:
    view: str
    schedules: list[Schedule]
    next_cursor: str | None
    previous_cursor: str | None
    key_ids: dict[str, int]  # customer_uid -> the billing key its link opens

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)

    @property
    def rows(self) -> list[tuple[Schedule, int | None]]:
        """Each schedule with the billing key its ``customer_uid`` links to."""
        return [(s, self.key_ids.get(s.customer_uid)) for s in self.schedules]


def schedules_page(*, access: MerchantAccess, view: str = ScheduleView.DUE, q: str = "", after: str | None = None,
                   before: str | None = None, per_page: int = CONSOLE_PER_PAGE) -> SchedulesPage:
    """One page of a tab of the Schedules page (``schedules_for_console``'s order: due soonest
    first, the others latest first), narrowed to one ``merchant_uid`` or ``customer_uid`` (exact)
    by ``q``; with each row's billing key to link to. Three queries whatever the page."""
    if view not in ScheduleView.ALL:
        view = ScheduleView.DUE
    found = schedules_for_console(access=access, view=view)
    q = q.strip()
    if q:
        found = found.filter(Q(merchant_uid=q) | Q(customer_uid=q))
    page = keyset_page(found, field="schedule_at", descending=view != ScheduleView.DUE, after=after, before=before,
                       per_page=per_page)
    key_ids = billing_key_ids(merchant_id=access.merchant.pk,
                              customer_uids=[s.customer_uid for s in page.rows]) if page.rows else {}
    return SchedulesPage(view, page.rows, next_cursor=page.next_cursor, previous_cursor=page.previous_cursor,
                         key_ids=key_ids)


def schedule_of_payment(*, payment: Payment) -> Schedule | None:
    """The schedule that made this payment, if one did."""
    return Schedule.objects.filter(merchant_id=payment.merchant_id, payment=payment).first()


@dataclass
class BillingKeyHistory:
    payments: list[Payment]  # the latest, at most DETAIL_ROWS
    more_payments: bool
    schedules: list[Schedule]
    more_schedules: bool
    pending: int  # schedules of its customer_uid still to run
    live_key: BillingKey | None  # for a deleted key: the key issued since under its customer_uid
    replacements: list[AuditEvent]  # the latest times it was issued again over itself, newest first


def billing_key_replacements(*, key: BillingKey, limit: int = DETAIL_ROWS) -> list[AuditEvent]:
    """The audit rows of the key's replacements (issued again under its ``customer_uid``: by the
    API, a key-in payment, or anyone's window), newest first."""
    return list(AuditEvent.objects.filter(
        merchant_id=key.merchant_id, action=AuditAction.BILLING_KEY_REPLACE,
        target_type=BillingKey._meta.label_lower, target_id=str(key.pk),
    ).order_by("-created_at", "-id")[:limit])


def billing_key_history(*, key: BillingKey, limit: int = DETAIL_ROWS) -> BillingKeyHistory:
    """What a billing key's page lists under its fields: its latest payments (with their
    channels, for the kind marker), the latest schedules of its ``customer_uid``, how many are
    still to run, when and from where it was replaced and, for a deleted key, the live key that
    replaced it. Five queries."""
    payments = list(billing_key_payments(key=key).select_related("channel")
                    .defer("channel__credentials_encrypted", "custom_data", "user_agent")[:limit + 1])
    schedules = list(billing_key_schedules(key=key)[:limit + 1])
    pending = pending_schedule_counts(merchant_id=key.merchant_id, customer_uids=[key.customer_uid])
    live = billing_key_for_api(merchant_id=key.merchant_id, customer_uid=key.customer_uid) if key.is_deleted else None
    return BillingKeyHistory(payments=payments[:limit], more_payments=len(payments) > limit,
                             schedules=schedules[:limit], more_schedules=len(schedules) > limit,
                             pending=pending.get(key.customer_uid, 0), live_key=live,
                             replacements=billing_key_replacements(key=key, limit=limit))
