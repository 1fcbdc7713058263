"""Reads of billing keys and scheduled payments, scoped to the merchant that asks (a REST
token's merchant, or an operator's ``MerchantAccess``): another merchant's, its agency's
and its sub-merchants' are not found."""

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from console.tenancy.selectors import MerchantAccess

from .models import BillingKey, Payment, Schedule, ScheduleStatus, Status
from .services import PaymentError

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
        raise PaymentError("F400", _("The end of the period must come after its start."))
    if end - start > timedelta(days=SCHEDULE_QUERY_MAX_DAYS):
        raise PaymentError("F400", _("Schedules are listed %(days)d days at a time at most: narrow the "
                                     "period.") % {"days": SCHEDULE_QUERY_MAX_DAYS})
    if status and status not in ScheduleStatus.values:
        raise PaymentError("F400", _("schedule_status must be one of %(statuses)s.")
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
