"""Scheduled payments: ``POST /subscribe/payments/schedule`` and ``/unschedule``, changing a
schedule's time (``PUT /subscribe/payments/schedule/{merchant_uid}``, ``…/reschedule``,
``…/retry``), and the periodic job that runs what is due.

Schedules live in the database, like webhook retries: the periodic job (the Celery beat
entry ``payments.schedules_run_due`` every ``PAYMENT_SCHEDULE_INTERVAL_SECONDS``,
``schedules_dispatch_due``) hands every due row, however late, to the workers as a task of
its own (``payments.schedule_run``), so a broker or worker outage delays a payment and loses
none, and all the workers' processes run them side by side. Each schedule runs exactly once:

- one run is one transaction (``schedule_execute``): lock the row, check it is still
  ``scheduled`` and due, pay with the billing key, write the payment, the schedule's
  ``executed`` status and its webhook (the outbox), commit. A worker killed at any point
  commits nothing, and the lock dies with its connection; a later tick hands the row over
  again (after ``PAYMENT_SCHEDULE_REQUEUE_SECONDS``);
- workers racing on the same rows skip the ones another holds (``FOR UPDATE SKIP LOCKED``),
  and one that comes after the commit finds the row executed;
- behind both, the payment of an order is unique (``payment_one_live_per_order``).

A run that fails (no live key, the channel disabled, the card declined) is a ``failed``
payment, and unlike a failed window payment it notifies (PortOne: "예약결제가 시도되었을 때 -
paid or failed").
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from channels import catalog
from channels.catalog import Module
from console.models import Merchant
from console.tenancy.audit import Actor, audit_event, audit_record, audit_record_many
from console.tenancy.locks import lock_rows
from payments.audit import AuditAction
from payments.domain.billing_keys import (
    live_key,
    require_issuance,
    store_billing_key,
    unknown_customer,
)
from payments.domain.charges import (
    pay_with_key,
)
from payments.domain.errors import PaymentError, Refusal
from payments.domain.inputs import (
    ORDER_FIELDS,
    parse_amount,
    read_channel,
    read_currency,
    read_customer_id,
    read_customer_uid,
    read_merchant_uid,
    read_merchant_uids,
    read_order,
    read_schedule_at,
    read_text,
)
from payments.domain.lifecycle import notify, windows_expire
from payments.domain.merchants import find_channel
from payments.domain.orders import order_taken
from payments.domain.provider import provider
from payments.models import (
    CUSTOMER_UID_MAX,
    CustomerUidUsage,
    IssuedThrough,
    Payment,
    Schedule,
    ScheduleStatus,
    Status,
)

logger = logging.getLogger(__name__)

MAX_SCHEDULES_PER_CALL = 1000  # one call schedules at most this many (all or none)
DISPATCH_LIMIT = 2000  # due schedules one tick hands to the broker, at most; the next tick goes on


# --- reading ---------------------------------------------------------------------------


def _read_item(item, *, now: datetime) -> Schedule:
    """One schedule of a call (its notice_url checked in form only: no lookup, see
    ``inputs.read_notice_urls``)."""
    if not isinstance(item, dict):
        raise PaymentError(Refusal.INVALID, _("Each schedule must be an object with merchant_uid, schedule_at, "
                                     "amount and name."))
    merchant_uid = read_merchant_uid(item.get("merchant_uid"))
    schedule_at = read_schedule_at(item.get("schedule_at"), now=now)
    amount = parse_amount(item.get("amount"))
    currency = read_currency(item.get("currency"))
    order = read_order(item, amount=amount, name_required=True)
    return Schedule(merchant_uid=merchant_uid, schedule_at=schedule_at, amount=amount, currency=currency, **order)


def _numbered(index: int, exc: PaymentError) -> PaymentError:
    return PaymentError(exc.code, _("schedules[%(index)d]: %(problem)s") % {"index": index, "problem": exc.message},
                        pg_code=exc.pg_code)


# --- scheduling ------------------------------------------------------------------------


@sensitive_variables("card_number", "expiry", "birth", "pwd_2digit")
def schedules_create(*, merchant: Merchant, customer_uid: str, schedules, card_number=None, expiry=None,
                     birth=None, pwd_2digit=None, pg: str = "", customer_id: str = "") -> list[Schedule]:
    """``POST /subscribe/payments/schedule``: schedule payments with the billing key of
    ``customer_uid``, all or none. Without a live key, the card data issue one first (on
    a channel of the API subscription module, ``pg``); without either, ``Refusal.NOT_FOUND``. Each
    ``merchant_uid`` is new: not scheduled before (whatever became of it), not paid, not twice
    in the call. At most ``MAX_SCHEDULES_PER_CALL`` schedules, each from now to
    ``MAX_DAYS_AHEAD`` days ahead. Returns the schedules in the order given."""
    customer_uid = read_customer_uid(customer_uid)
    if not isinstance(schedules, (list, tuple)) or not schedules:
        raise PaymentError(Refusal.INVALID, _("schedules must be a list of one or more schedules."))
    if len(schedules) > MAX_SCHEDULES_PER_CALL:
        raise PaymentError(Refusal.INVALID, _("At most %(max)s schedules in one call; this one has %(count)s. "
                                     "Send them in several calls.")
                           % {"max": f"{MAX_SCHEDULES_PER_CALL:,}", "count": f"{len(schedules):,}"})
    now = timezone.now()
    rows, index_of = [], {}
    for index, item in enumerate(schedules):
        try:
            row = _read_item(item, now=now)
        except PaymentError as exc:
            raise _numbered(index, exc) from None
        if row.merchant_uid in index_of:
            raise PaymentError(Refusal.INVALID, _("schedules[%(index)d]: the merchant_uid “%(uid)s” is in this call "
                                         "twice (schedules[%(first)d]).")
                               % {"index": index, "uid": row.merchant_uid, "first": index_of[row.merchant_uid]})
        index_of[row.merchant_uid] = index
        row.merchant, row.customer_uid = merchant, customer_uid
        rows.append(row)
    card = None
    if card_number not in (None, ""):
        card = provider().read_card(card_number=card_number, expiry=expiry, birth=birth, pwd_2digit=pwd_2digit)
    customer_id = read_customer_id(customer_id)
    channel = None
    if card is not None and live_key(merchant, customer_uid) is None:
        channel = find_channel(merchant, module=Module.API_SUBSCRIPTION, **read_channel({"pg": pg}))
        require_issuance(channel, catalog.Issuance.API)
        declined = provider().decline(card, issuing=True)
        if declined:
            raise PaymentError(Refusal.DECLINED, declined[1], pg_code=declined[0])
    with transaction.atomic():
        if live_key(merchant, customer_uid, for_payment=True) is None:
            if channel is None:
                raise PaymentError(Refusal.NOT_FOUND, _("No billing key of this merchant has the customer_uid “%(uid)s”: "
                                             "issue one first, or send the card with the schedules.")
                                   % {"uid": customer_uid})
            store_billing_key(merchant=merchant, customer_uid=customer_uid, channel=channel, card=card.card,
                               through=IssuedThrough.SCHEDULE, customer={}, customer_id=customer_id)
        uids = list(index_of)
        scheduled = set(Schedule.objects.filter(merchant=merchant, merchant_uid__in=uids)
                        .values_list("merchant_uid", flat=True))
        if scheduled:
            uid = min(scheduled, key=index_of.get)
            raise PaymentError(Refusal.CONFLICT, _("schedules[%(index)d]: the merchant_uid “%(uid)s” was scheduled "
                                         "already. Each schedule takes a new merchant_uid.")
                               % {"index": index_of[uid], "uid": uid})
        windows_expire(merchant=merchant, merchant_uids=uids)  # a window left open past its hour holds nothing
        paid = dict(Payment.objects.filter(merchant=merchant, merchant_uid__in=uids)
                    .exclude(status=Status.FAILED).values_list("merchant_uid", "status"))
        if paid:
            uid = min(paid, key=index_of.get)
            raise PaymentError(Refusal.CONFLICT, _("schedules[%(index)d]: the merchant_uid “%(uid)s” is already used by "
                                         "a payment that is %(status)s. Use a new merchant_uid for a new order.")
                               % {"index": index_of[uid], "uid": uid,
                                  "status": Status(paid[uid]).label.lower()})
        try:
            with transaction.atomic():
                Schedule.objects.bulk_create(rows, batch_size=500)
        except IntegrityError as exc:  # the same merchant_uid, scheduled by another call an instant ago
            raise PaymentError(Refusal.CONFLICT, _("One of these merchant_uids was scheduled by another request an "
                                         "instant ago. Each schedule takes a new merchant_uid.")) from exc
    return rows


def schedules_revoke(*, actor: Actor, merchant: Merchant, customer_uid: str = "",
                     merchant_uids=None) -> list[Schedule]:
    """``POST /subscribe/payments/unschedule`` and the console's Cancel: cancel the
    schedules of ``customer_uid``, of these ``merchant_uids``, or of both, that are still to
    run. ``Refusal.NOT_FOUND`` when no schedule of this merchant matches, ``Refusal.CONFLICT`` when those that match ran
    or were cancelled already. A schedule being run right now is waited for, then left alone.
    One audit row per cancelled schedule."""
    customer_uid = read_text({"customer_uid": customer_uid}, "customer_uid", CUSTOMER_UID_MAX)
    uids = read_merchant_uids(merchant_uids)
    if not customer_uid and not uids:
        raise PaymentError(Refusal.INVALID, _("Name the schedules to cancel: customer_uid, merchant_uid, or both."))
    matching = Schedule.objects.filter(merchant=merchant)
    if customer_uid:
        matching = matching.filter(customer_uid=customer_uid)
    if uids:
        matching = matching.filter(merchant_uid__in=uids)
    with transaction.atomic():
        # Locked in id order (no deadlock between two cancels); a row the job holds is waited
        # for, and PostgreSQL checks the status again on the row it then finds.
        rows = list(lock_rows(matching.filter(status=ScheduleStatus.SCHEDULED)).order_by("id"))
        if not rows:
            if matching.exists():
                raise PaymentError(Refusal.CONFLICT, _("The schedules named ran or were cancelled already: nothing "
                                             "to cancel."))
            raise PaymentError(Refusal.NOT_FOUND, _("No schedule of this merchant matches."))
        now = timezone.now()
        Schedule.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=ScheduleStatus.REVOKED, revoked_at=now, updated_at=now)
        for row in rows:
            row.status, row.revoked_at, row.updated_at = ScheduleStatus.REVOKED, now, now
        audit_record_many([
            audit_event(actor=actor, merchant=merchant, action=AuditAction.PAYMENT_SCHEDULE_REVOKE, target=row,
                        changes={"status": (ScheduleStatus.SCHEDULED, ScheduleStatus.REVOKED)})
            for row in rows
        ])
    return rows


def _locked(merchant: Merchant, merchant_uid: str, *, skip_locked: bool = False) -> Schedule:
    """The schedule of ``merchant_uid`` with its row locked. Its payment is not joined: read
    after the lock (``schedule.payment``), it is the one the last change committed, where a
    join would give the one from before the wait. With ``skip_locked``, a schedule another
    transaction holds right now (a retry or a run under way, a change of its time) is refused
    at once (``Refusal.CONFLICT``) instead of waited for."""
    found = Schedule.objects.select_related("merchant").filter(merchant=merchant, merchant_uid=merchant_uid)
    schedule = lock_rows(found, skip_locked=skip_locked).first()
    if schedule is None:
        if skip_locked and found.exists():
            raise PaymentError(Refusal.CONFLICT, _("This schedule is being run or changed by another request right now: "
                                         "nothing was done. Read it again in a moment."))
        raise PaymentError(Refusal.NOT_FOUND, _("No schedule of this merchant has the merchant_uid “%(uid)s”.")
                           % {"uid": merchant_uid})
    return schedule


def _ran_and_failed(schedule: Schedule) -> bool:
    return schedule.status == ScheduleStatus.EXECUTED and (
        schedule.payment is None or schedule.payment.status == Status.FAILED)


def schedule_update(*, actor: Actor, merchant: Merchant, merchant_uid: str, schedule_at) -> Schedule:
    """``PUT /subscribe/payments/schedule/{merchant_uid}``: a new time for a schedule still
    to run (``Refusal.CONFLICT`` once it ran or was cancelled)."""
    when = read_schedule_at(schedule_at)
    with transaction.atomic():
        schedule = _locked(merchant, merchant_uid)
        if schedule.status != ScheduleStatus.SCHEDULED:
            raise PaymentError(Refusal.CONFLICT, _("This schedule is %(status)s: only one still to run can change "
                                         "its time.") % {"status": schedule.get_status_display().lower()})
        before = schedule.schedule_at
        schedule.schedule_at = when
        schedule.save(update_fields=["schedule_at", "updated_at"])
        audit_record(actor=actor, merchant=merchant, action=AuditAction.PAYMENT_SCHEDULE_UPDATE, target=schedule,
                     changes={"schedule_at": (before, when)})
    return schedule


def schedule_reschedule(*, actor: Actor, merchant: Merchant, merchant_uid: str, schedule_at) -> Schedule:
    """``POST /subscribe/payments/schedule/{merchant_uid}/reschedule``: schedule again, at a new
    time, one whose run failed or that was cancelled. Its failed payment stays as it is."""
    when = read_schedule_at(schedule_at)
    with transaction.atomic():
        schedule = _locked(merchant, merchant_uid)
        if not (schedule.status == ScheduleStatus.REVOKED or _ran_and_failed(schedule)):
            raise PaymentError(Refusal.CONFLICT, _("Only a schedule whose payment failed, or a cancelled one, can be "
                                         "scheduled again."))
        taken = order_taken(merchant, merchant_uid, schedule=schedule)
        if taken:
            raise PaymentError(Refusal.CONFLICT, taken)
        before = (schedule.status, schedule.schedule_at)
        schedule.status, schedule.schedule_at = ScheduleStatus.SCHEDULED, when
        schedule.payment, schedule.executed_at, schedule.revoked_at = None, None, None
        schedule.save(update_fields=["status", "schedule_at", "payment", "executed_at", "revoked_at", "updated_at"])
        audit_record(actor=actor, merchant=merchant, action=AuditAction.PAYMENT_SCHEDULE_UPDATE, target=schedule,
                     changes={"status": (before[0], ScheduleStatus.SCHEDULED), "schedule_at": (before[1], when)})
    return schedule


def schedule_retry(*, actor: Actor, merchant: Merchant, merchant_uid: str) -> Payment:
    """``POST /subscribe/payments/schedule/{merchant_uid}/retry``: run now, once, a schedule whose
    payment failed or that was cancelled. Returns the payment (paid or failed; both notify).
    Retries sent at once (a double click, a client retrying on a timeout) make one run: the
    others find the schedule held and are refused, changing nothing. The card is charged: one
    audit row names the payment the run made and the one it replaces."""
    with transaction.atomic():
        schedule = _locked(merchant, merchant_uid, skip_locked=True)
        if not (schedule.status == ScheduleStatus.REVOKED or _ran_and_failed(schedule)):
            raise PaymentError(Refusal.CONFLICT, _("Only a schedule whose payment failed, or a cancelled one, can be "
                                         "tried again."))
        if live_key(merchant, schedule.customer_uid) is None:
            raise unknown_customer(schedule.customer_uid)
        status, before = schedule.status, schedule.payment
        payment = _execute(schedule)
        audit_record(actor=actor, merchant=merchant, action=AuditAction.PAYMENT_SCHEDULE_RETRY, target=schedule,
                     changes={"status": (status, schedule.status),
                              "payment": (before.imp_uid if before else None, payment.imp_uid),
                              "payment_status": (before.status if before else None, payment.status)})
        return payment


# --- running ----------------------------------------------------------------------------


def _execute(schedule: Schedule) -> Payment:
    """Pay a locked schedule, mark it executed and record the webhook, in the caller's
    transaction."""
    order = {field: getattr(schedule, field)
             for field in (*ORDER_FIELDS, "custom_data", "notice_urls", "card_quota")}
    payment = pay_with_key(merchant=schedule.merchant, customer_uid=schedule.customer_uid,
                           merchant_uid=schedule.merchant_uid, amount=schedule.amount, order=order,
                           usage=CustomerUidUsage.SCHEDULED, schedule=schedule)
    schedule.status, schedule.executed_at, schedule.revoked_at = ScheduleStatus.EXECUTED, timezone.now(), None
    schedule.payment = payment
    schedule.save(update_fields=["status", "executed_at", "revoked_at", "payment", "updated_at"])
    notify(payment, payment.status)  # paid or failed: a scheduled payment notifies both
    return payment


def schedule_execute(*, schedule_id: int) -> Payment | None:
    """Run one due schedule, in one transaction; None when it is not due, not ``scheduled``
    any more, or being run by another worker right now."""
    with transaction.atomic():
        schedule = (lock_rows(Schedule.objects.select_related("merchant"), skip_locked=True)
                    .filter(pk=schedule_id, status=ScheduleStatus.SCHEDULED, schedule_at__lte=timezone.now())
                    .first())
        if schedule is None:
            return None
        payment = _execute(schedule)
    logger.info("scheduled payment %s of %s ran: %s", schedule.merchant_uid, schedule.merchant.code,
                payment.status)
    return payment


def schedules_dispatch_due(*, limit: int = DISPATCH_LIMIT) -> int:
    """The periodic job: hand each due schedule to the broker as a task of its own
    (``payments.schedule_run``, which calls ``schedule_execute``), so that every process of
    every worker runs them side by side instead of one job running them one after another.
    A schedule handed over is not handed over again for ``PAYMENT_SCHEDULE_REQUEUE_SECONDS``
    (a marker in the shared cache); after that, one still due (its task lost with a killed
    worker or a broker outage) is handed over again. Handing one over twice is harmless:
    ``schedule_execute`` runs a row once, under its lock. Returns how many were handed over."""
    from payments.tasks import schedule_run

    due = (Schedule.objects.filter(status=ScheduleStatus.SCHEDULED, schedule_at__lte=timezone.now())
           .order_by("schedule_at", "id").values_list("pk", "merchant_uid", "schedule_at")[:limit])
    sent = 0
    for schedule_id, merchant_uid, schedule_at in due:
        marker = f"payments:schedule:{schedule_id}:{merchant_uid}:{schedule_at.timestamp():.6f}:queued"
        if not cache.add(marker, 1, timeout=settings.PAYMENT_SCHEDULE_REQUEUE_SECONDS):
            continue  # handed over a moment ago
        try:
            schedule_run.apply_async(args=[schedule_id], retry=False)
        except Exception as exc:  # kombu raises several kinds; the row stays due for the next tick
            cache.delete(marker)
            logger.warning("broker unavailable, due schedules wait for the next tick: %s", type(exc).__name__)
            break
        sent += 1
    return sent
