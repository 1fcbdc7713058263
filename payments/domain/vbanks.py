"""Virtual accounts over the REST API: ``POST /vbanks`` issues one, ``PUT /vbanks/{imp_uid}``
changes its due date or amount while it waits for its deposit, ``DELETE /vbanks/{imp_uid}``
revokes it. The window's virtual account (``sandbox.window.window_issue_vbank``) and the
console's Deposit (``lifecycle.vbank_deposit``, which refuses an account past its due date)
are the same ``Payment``s.

An account is issued on an enabled test channel of the API key-in module (PortOne's "API
방식 비인증 PG설정") of a PG whose API issues virtual accounts (``VBANK_API_PGS``). Like the
window, the sandbox keeps one live payment per order: a ``merchant_uid`` with a payment
that is paid, waiting or cancelled takes no new account (PortOne allows several waiting
accounts per order).
"""

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.catalog import Module, codes
from console.models import Merchant
from console.tenancy.audit import Actor, audit_record
from console.tenancy.inputs import ascii_digits
from console.tenancy.locks import lock_rows
from payments.audit import AuditAction
from payments.domain.errors import PaymentError, Refusal
from payments.domain.inputs import (
    max_length_of,
    parse_amount,
    read_channel,
    read_merchant_uid,
    read_order,
    read_text,
    read_vbank_due,
)
from payments.domain.lifecycle import notify, stored_text
from payments.domain.merchants import find_channel
from payments.domain.orders import order_taken
from payments.domain.provider import provider
from payments.models import Payment, PaymentCancellation, PayMethod, Status

# PortOne's V1 API reference, POST /vbanks, "지원되는 PG사".
VBANK_API_PGS = ("settle", "nice", "html5_inicis", "tosspayments", "ksnet", "smartro_v2", "nice_v2", "welcome")
DEFAULT_HOLDER = "PG Console (test)"
REVOKED_REASON = "가상계좌 발급 취소"  # stored in Korean, as every text the sandbox keeps


def _bank(pg_code: str, vbank_code) -> str:
    """The bank's name for ``vbank_code``: its standard 3-digit code (``004``), or the code the
    channel's PG gives it."""
    code = read_text({"vbank_code": vbank_code}, "vbank_code", 8, required=True)
    bank = codes.bank_for_standard_code(code) or codes.bank_for_code(pg_code, code)
    if bank is None:
        raise PaymentError(Refusal.INVALID, _("Unknown vbank_code “%(code)s”: give the bank's 3-digit code, e.g. "
                                     "004 for KB Kookmin Bank.") % {"code": code})
    return stored_text(bank.name)


def vbank_issue(*, merchant: Merchant, merchant_uid: str, amount, vbank_code, vbank_due, vbank_holder: str = "",
                vbank_num: str = "", pg: str = "", name: str = "", buyer_name: str = "", buyer_email: str = "",
                buyer_tel: str = "", buyer_addr: str = "", buyer_postcode: str = "", custom_data=None,
                notice_url=None) -> Payment:
    """``POST /vbanks``: a virtual account waiting for its deposit (``ready``, webhook
    ``virtual_account_issued``, as the window's)."""
    merchant_uid = read_merchant_uid(merchant_uid)
    amount = parse_amount(amount)
    due = read_vbank_due(vbank_due)
    holder = read_text({"vbank_holder": vbank_holder}, "vbank_holder", max_length_of(Payment, "vbank_holder"))
    number = read_text({"vbank_num": vbank_num}, "vbank_num", max_length_of(Payment, "vbank_num"))
    if number and not ascii_digits(number.replace("-", "")):
        raise PaymentError(Refusal.INVALID, _("vbank_num takes digits and dashes only."))
    order = read_order({"name": name, "buyer_name": buyer_name, "buyer_email": buyer_email,
                        "buyer_tel": buyer_tel, "buyer_addr": buyer_addr, "buyer_postcode": buyer_postcode,
                        "custom_data": custom_data, "notice_url": notice_url}, amount=amount)
    channel = find_channel(merchant, module=Module.API_KEYIN, **read_channel({"pg": pg}))
    if channel.pg_provider not in VBANK_API_PGS:
        raise PaymentError(Refusal.INVALID, _("%(pg)s issues no virtual accounts through the API. PGs that do: "
                                     "%(pgs)s.") % {"pg": channel.pg_string, "pgs": ", ".join(VBANK_API_PGS)})
    bank_name = _bank(channel.pg_provider, vbank_code)
    now = timezone.now()
    payment = Payment(
        merchant=merchant, channel=channel, merchant_uid=merchant_uid, amount=amount, pay_method=PayMethod.VBANK,
        channel_type="api", mode=channel.mode, currency="KRW", pg_provider=channel.pg_provider, pg_id=channel.mid,
        channel_key=channel.channel_key, pg_tid=provider().transaction_id(),
        vbank_code=str(vbank_code).strip(), vbank_name=bank_name, vbank_num=number or provider().vbank_number(),
        vbank_holder=holder or DEFAULT_HOLDER, vbank_date=due, vbank_issued_at=now, **order)
    with transaction.atomic():
        taken = order_taken(merchant, merchant_uid)
        if taken:
            raise PaymentError(Refusal.CONFLICT, taken)
        try:
            with transaction.atomic():
                payment.save(force_insert=True)
        except IntegrityError as exc:
            raise PaymentError(Refusal.CONFLICT, _("This order is being paid by another request.")) from exc
        notify(payment, "virtual_account_issued")
    return payment


def _locked_vbank(merchant: Merchant, imp_uid: str) -> Payment:
    payment = (lock_rows(Payment.objects.select_related("merchant"))
               .filter(merchant=merchant, imp_uid=imp_uid).first())
    if payment is None:
        raise PaymentError(Refusal.NOT_FOUND, _("No payment of this merchant has this imp_uid."))
    if payment.pay_method != PayMethod.VBANK or payment.vbank_issued_at is None:
        raise PaymentError(Refusal.INVALID, _("This payment is not a virtual account."))
    if not payment.waits_for_deposit:
        raise PaymentError(Refusal.CONFLICT, _("This virtual account is %(status)s: only one waiting for its deposit "
                                     "can change.") % {"status": payment.get_status_display().lower()})
    return payment


def vbank_update(*, actor: Actor, merchant: Merchant, imp_uid: str, amount=None, vbank_due=None) -> Payment:
    """``PUT /vbanks/{imp_uid}``: a new amount or due date (or both) for an account issued
    through ``POST /vbanks`` that waits for its deposit. A new due date may revive an account
    past its old one."""
    if amount in (None, "") and vbank_due in (None, ""):
        raise PaymentError(Refusal.INVALID, _("Give a new amount, a new vbank_due, or both."))
    new_amount = None if amount in (None, "") else parse_amount(amount)
    new_due = None if vbank_due in (None, "") else read_vbank_due(vbank_due)
    with transaction.atomic():
        payment = _locked_vbank(merchant, imp_uid)
        if payment.channel_type != "api":
            raise PaymentError(Refusal.CONFLICT, _("Only a virtual account issued through POST /vbanks can change; "
                                         "this one was issued in the payment window."))
        changes = {}
        if new_amount is not None and new_amount != payment.amount:
            changes["amount"] = (payment.amount, new_amount)
            payment.amount = new_amount
        if new_due is not None and new_due != payment.vbank_date:
            changes["vbank_date"] = (payment.vbank_date, new_due)
            payment.vbank_date = new_due
        if changes:
            payment.save(update_fields=["amount", "vbank_date", "updated_at"])
            audit_record(actor=actor, merchant=merchant, action=AuditAction.PAYMENT_VBANK_UPDATE, target=payment,
                         changes=changes)
    return payment


def vbank_revoke(*, actor: Actor, merchant: Merchant, imp_uid: str) -> Payment:
    """``DELETE /vbanks/{imp_uid}``: close an account that waits for its deposit, so that no
    transfer can reach it. The payment is ``cancelled`` in full, with its cancellation
    recorded as when a waiting account is cancelled through ``POST /payments/cancel``, and the
    webhook says ``cancelled`` with that ``cancellation_id`` (V2: ``cancellationId``)."""
    with transaction.atomic():
        payment = _locked_vbank(merchant, imp_uid)
        before = payment.cancel_amount
        cancellation = PaymentCancellation.objects.create(
            payment=payment, pg_tid=f"sandbox_cancel_{secrets.token_hex(8)}", amount=payment.remaining,
            reason=REVOKED_REASON, cancellation_id=f"cancel_{secrets.token_hex(10)}")
        payment.status, payment.cancelled_at = Status.CANCELLED, timezone.now()
        payment.cancel_amount, payment.cancel_reason = payment.amount, REVOKED_REASON
        payment.save(update_fields=["status", "cancelled_at", "cancel_amount", "cancel_reason", "updated_at"])
        audit_record(actor=actor, merchant=merchant, action=AuditAction.PAYMENT_VBANK_REVOKE, target=payment,
                     changes={"status": (Status.READY, Status.CANCELLED),
                              "cancel_amount": (before, payment.cancel_amount)})
        notify(payment, "cancelled", cancellation_id=cancellation.cancellation_id, actor=actor)
    return payment
