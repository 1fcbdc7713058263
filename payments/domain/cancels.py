"""Cancelling a payment, in full or in part: the console's Cancel and ``POST /payments/cancel``."""

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from console.tenancy.audit import Actor, audit_record
from console.tenancy.locks import lock_rows
from payments.audit import AuditAction
from payments.domain.errors import PaymentError, Refusal
from payments.domain.inputs import read_optional_amount, read_text
from payments.domain.lifecycle import notify
from payments.domain.provider import provider
from payments.domain.refunds import read_refund_account
from payments.models import Payment, PaymentCancellation, Status


@sensitive_variables("refund_account", "refund")
def payment_cancel(*, actor: Actor, payment: Payment, amount=None, reason: str = "", checksum=None,
                   tax_free=None, refund_holder=None, refund_bank=None,
                   refund_account=None) -> PaymentCancellation:
    """Cancel a paid payment in full (``amount`` None) or in part, or an issued virtual account
    that waits for its deposit (in full). ``checksum`` is the amount the caller believes is
    still cancellable: when it differs from ours, nothing is cancelled (PortOne's guard against
    cancelling twice). The webhook says ``cancelled`` (V2: ``Transaction.PartialCancelled`` for
    a part), after the commit. A paid virtual account is refunded to the account the caller
    names (``refund_holder``, ``refund_bank``, ``refund_account``: ``refunds.read_refund_account``);
    its audit row keeps the number masked."""
    amount = read_optional_amount(amount, "amount")
    checksum = None if checksum in (None, "") else read_optional_amount(checksum, "checksum")
    tax_free_value = None if tax_free in (None, "", 0, "0") else read_optional_amount(tax_free, "tax_free")
    reason = read_text({"reason": reason}, "reason", 300)
    with transaction.atomic():
        payment = lock_rows(Payment.objects.select_related("merchant")).get(pk=payment.pk)
        waiting_vbank = payment.waits_for_deposit
        if payment.status == Status.CANCELLED:
            raise PaymentError(Refusal.CONFLICT, _("This payment is cancelled already."))
        if payment.status != Status.PAID and not waiting_vbank:
            raise PaymentError(Refusal.CONFLICT, _("Only a paid payment, or a virtual account waiting for its "
                                         "deposit, can be cancelled. This one is %(status)s.")
                               % {"status": payment.get_status_display().lower()})
        remaining = payment.remaining
        if not payment.amount:
            raise PaymentError(Refusal.CONFLICT, _("This is the record of a billing key issued in the window: 0 won "
                                         "was paid, so there is nothing to cancel. Delete the billing key "
                                         "instead."))
        if checksum is not None and checksum != remaining:
            raise PaymentError(Refusal.CONFLICT, _("The checksum does not match: %(left)s won can be cancelled, "
                                         "the request says %(checksum)s. Nothing was cancelled.")
                               % {"left": f"{remaining:,}", "checksum": f"{checksum:,}"})
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise PaymentError(Refusal.CONFLICT, _("%(amount)s won is more than the %(left)s won left to cancel.")
                               % {"amount": f"{amount:,}", "left": f"{remaining:,}"})
        if tax_free_value is not None and tax_free_value > amount:
            raise PaymentError(Refusal.INVALID, _("tax_free cannot be more than the amount cancelled."))
        if waiting_vbank and amount != remaining:
            raise PaymentError(Refusal.CONFLICT, _("A virtual account waiting for its deposit is cancelled in full."))
        refund = read_refund_account(payment, holder=refund_holder, bank=refund_bank, number=refund_account)
        now = timezone.now()
        cancellation = PaymentCancellation.objects.create(
            payment=payment, pg_tid=provider().refund(payment=payment, amount=amount), amount=amount, reason=reason,
            cancellation_id=f"cancel_{secrets.token_hex(10)}")
        before = (payment.status, payment.cancel_amount)
        payment.cancel_amount += amount
        payment.cancel_reason = reason
        full = payment.cancel_amount == payment.amount
        if full:
            payment.status, payment.cancelled_at = Status.CANCELLED, now
        payment.save(update_fields=["cancel_amount", "cancel_reason", "status", "cancelled_at", "updated_at"])
        # What changed: the amount this cancel took back, the total cancelled, what is left, the
        # status when it changed (a part leaves it paid), and where a refund goes (masked).
        changes = {"cancelled_now": (None, amount), "cancel_amount": (before[1], payment.cancel_amount),
                   "remaining": (remaining, payment.remaining)}
        if payment.status != before[0]:
            changes["status"] = (before[0], payment.status)
        if refund is not None:
            changes["refund_to"] = (None, f"{refund.bank_code} · {refund.masked} · {refund.holder}")
        audit_record(actor=actor, merchant=payment.merchant, action=AuditAction.PAYMENT_CANCEL, target=payment,
                     changes=changes)
        notify(payment, "cancelled" if full else "partial_cancelled",
               cancellation_id=cancellation.cancellation_id, actor=actor)
    return cancellation
