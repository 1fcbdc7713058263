"""Orders: the amount registered with /payments/prepare, the lock windows of one order take
turns on, and whether an order may be paid now (``order_taken``)."""

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from console.models import Merchant
from console.tenancy.locks import lock_rows
from payments.domain.errors import PaymentError, Refusal
from payments.domain.inputs import parse_amount, read_text
from payments.domain.lifecycle import windows_expire
from payments.models import MERCHANT_UID_MAX, Payment, Preparation, Schedule, ScheduleStatus, Status


def prepare(*, merchant: Merchant, merchant_uid: str, amount, update: bool) -> Preparation:
    """Register (``update=False``) or change (``update=True``) the amount of an order."""
    merchant_uid = read_text({"merchant_uid": merchant_uid}, "merchant_uid", MERCHANT_UID_MAX, required=True)
    amount = parse_amount(amount)
    with transaction.atomic():
        current = lock_rows(Preparation.objects).filter(merchant=merchant, merchant_uid=merchant_uid).first()
        if update:
            if current is None:
                raise PaymentError(Refusal.NOT_FOUND, _("No amount is registered for this merchant_uid."))
            current.amount = amount
            current.save(update_fields=["amount", "updated_at"])
            return current
        if current is not None:
            raise PaymentError(Refusal.CONFLICT, _("An amount is registered for this merchant_uid already: change it "
                                         "with PUT /payments/prepare."))
        try:
            with transaction.atomic():
                return Preparation.objects.create(merchant=merchant, merchant_uid=merchant_uid, amount=amount)
        except IntegrityError as exc:
            raise PaymentError(Refusal.CONFLICT, _("An amount is registered for this merchant_uid already.")) from exc


def prepared_amount_problem(merchant: Merchant, merchant_uid: str, amount: int) -> str | None:
    """Why ``amount`` cannot be paid for ``merchant_uid``: an amount registered for the order with
    /payments/prepare differs, or None. Read when the window opens and again when it pays
    (``refuse_undecidable``), so an amount registered or changed in between counts."""
    prepared = Preparation.objects.filter(merchant=merchant, merchant_uid=merchant_uid).only("amount").first()
    if prepared is None or prepared.amount == amount:
        return None
    return _("The amount differs from the one registered for this order (/payments/prepare): "
             "%(prepared)s won registered, %(amount)s won asked.") % {"prepared": f"{prepared.amount:,}",
                                                                     "amount": f"{amount:,}"}


def order_lock(merchant: Merchant, merchant_uid: str) -> None:
    """Windows opening for one order take turns, until the transaction ends: each finds the
    payment the one before it committed, instead of racing it to the insert. PostgreSQL: an
    advisory lock on the order (there may be no row to lock yet). SQLite's transactions take
    its one write lock as they begin, so they take turns already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [merchant.pk, merchant_uid])


def order_taken(merchant: Merchant, merchant_uid: str, *, schedule: Schedule | None = None) -> str | None:
    """Why ``merchant_uid`` cannot be paid now: a payment of it is paid, waits for a
    deposit or was cancelled (one per order; failed tries may repeat), or a schedule other
    than ``schedule`` is to pay it. A window left open past its hour holds the order no more: it
    is failed first (``lifecycle.windows_expire``, a write: call this inside the transaction)."""
    windows_expire(merchant=merchant, merchant_uids=[merchant_uid])
    existing = (Payment.objects.filter(merchant=merchant, merchant_uid=merchant_uid)
                .exclude(status=Status.FAILED).only("status").first())
    if existing is not None:
        return _("This merchant_uid is already used by a payment that is %(status)s. Use a new "
                 "merchant_uid for a new order.") % {"status": existing.get_status_display().lower()}
    pending = Schedule.objects.filter(merchant=merchant, merchant_uid=merchant_uid, status=ScheduleStatus.SCHEDULED)
    if schedule is not None:
        pending = pending.exclude(pk=schedule.pk)
    if pending.exists():
        return _("This merchant_uid is scheduled to be paid: cancel its schedule first, or use a new "
                 "merchant_uid.")
    return None
