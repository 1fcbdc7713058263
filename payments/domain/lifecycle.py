"""A payment's lifecycle outside any one door: the webhook a change causes (``notify``, written in
the change's transaction: an outbox, ``webhooks.services.payment_event_record``), failing, the
expiry of an open window, and a virtual account's deposit."""

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from console.models import Merchant
from console.tenancy.audit import SYSTEM, Actor, audit_record
from console.tenancy.locks import lock_rows
from payments.audit import AuditAction
from payments.domain.errors import PaymentError, Refusal
from payments.models import Payment, Status
from webhooks.services import payment_event_record

EXPIRED_CODE = "F1006"  # the sandbox's: the window's hour ran out before it was decided


def notify(payment: Payment, status: str, *, cancellation_id: str | None = None, actor: Actor = SYSTEM,
           billing_key: str | None = None, v2_only: bool = False):
    """The webhooks this change causes (one to each notice_url the payment gave, else one to
    the merchant's endpoint, none without one), written in the same transaction as the change:
    both commit or neither does, and the broker gets them after the commit
    (``webhooks.services.payment_event_record``)."""
    payment_event_record(merchant=payment.merchant, mode=payment.mode, imp_uid=payment.imp_uid,
                         merchant_uid=payment.merchant_uid, status=status,
                         cancellation_id=cancellation_id, notice_urls=payment.notice_urls or (),
                         actor=actor, billing_key=billing_key, v2_only=v2_only)


# The language of every text the sandbox stores (fail_reason, cancel_reason, vbank_name):
# i'mport's, whatever the buyer's browser or the API caller speaks. Pages show them as stored.
STORED_LANGUAGE = "ko"


def stored_text(message) -> str:
    """``message`` (a lazy translation, or a str already made) as the sandbox stores it."""
    with translation.override(STORED_LANGUAGE):
        return str(message)


def in_stored_language():
    """Make texts to store inside this block: ``with in_stored_language(): why = problem(...)``."""
    return translation.override(STORED_LANGUAGE)


def fail(payment: Payment, code: str, reason) -> Payment:
    """Fail an open payment with a PG's or the sandbox's code; ``reason`` is stored in Korean
    (give a lazy translation, or a text made ``in_stored_language``)."""
    now = timezone.now()
    payment.status, payment.failed_at = Status.FAILED, now
    payment.error_code, payment.fail_reason = code, stored_text(reason)[:300]
    payment.save(update_fields=["status", "failed_at", "error_code", "fail_reason", "updated_at"])
    return payment


def expired_reason():
    return gettext_lazy("The payment window expired before it was decided.")


def _expire(payments) -> tuple[int, dict]:
    """Fail the windows among ``payments`` whose hour is up (``PaymentQuerySet.expired_windows``,
    the one rule), in one UPDATE: a window approved meanwhile no longer matches it and is left
    alone. Returns how many failed, and the values written."""
    now = timezone.now()
    values = {"status": Status.FAILED, "failed_at": now, "error_code": EXPIRED_CODE,
              "fail_reason": stored_text(expired_reason()), "updated_at": now}
    return payments.expired_windows(now=now).update(**values), values


def windows_expire(*, merchant: Merchant, merchant_uids) -> None:
    """Fail the open windows of these orders whose hour is up, so that an order a buyer left in
    the window can be paid another way (key-in, a virtual account, a billing key, a schedule).
    Call it inside the transaction that then checks the order."""
    _expire(Payment.objects.filter(merchant=merchant, merchant_uid__in=list(merchant_uids)))


def window_expire(payment: Payment) -> bool:
    """Fail ``payment`` (held under its row lock) when it is a window whose hour is up: it then
    decides nothing more, and its order may be asked for again. True when it failed it; the
    instance then shows what was written."""
    expired, values = _expire(Payment.objects.filter(pk=payment.pk))
    if expired:
        for field, value in values.items():
            setattr(payment, field, value)
    return bool(expired)


def vbank_deposit(*, actor: Actor, payment: Payment) -> Payment:
    """The customer's transfer into an issued virtual account (the console's Deposit)."""
    with transaction.atomic():
        payment = lock_rows(Payment.objects.select_related("merchant")).get(pk=payment.pk)
        if payment.status == Status.PAID:
            return payment
        if not payment.waits_for_deposit:
            raise PaymentError(Refusal.CONFLICT, _("Only a virtual account waiting for its deposit can take one."))
        if payment.vbank_date is not None and payment.vbank_date < timezone.now():
            raise PaymentError(Refusal.CONFLICT, _("This virtual account's deposit deadline has passed: it takes no "
                                         "deposit any more."))
        payment.status, payment.paid_at = Status.PAID, timezone.now()
        payment.save(update_fields=["status", "paid_at", "updated_at"])
        audit_record(actor=actor, merchant=payment.merchant, action=AuditAction.PAYMENT_DEPOSIT,
                     target=payment, changes={"status": (Status.READY, Status.PAID)})
        notify(payment, "paid", actor=actor)
    return payment
