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
import logging
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.models import Channel, Mode
from console.models import Merchant
from console.tenancy.audit import SYSTEM, Actor, audit_record
from payments.audit import AuditAction
from webhooks import net
from webhooks.services import allowed_networks, payment_event_record

from .models import (
    MERCHANT_UID_MAX,
    NAME_MAX,
    Payment,
    PaymentCancellation,
    PayMethod,
    Preparation,
    Status,
)

logger = logging.getLogger(__name__)

MAX_AMOUNT = 10_000_000_000  # ten billion won: more is a typo, not a test
WINDOW_SALT = "payments.window"
WINDOW_MAX_AGE = 60 * 60  # an open window works for an hour
VBANK_DAYS = 3
CLOSED_CODE = "F1002"

# The failures a tester can choose in the window (code, label); the label becomes
# ``fail_reason`` and the callback's ``error_msg``.
PG_ERRORS = [
    ("F1001", gettext_lazy("The card company declined: limit exceeded")),
    ("F1003", gettext_lazy("The card company declined: invalid card")),
    ("F1004", gettext_lazy("The card company declined: expired card")),
    ("F1005", gettext_lazy("The card company declined: wrong password")),
    ("F1099", gettext_lazy("The PG had a temporary failure")),
]
VBANK_BANKS = [
    ("004", gettext_lazy("KB Kookmin Bank")),
    ("088", gettext_lazy("Shinhan Bank")),
    ("020", gettext_lazy("Woori Bank")),
    ("081", gettext_lazy("Hana Bank")),
    ("011", gettext_lazy("NH NongHyup Bank")),
]
CARD = ("361", "BC카드")  # the card a sandbox approval reports (masked number, no real card)


class PaymentError(Exception):
    """A refusal with PortOne-style ``code`` and a ``message`` in the active language."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# --- reading what request_pay sent --------------------------------------------------


def parse_amount(value) -> int:
    """A whole number of won, 1 to ``MAX_AMOUNT``: ``"1000"`` and ``1000`` and ``1000.0``
    pass; ``"abc"``, ``-1``, ``0``, ``1e20``, ``10.5`` do not."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, float):
        value = int(value) if value.is_integer() and abs(value) < 1e15 else None
    elif isinstance(value, str):
        text = value.strip()
        value = int(text) if re.fullmatch(r"[0-9]{1,15}", text) else None
    elif not isinstance(value, int):
        value = None
    if value is None:
        raise PaymentError("F400", _("The amount must be a whole number of won, e.g. 1000."))
    if value <= 0:
        raise PaymentError("F400", _("The amount must be more than 0 won."))
    if value > MAX_AMOUNT:
        raise PaymentError("F400", _("The amount is too large: at most %(max)s won.") % {
            "max": f"{MAX_AMOUNT:,}"})
    return value


def _text(params: dict, key: str, limit: int, *, required=False, label=None) -> str:
    value = params.get(key)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise PaymentError("F400", _("%(field)s is required.") % {"field": label or key})
    if len(value) > limit:
        raise PaymentError("F400", _("%(field)s is too long: at most %(max)d characters.") % {
            "field": label or key, "max": limit})
    if any(ord(c) < 32 for c in value):
        raise PaymentError("F400", _("%(field)s contains control characters.") % {"field": label or key})
    return value


def _notice_urls(value) -> list[str]:
    """``notice_url`` (a string or a list of up to 5), under the webhook URL rules (http or
    https, a host that resolves to public addresses only), each once. The payment's webhooks go
    to these instead of the merchant's endpoint (``webhooks.services.payment_event_record``).
    Resolves DNS: call it before any transaction opens."""
    if value in (None, "", []):
        return []
    urls = value if isinstance(value, list) else [value]
    if len(urls) > 5:
        raise PaymentError("F400", _("notice_url takes at most 5 URLs."))
    urls = list(dict.fromkeys(str(url).strip() for url in urls))
    for url in urls:
        try:
            net.check_url(url, allowed_networks=allowed_networks(), dns_timeout=settings.WEBHOOK_DNS_TIMEOUT)
        except net.UnsafeURL as exc:
            raise PaymentError("F400", _("notice_url cannot be used: %(why)s") % {"why": exc.message}) from exc
    return urls


def _merchant(merchant_code: str, tier_code: str | None) -> Merchant:
    merchant = Merchant.objects.filter(code=str(merchant_code or "").strip(), parent__isnull=True).first()
    if merchant is None:
        raise PaymentError("F400", _("Unknown merchant code: call IMP.init() with the code from the "
                                     "IDs & API keys page."))
    if tier_code:
        sub = merchant.sub_merchants.filter(tier_code=str(tier_code).strip()).first()
        if sub is None:
            raise PaymentError("F400", _("This merchant has no sub-merchant with the tier code %(tier)s.")
                               % {"tier": tier_code})
        return sub
    return merchant


def _visible_channels(merchant: Merchant):
    return Channel.objects.filter(Q(merchant=merchant) | Q(assigned_to=merchant))


def channel_by_key(channels, channel_key: str) -> Channel:
    """The channel of ``channels`` with this ``channelKey``."""
    channel = channels.filter(channel_key=channel_key).first()
    if channel is None:
        raise PaymentError("F400", _("No channel of this merchant has this channel key."))
    return channel


def channels_matching_pg(channels, pg: str):
    """``channels`` that ``pg`` names: ``kcp`` (any MID) or ``kcp.T0000``."""
    code, _dot, mid = pg.partition(".")
    found = channels.filter(pg_provider=code)
    return found.filter(mid=mid) if mid else found


def no_channel_matches(pg: str) -> PaymentError:
    return PaymentError("F400", _("No channel of this merchant matches pg “%(pg)s”.") % {"pg": pg})


def require_payable(channel: Channel) -> Channel:
    """An enabled test channel: live channels never pay, no PG is reachable from here."""
    if not channel.enabled:
        raise PaymentError("F400", _("This channel is disabled: enable it on the Channels page."))
    if channel.mode != Mode.TEST:
        raise PaymentError("F400", _("Live channels take no payments here: no PG is reachable from "
                                     "PG Console. Use a test channel."))
    return channel


def find_channel(merchant: Merchant, *, pg: str = "", channel_key: str = "") -> Channel:
    """The channel request_pay names (``channelKey``, or ``pg`` as ``kcp`` or ``kcp.T0000``),
    else the merchant's default; it must be an enabled test channel."""
    channels = _visible_channels(merchant)
    if channel_key:
        channel = channel_by_key(channels, channel_key)
    elif pg:
        channel = channels_matching_pg(channels, pg).order_by("-is_default", "-enabled", "mode", "id").first()
        if channel is None:
            raise no_channel_matches(pg)
    else:
        channel = channels.filter(merchant=merchant, is_default=True).first()
        if channel is None:
            raise PaymentError("F400", _("Name the channel (pg or channelKey): this merchant has no "
                                         "default channel."))
    return require_payable(channel)


# --- the window ---------------------------------------------------------------------


def window_token(payment: Payment) -> str:
    return signing.dumps(payment.imp_uid, salt=WINDOW_SALT)


def _imp_uid_of(token: str) -> str | None:
    try:
        return signing.loads(token or "", salt=WINDOW_SALT, max_age=WINDOW_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return None


def _check_token(imp_uid: str, token: str) -> None:
    if not imp_uid or _imp_uid_of(token) != imp_uid:
        raise PaymentError("F403", _("This payment window has expired or is not valid. Start the "
                                     "payment again."))


def _gone() -> PaymentError:
    return PaymentError("F404", _("This payment no longer exists."))


def payment_get_for_window(imp_uid: str, token: str) -> Payment:
    _check_token(imp_uid, token)
    payment = Payment.objects.select_related("merchant", "channel").filter(imp_uid=imp_uid).first()
    if payment is None:
        raise _gone()
    return payment


def window_open(*, merchant_code: str, tier_code: str | None, params: dict, user_agent: str = "") -> Payment:
    """A window for what IMP.request_pay sent: a new ``ready`` payment, or the one already
    open for this order (two tabs on one order pay it once). With ``customer_uid`` the window
    issues a billing key instead: ``payments.billing_window.window_open``."""
    merchant = _merchant(merchant_code, tier_code)
    amount = parse_amount(params.get("amount"))
    order = read_window_order(params, user_agent=user_agent)
    channel = find_channel(merchant, pg=_text(params, "pg", 100),
                           channel_key=_text(params, "channelKey", 60) or _text(params, "channel_key", 60))
    return window_payment_open(merchant=merchant, channel=channel, order=order, amount=amount)


def read_window_order(params: dict, *, user_agent: str = "") -> dict:
    """The order request_pay describes (merchant_uid, pay_method, currency, name, buyer,
    custom_data, m_redirect_url, notice_url), as the payment keeps it. Resolves the
    ``notice_url`` hosts: call it before any transaction opens."""
    merchant_uid = _text(params, "merchant_uid", MERCHANT_UID_MAX, required=True)
    pay_method = _text(params, "pay_method", 16) or PayMethod.CARD
    if pay_method not in PayMethod.values:
        raise PaymentError("F400", _("The sandbox takes pay_method %(methods)s.") % {
            "methods": ", ".join(PayMethod.values)})
    currency = (_text(params, "currency", 3) or "KRW").upper()
    if currency != "KRW":
        raise PaymentError("F400", _("The sandbox takes payments in KRW only."))
    custom_data = params.get("custom_data")
    if custom_data is not None and not isinstance(custom_data, str):
        custom_data = json.dumps(custom_data, ensure_ascii=False)
    if custom_data and len(custom_data) > 10_000:
        raise PaymentError("F400", _("custom_data is too long: at most 10,000 characters."))
    order = {
        "merchant_uid": merchant_uid, "pay_method": pay_method, "currency": currency,
        "name": _text(params, "name", NAME_MAX),
        "buyer_name": _text(params, "buyer_name", 100),
        "buyer_email": _text(params, "buyer_email", 254),
        "buyer_tel": _text(params, "buyer_tel", 40),
        "buyer_addr": _text(params, "buyer_addr", 200),
        "buyer_postcode": _text(params, "buyer_postcode", 20),
        "m_redirect_url": _text(params, "m_redirect_url", 2000),
        "custom_data": custom_data or "",
        "user_agent": (user_agent or "")[:300],
        "notice_urls": _notice_urls(params.get("notice_url")),  # DNS: before any transaction
    }
    if order["m_redirect_url"] and not re.match(r"https?://", order["m_redirect_url"]):
        raise PaymentError("F400", _("m_redirect_url must start with http:// or https://."))
    return order


def window_payment_open(*, merchant: Merchant, channel: Channel, order: dict, amount: int,
                        asked_amount: int | None = None, customer_uid: str = "",
                        customer_uid_usage: str = "") -> Payment:
    """The window's ``ready`` payment of ``amount`` for ``order`` (``read_window_order``), or
    the one already open for the same order, amount, channel and ``customer_uid``. An order
    registered with /payments/prepare must ask its amount (``asked_amount``: what request_pay
    asked, when the payment keeps another amount)."""
    merchant_uid = order["merchant_uid"]
    asked = amount if asked_amount is None else asked_amount
    prepared = Preparation.objects.filter(merchant=merchant, merchant_uid=merchant_uid).first()
    if prepared is not None and prepared.amount != asked:
        raise PaymentError("F400", _("The amount differs from the one registered for this order "
                                     "(/payments/prepare): %(prepared)s won registered, %(amount)s "
                                     "won asked.") % {"prepared": f"{prepared.amount:,}",
                                                      "amount": f"{asked:,}"})
    with transaction.atomic():
        existing = (Payment.objects.select_for_update().filter(merchant=merchant, merchant_uid=merchant_uid)
                    .exclude(status=Status.FAILED).first())
        if existing is not None:
            if (existing.is_open and existing.amount == amount and existing.channel_id == channel.pk
                    and existing.customer_uid == customer_uid):
                return existing  # the same order, still open: one payment
            raise PaymentError("F409", _("This merchant_uid is already used by a payment that is %(status)s. "
                                         "Use a new merchant_uid for a new order.")
                               % {"status": existing.get_status_display().lower()})
        payment = Payment(merchant=merchant, channel=channel, amount=amount, pg_provider=channel.pg_provider,
                          pg_id=channel.mid, channel_key=channel.channel_key, mode=channel.mode,
                          customer_uid=customer_uid, customer_uid_usage=customer_uid_usage, **order)
        try:
            with transaction.atomic():
                payment.save(force_insert=True)
        except IntegrityError as exc:  # the other tab made it an instant ago
            raise PaymentError("F409", _("This order is being paid in another window.")) from exc
    return payment


def _locked_open(imp_uid: str, token: str) -> Payment:
    """The window's payment, locked: the token is checked first (no query for that)."""
    _check_token(imp_uid, token)
    payment = Payment.objects.select_for_update().select_related("merchant").filter(imp_uid=imp_uid).first()
    if payment is None:
        raise _gone()
    return payment


def _notify(payment: Payment, status: str, *, cancellation_id: str | None = None, actor: Actor = SYSTEM):
    """The webhooks this change causes (one to each notice_url the payment gave, else one to
    the merchant's endpoint, none without one), written in the same transaction as the change:
    both commit or neither does, and the broker gets them after the commit
    (``webhooks.services.payment_event_record``)."""
    payment_event_record(merchant=payment.merchant, mode=payment.mode, imp_uid=payment.imp_uid,
                         merchant_uid=payment.merchant_uid, status=status,
                         cancellation_id=cancellation_id, notice_urls=payment.notice_urls or (),
                         actor=actor)


def window_approve(*, imp_uid: str, token: str) -> Payment:
    with transaction.atomic():
        payment = _locked_open(imp_uid, token)
        if payment.status == Status.PAID:
            return payment  # approved already (double click, second tab): nothing more
        if payment.customer_uid:
            raise PaymentError("F409", _("This window issues a billing key: use Issue billing key."))
        if not payment.is_open or payment.pay_method == PayMethod.VBANK:
            raise PaymentError("F409", _("This payment is %(status)s: it cannot be approved.") % {
                "status": payment.get_status_display().lower()})
        now = timezone.now()
        payment.status, payment.paid_at = Status.PAID, now
        payment.pg_tid = f"sandbox_{secrets.token_hex(10)}"
        if payment.pay_method == PayMethod.CARD:
            payment.apply_num = f"{secrets.randbelow(10**8):08d}"
            payment.card_code, payment.card_name = CARD
            payment.card_number = "9410********0000"
            payment.card_type = 0
        payment.save()
        _notify(payment, "paid")
    return payment


def _fail(payment: Payment, code: str, reason: str) -> Payment:
    now = timezone.now()
    payment.status, payment.failed_at = Status.FAILED, now
    payment.error_code, payment.fail_reason = code, reason[:300]
    payment.save(update_fields=["status", "failed_at", "error_code", "fail_reason", "updated_at"])
    return payment


def window_fail(*, imp_uid: str, token: str, error_code: str) -> Payment:
    labels = dict(PG_ERRORS)
    if error_code not in labels:
        raise PaymentError("F400", _("Choose a PG error from the list."))
    with transaction.atomic():
        payment = _locked_open(imp_uid, token)
        if payment.status == Status.FAILED:
            return payment
        if not payment.is_open:
            raise PaymentError("F409", _("This payment is %(status)s: it cannot fail now.") % {
                "status": payment.get_status_display().lower()})
        return _fail(payment, error_code, str(labels[error_code]))  # no webhook, as PortOne


def window_close(*, imp_uid: str, token: str) -> Payment:
    with transaction.atomic():
        payment = _locked_open(imp_uid, token)
        if not payment.is_open:
            return payment  # decided already: closing the window changes nothing
        return _fail(payment, CLOSED_CODE, _("The buyer closed the payment window."))


def window_issue_vbank(*, imp_uid: str, token: str, bank: str) -> Payment:
    banks = dict(VBANK_BANKS)
    if bank not in banks:
        raise PaymentError("F400", _("Choose a bank from the list."))
    with transaction.atomic():
        payment = _locked_open(imp_uid, token)
        if payment.vbank_issued_at:
            return payment
        if payment.status != Status.READY or payment.pay_method != PayMethod.VBANK:
            raise PaymentError("F409", _("A virtual account is issued only for a ready vbank payment."))
        now = timezone.now()
        payment.vbank_code, payment.vbank_name = bank, str(banks[bank])
        payment.vbank_num = f"{secrets.randbelow(10**4):04d}-{secrets.randbelow(10**6):06d}-{secrets.randbelow(10**4):04d}"
        payment.vbank_holder = "PG Console (test)"
        payment.vbank_issued_at, payment.vbank_date = now, now + timedelta(days=VBANK_DAYS)
        payment.pg_tid = f"sandbox_{secrets.token_hex(10)}"
        payment.save()
        _notify(payment, "virtual_account_issued")
    return payment


def vbank_deposit(*, actor: Actor, payment: Payment) -> Payment:
    """The customer's transfer into an issued virtual account (the console's Deposit)."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("merchant").get(pk=payment.pk)
        if payment.status == Status.PAID:
            return payment
        if not payment.waits_for_deposit:
            raise PaymentError("F409", _("Only a virtual account waiting for its deposit can take one."))
        if payment.vbank_date is not None and payment.vbank_date < timezone.now():
            raise PaymentError("F409", _("This virtual account's deposit deadline has passed: it takes no "
                                         "deposit any more."))
        payment.status, payment.paid_at = Status.PAID, timezone.now()
        payment.save(update_fields=["status", "paid_at", "updated_at"])
        audit_record(actor=actor, merchant=payment.merchant, action=AuditAction.PAYMENT_DEPOSIT,
                     target=payment, changes={"status": (Status.READY, Status.PAID)})
        _notify(payment, "paid", actor=actor)
    return payment


def window_result(payment: Payment) -> dict:
    """What the callback (and the m_redirect_url query) gets: PortOne's rsp."""
    success = payment.status == Status.PAID or payment.waits_for_deposit
    rsp = {
        "success": success, "imp_success": success, "imp_uid": payment.imp_uid,
        "merchant_uid": payment.merchant_uid, "pay_method": payment.pay_method,
        "paid_amount": payment.amount if success else 0, "status": payment.status,
        "name": payment.name, "pg_provider": payment.pg_provider, "pg_type": "payment",
        "pg_tid": payment.pg_tid or None, "buyer_name": payment.buyer_name,
        "buyer_email": payment.buyer_email, "buyer_tel": payment.buyer_tel,
        "buyer_addr": payment.buyer_addr, "buyer_postcode": payment.buyer_postcode,
        "custom_data": payment.custom_data or None, "currency": payment.currency,
        "paid_at": int(payment.paid_at.timestamp()) if payment.paid_at else 0,
        "receipt_url": None, "apply_num": payment.apply_num or None,
        "card_name": payment.card_name or None, "card_number": payment.card_number or None,
        "card_quota": payment.card_quota,
        "error_code": None if success else (payment.error_code or None),
        "error_msg": None if success else (payment.fail_reason or None),
    }
    if payment.customer_uid:  # a billing key's window: the key's customer_uid
        rsp["customer_uid"] = payment.customer_uid
    if payment.vbank_issued_at:
        rsp.update({"vbank_num": payment.vbank_num, "vbank_name": payment.vbank_name,
                    "vbank_holder": payment.vbank_holder, "vbank_code": payment.vbank_code,
                    "vbank_date": int(payment.vbank_date.timestamp())})
    return rsp


# --- amount pre-registration (/payments/prepare) --------------------------------------


def prepare(*, merchant: Merchant, merchant_uid: str, amount, update: bool) -> Preparation:
    """Register (``update=False``) or change (``update=True``) the amount of an order."""
    merchant_uid = _text({"merchant_uid": merchant_uid}, "merchant_uid", MERCHANT_UID_MAX, required=True)
    amount = parse_amount(amount)
    with transaction.atomic():
        current = Preparation.objects.select_for_update().filter(merchant=merchant, merchant_uid=merchant_uid).first()
        if update:
            if current is None:
                raise PaymentError("F404", _("No amount is registered for this merchant_uid."))
            current.amount = amount
            current.save(update_fields=["amount", "updated_at"])
            return current
        if current is not None:
            raise PaymentError("F400", _("An amount is registered for this merchant_uid already: change it "
                                         "with PUT /payments/prepare."))
        try:
            with transaction.atomic():
                return Preparation.objects.create(merchant=merchant, merchant_uid=merchant_uid, amount=amount)
        except IntegrityError as exc:
            raise PaymentError("F400", _("An amount is registered for this merchant_uid already.")) from exc


# --- cancel (the console and POST /payments/cancel) ------------------------------------


def _optional_amount(value, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return parse_amount(value)
    except PaymentError as exc:
        raise PaymentError("F400", _("%(field)s must be a whole number of won above 0.") % {"field": label}) from exc


def payment_cancel(*, actor: Actor, payment: Payment, amount=None, reason: str = "", checksum=None,
                   tax_free=None) -> PaymentCancellation:
    """Cancel a paid payment in full (``amount`` None) or in part, or an issued virtual account
    that waits for its deposit (in full). ``checksum`` is the amount the caller believes is
    still cancellable: when it differs from ours, nothing is cancelled (PortOne's guard against
    cancelling twice). The webhook says ``cancelled`` (V2: ``Transaction.PartialCancelled`` for
    a part), after the commit."""
    amount = _optional_amount(amount, "amount")
    checksum = None if checksum in (None, "") else _optional_amount(checksum, "checksum")
    tax_free_value = None if tax_free in (None, "", 0, "0") else _optional_amount(tax_free, "tax_free")
    reason = _text({"reason": reason}, "reason", 300)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("merchant").get(pk=payment.pk)
        waiting_vbank = payment.waits_for_deposit
        if payment.status == Status.CANCELLED:
            raise PaymentError("F409", _("This payment is cancelled already."))
        if payment.status != Status.PAID and not waiting_vbank:
            raise PaymentError("F409", _("Only a paid payment, or a virtual account waiting for its "
                                         "deposit, can be cancelled. This one is %(status)s.")
                               % {"status": payment.get_status_display().lower()})
        remaining = payment.remaining
        if not payment.amount:
            raise PaymentError("F409", _("This is the record of a billing key issued in the window: 0 won "
                                         "was paid, so there is nothing to cancel. Delete the billing key "
                                         "instead."))
        if checksum is not None and checksum != remaining:
            raise PaymentError("F409", _("The checksum does not match: %(left)s won can be cancelled, "
                                         "the request says %(checksum)s. Nothing was cancelled.")
                               % {"left": f"{remaining:,}", "checksum": f"{checksum:,}"})
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise PaymentError("F409", _("%(amount)s won is more than the %(left)s won left to cancel.")
                               % {"amount": f"{amount:,}", "left": f"{remaining:,}"})
        if tax_free_value is not None and tax_free_value > amount:
            raise PaymentError("F400", _("tax_free cannot be more than the amount cancelled."))
        if waiting_vbank and amount != remaining:
            raise PaymentError("F409", _("A virtual account waiting for its deposit is cancelled in full."))
        now = timezone.now()
        cancellation = PaymentCancellation.objects.create(
            payment=payment, pg_tid=f"sandbox_cancel_{secrets.token_hex(8)}", amount=amount, reason=reason,
            cancellation_id=f"cancel_{secrets.token_hex(10)}")
        before = (payment.status, payment.cancel_amount)
        payment.cancel_amount += amount
        payment.cancel_reason = reason
        full = payment.cancel_amount == payment.amount
        if full:
            payment.status, payment.cancelled_at = Status.CANCELLED, now
        payment.save(update_fields=["cancel_amount", "cancel_reason", "status", "cancelled_at", "updated_at"])
        audit_record(actor=actor, merchant=payment.merchant, action=AuditAction.PAYMENT_CANCEL, target=payment,
                     changes={"status": (before[0], payment.status),
                              "cancel_amount": (before[1], payment.cancel_amount)})
        _notify(payment, "cancelled" if full else "partial_cancelled",
                cancellation_id=cancellation.cancellation_id, actor=actor)
    return cancellation
