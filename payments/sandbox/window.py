"""Sandbox payments: the window a test channel opens, its outcomes, deposits and cancels.

Every state change takes the payment's row lock, and the webhook it causes is written in
the same transaction (``webhooks.services.payment_event_record``, an outbox) and handed to
the broker after the commit. A
window is addressed by a signed token (``window_token``): the buyer has no login, and a
third-party iframe gets no cookie, so the token is the capability. Approving twice (a double
click, two tabs on one order) finds the payment paid and changes nothing: one payment, one
webhook. Live channels never pay: no PG is reachable from PG Console.
"""

import json
import re
import secrets
from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.models import Channel
from console.models import Merchant
from console.tenancy.locks import lock_rows
from payments.domain.errors import PaymentError, Refusal
from payments.domain.inputs import (
    parse_amount,
    read_notice_urls,
    read_text,
)
from payments.domain.lifecycle import (
    fail,
    notify,
    window_expire,
)
from payments.domain.merchants import (
    find_channel,
    merchant_by_code,
)
from payments.domain.orders import order_lock, prepared_amount_problem
from payments.models import (
    MERCHANT_UID_MAX,
    NAME_MAX,
    WINDOW_MAX_AGE,
    Payment,
    PayMethod,
    Status,
)
from payments.sandbox.cards import PG_ERRORS

WINDOW_SALT = "payments.window"


VBANK_DAYS = 3


CLOSED_CODE = "F1002"


REPLACED_CODE = "F1007"  # the sandbox's: another request_pay for the order replaced this window


VBANK_BANKS = [
    ("004", gettext_lazy("KB Kookmin Bank")),
    ("088", gettext_lazy("Shinhan Bank")),
    ("020", gettext_lazy("Woori Bank")),
    ("081", gettext_lazy("Hana Bank")),
    ("011", gettext_lazy("NH NongHyup Bank")),
]


CARD = ("361", "BC카드")  # the card a sandbox approval reports (masked number, no real card)


def window_token(payment: Payment) -> str:
    return signing.dumps(payment.imp_uid, salt=WINDOW_SALT)


def _imp_uid_of(token: str) -> str | None:
    try:
        return signing.loads(token or "", salt=WINDOW_SALT, max_age=WINDOW_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return None


def _check_token(imp_uid: str, token: str) -> None:
    if not imp_uid or _imp_uid_of(token) != imp_uid:
        raise PaymentError(Refusal.EXPIRED, _("This payment window has expired or is not valid. Start the "
                                     "payment again."))


def _gone() -> PaymentError:
    return PaymentError(Refusal.NOT_FOUND, _("This payment no longer exists."))


def payment_get_for_window(imp_uid: str, token: str) -> Payment:
    _check_token(imp_uid, token)
    payment = Payment.objects.select_related("merchant", "channel").filter(imp_uid=imp_uid).first()
    if payment is None:
        raise _gone()
    return payment


def window_open(*, merchant_code: str, tier_code: str | None, params: dict, user_agent: str = "") -> Payment:
    """A window for what IMP.request_pay sent: a new ``ready`` payment, or the one already
    open for this order (two tabs on one order pay it once). With ``customer_uid`` the window
    issues a billing key instead: ``payments.sandbox.billing_window.window_open``."""
    merchant = merchant_by_code(merchant_code, tier_code)
    amount = parse_amount(params.get("amount"))
    order = read_window_order(params, user_agent=user_agent)
    channel = find_channel(merchant, pg=read_text(params, "pg", 100),
                           channel_key=read_text(params, "channelKey", 60) or read_text(params, "channel_key", 60))
    return window_payment_open(merchant=merchant, channel=channel, order=order, amount=amount)


def read_window_order(params: dict, *, user_agent: str = "") -> dict:
    """The order request_pay describes (merchant_uid, pay_method, currency, name, buyer,
    custom_data, m_redirect_url, notice_url), as the payment keeps it."""
    merchant_uid = read_text(params, "merchant_uid", MERCHANT_UID_MAX, required=True)
    pay_method = read_text(params, "pay_method", 16) or PayMethod.CARD
    if pay_method not in PayMethod.values:
        raise PaymentError(Refusal.INVALID, _("The sandbox takes pay_method %(methods)s.") % {
            "methods": ", ".join(PayMethod.values)})
    currency = (read_text(params, "currency", 3) or "KRW").upper()
    if currency != "KRW":
        raise PaymentError(Refusal.INVALID, _("The sandbox takes payments in KRW only."))
    custom_data = params.get("custom_data")
    if custom_data is not None and not isinstance(custom_data, str):
        custom_data = json.dumps(custom_data, ensure_ascii=False)
    if custom_data and len(custom_data) > 10_000:
        raise PaymentError(Refusal.INVALID, _("custom_data is too long: at most 10,000 characters."))
    order = {
        "merchant_uid": merchant_uid, "pay_method": pay_method, "currency": currency,
        "name": read_text(params, "name", NAME_MAX),
        "buyer_name": read_text(params, "buyer_name", 100),
        "buyer_email": read_text(params, "buyer_email", 254),
        "buyer_tel": read_text(params, "buyer_tel", 40),
        "buyer_addr": read_text(params, "buyer_addr", 200),
        "buyer_postcode": read_text(params, "buyer_postcode", 20),
        "m_redirect_url": read_text(params, "m_redirect_url", 2000),
        "custom_data": custom_data or "",
        "user_agent": (user_agent or "")[:300],
        "notice_urls": read_notice_urls(params.get("notice_url")),
    }
    if order["m_redirect_url"] and not re.match(r"https?://", order["m_redirect_url"]):
        raise PaymentError(Refusal.INVALID, _("m_redirect_url must start with http:// or https://."))
    return order


# What a request_pay asks of its window besides the order's number: a second request that
# differs in any of these is a window of its own (``window_payment_open``).
WINDOW_REQUEST_FIELDS = ("amount", "channel_id", "customer_uid", "pay_method", "currency", "name",
                         "buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode",
                         "m_redirect_url", "notice_urls", "custom_data")


def _same_request(payment: Payment, other: Payment) -> bool:
    return all(getattr(payment, field) == getattr(other, field) for field in WINDOW_REQUEST_FIELDS)


def window_payment_open(*, merchant: Merchant, channel: Channel, order: dict, amount: int,
                        asked_amount: int | None = None, customer_uid: str = "",
                        customer_uid_usage: str = "") -> Payment:
    """The window's ``ready`` payment of ``amount`` for ``order`` (``read_window_order``).

    Each request_pay is its own attempt, as at PortOne, and a payment keeps the targets of the
    one request that made it (``m_redirect_url``, ``notice_url``, buyer, ``custom_data``): the
    same request again (a second tab, a double click) is the payment already open for the
    order; a request that differs in anything it asks (``WINDOW_REQUEST_FIELDS``) replaces that
    open window, which fails (``REPLACED_CODE``, no webhook) and can decide nothing any more. So
    a buyer's window never pays, redirects or notifies where another caller asked. An order
    paid, cancelled or waiting for its deposit takes no window (``Refusal.CONFLICT``). An order registered
    with /payments/prepare must ask its amount (``asked_amount``: what request_pay asked, when
    the payment keeps another amount)."""
    problem = prepared_amount_problem(merchant, order["merchant_uid"],
                                      amount if asked_amount is None else asked_amount)
    if problem:
        raise PaymentError(Refusal.INVALID, problem)
    payment = Payment(merchant=merchant, channel=channel, amount=amount, pg_provider=channel.pg_provider,
                      pg_id=channel.mid, channel_key=channel.channel_key, mode=channel.mode,
                      customer_uid=customer_uid, customer_uid_usage=customer_uid_usage, **order)
    with transaction.atomic():
        order_lock(merchant, order["merchant_uid"])
        existing = (lock_rows(Payment.objects).filter(merchant=merchant, merchant_uid=order["merchant_uid"])
                    .exclude(status=Status.FAILED).first())
        if existing is not None:
            if not existing.is_open:
                raise PaymentError(Refusal.CONFLICT, _("This merchant_uid is already used by a payment that is "
                                             "%(status)s. Use a new merchant_uid for a new order.")
                                   % {"status": existing.get_status_display().lower()})
            if not window_expire(existing):  # expired, it is failed and this request opens a new window
                if _same_request(existing, payment):
                    return existing  # the same request, still open: one payment
                fail(existing, REPLACED_CODE, _("Another payment window was opened for this order."))
        try:
            with transaction.atomic():
                payment.save(force_insert=True)
        except IntegrityError as exc:  # a key-in payment, say, took the order an instant ago
            raise PaymentError(Refusal.CONFLICT, _("This order is being paid by another request.")) from exc
    return payment


def refuse_undecidable(payment: Payment) -> bool:
    """Fail an open window that can no longer pay what it shows: its hour is up
    (``lifecycle.window_expire``), or the amount registered for its order now differs (PortOne stops
    such a payment). Inside the action's transaction, under the row lock; True when it failed
    it (no webhook, as any failed window)."""
    if window_expire(payment):
        return True
    if not payment.amount:  # a billing key's window that pays nothing
        return False
    problem = prepared_amount_problem(payment.merchant, payment.merchant_uid, payment.amount)
    if problem:
        fail(payment, "F400", problem)
        return True
    return False


def locked_open(imp_uid: str, token: str) -> Payment:
    """The window's payment, locked: the token is checked first (no query for that)."""
    _check_token(imp_uid, token)
    payment = lock_rows(Payment.objects.select_related("merchant")).filter(imp_uid=imp_uid).first()
    if payment is None:
        raise _gone()
    return payment


def window_approve(*, imp_uid: str, token: str) -> Payment:
    with transaction.atomic():
        payment = locked_open(imp_uid, token)
        if payment.status == Status.PAID:
            return payment  # approved already (double click, second tab): nothing more
        if payment.customer_uid:
            raise PaymentError(Refusal.CONFLICT, _("This window issues a billing key: use Issue billing key."))
        if not payment.is_open or payment.pay_method == PayMethod.VBANK:
            raise PaymentError(Refusal.CONFLICT, _("This payment is %(status)s: it cannot be approved.") % {
                "status": payment.get_status_display().lower()})
        if refuse_undecidable(payment):
            return payment
        now = timezone.now()
        payment.status, payment.paid_at = Status.PAID, now
        payment.pg_tid = f"sandbox_{secrets.token_hex(10)}"
        if payment.pay_method == PayMethod.CARD:
            payment.apply_num = f"{secrets.randbelow(10**8):08d}"
            payment.card_code, payment.card_name = CARD
            payment.card_number = "9410********0000"
            payment.card_type = 0
        payment.save()
        notify(payment, "paid")
    return payment


def window_fail(*, imp_uid: str, token: str, error_code: str) -> Payment:
    labels = dict(PG_ERRORS)
    if error_code not in labels:
        raise PaymentError(Refusal.INVALID, _("Choose a PG error from the list."))
    with transaction.atomic():
        payment = locked_open(imp_uid, token)
        if payment.status == Status.FAILED:
            return payment
        if not payment.is_open:
            raise PaymentError(Refusal.CONFLICT, _("This payment is %(status)s: it cannot fail now.") % {
                "status": payment.get_status_display().lower()})
        return fail(payment, error_code, str(labels[error_code]))  # no webhook, as PortOne


def window_close(*, imp_uid: str, token: str) -> Payment:
    with transaction.atomic():
        payment = locked_open(imp_uid, token)
        if not payment.is_open:
            return payment  # decided already: closing the window changes nothing
        return fail(payment, CLOSED_CODE, _("The buyer closed the payment window."))


def window_issue_vbank(*, imp_uid: str, token: str, bank: str) -> Payment:
    banks = dict(VBANK_BANKS)
    if bank not in banks:
        raise PaymentError(Refusal.INVALID, _("Choose a bank from the list."))
    with transaction.atomic():
        payment = locked_open(imp_uid, token)
        if payment.vbank_issued_at:
            return payment
        if payment.status != Status.READY or payment.pay_method != PayMethod.VBANK:
            raise PaymentError(Refusal.CONFLICT, _("A virtual account is issued only for a ready vbank payment."))
        if refuse_undecidable(payment):
            return payment
        now = timezone.now()
        payment.vbank_code, payment.vbank_name = bank, str(banks[bank])
        payment.vbank_num = f"{secrets.randbelow(10**4):04d}-{secrets.randbelow(10**6):06d}-{secrets.randbelow(10**4):04d}"
        payment.vbank_holder = "PG Console (test)"
        payment.vbank_issued_at, payment.vbank_date = now, now + timedelta(days=VBANK_DAYS)
        payment.pg_tid = f"sandbox_{secrets.token_hex(10)}"
        payment.save()
        notify(payment, "virtual_account_issued")
    return payment
