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

from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.catalog import Module
from channels.models import Channel, Mode
from console.models import Merchant
from console.tenancy.audit import SYSTEM, Actor, audit_record
from console.tenancy.inputs import ascii_int
from console.tenancy.locks import lock_rows
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
WINDOW_MAX_AGE = 60 * 60  # a window works for an hour after it opened; then its order is free again
VBANK_DAYS = 3
CLOSED_CODE = "F1002"
EXPIRED_CODE = "F1006"  # the sandbox's: the window's hour ran out before it was decided
REPLACED_CODE = "F1007"  # the sandbox's: another request_pay for the order replaced this window

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
        value = ascii_int(value.strip(), max_digits=15)
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
    """``notice_url`` (a string or a list of up to 5), each once, in the form of a webhook URL
    (http or https, a host, a port, no credentials; an address written in it must be public).
    The payment's webhooks go to these instead of the merchant's endpoint
    (``webhooks.services.payment_event_record``). No lookup here: a request may name thousands
    (a call of schedules), so each host is resolved when a webhook is sent to it, and refused
    then if it resolves to a private address."""
    if value in (None, "", []):
        return []
    urls = value if isinstance(value, list) else [value]
    if len(urls) > 5:
        raise PaymentError("F400", _("notice_url takes at most 5 URLs."))
    urls = list(dict.fromkeys(str(url).strip() for url in urls))
    for url in urls:
        try:
            net.check_url_form(url, allowed_networks=allowed_networks())
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


# What a payment window takes first when pg names a PG without its MID, or nothing: a
# subscription window issues billing keys, an API channel pays without a window.
WINDOW_MODULES = (Module.WINDOW_GENERAL, Module.WINDOW_SIMPLE)


def _payable(channel: Channel) -> bool:
    return channel.enabled and channel.mode == Mode.TEST


def _why_not_payable(channel: Channel) -> str:
    if not channel.enabled:
        return _("This channel is disabled: enable it on the Channels page.")
    return _("Live channels take no payments here: no PG is reachable from PG Console. Use a test channel.")


def _takes(channel: Channel, module: str | None) -> bool:
    return channel.module == module if module else channel.module in WINDOW_MODULES


def _use_pg(channels: list[Channel], module: str | None, like: Channel | None = None) -> str:
    """A sentence naming the test ``pg`` a refused request could use: an enabled test channel
    of the request's module, of ``like``'s PG when it has one; "" when the merchant has none."""
    usable = [c for c in channels if _payable(c) and _takes(c, module)]
    if not usable and module is None:
        usable = [c for c in channels if _payable(c)]
    if like is not None:
        usable = [c for c in usable if c.pg_provider == like.pg_provider] or usable
    if not usable:
        return ""
    return " " + _('Use pg: "%(pg)s" (an enabled test channel).') % {"pg": usable[0].pg_string}


def find_channel(merchant: Merchant, *, pg: str = "", channel_key: str = "", module: str | None = None) -> Channel:
    """The channel a request pays on: the one rule of the window (``module`` None), key-in and
    virtual accounts (``Module.API_KEYIN``) and billing keys (``API_SUBSCRIPTION``,
    ``WINDOW_SUBSCRIPTION``). Only an enabled test channel pays: no PG is reachable from here.

    - ``channelKey``, or ``pg`` with its MID (``kcp.T0000``), names one channel: it pays, or is
      refused (live, disabled, of another module).
    - ``pg`` without a MID (``kcp``) names the merchant's channels of that PG, and no ``pg`` all
      of them, of the request's module (the window takes general and simple ones first). As
      at PortOne, the default channel is taken when it is among them, else the only one (a PG
      with several MIDs is named with its MID, PortOne's guides say). The sandbox chooses
      among the enabled test ones: a live default stands for its PG, whose test channel of
      the same module is taken. Several left, or none, is refused.

    Every refusal names a test ``pg`` to use when the merchant has one (``_use_pg``)."""
    channels = list(_visible_channels(merchant).order_by("id"))
    code, _dot, mid = pg.partition(".")
    if channel_key:
        named = [c for c in channels if c.channel_key == channel_key]
        if not named:
            raise PaymentError("F400", _("No channel of this merchant has this channel key."))
    elif pg:
        named = [c for c in channels if c.pg_provider == code and (not mid or c.mid == mid)]
        if not named:
            raise PaymentError("F400", _("No channel of this merchant matches pg “%(pg)s”.") % {"pg": pg})
    else:
        named = channels
    if module:
        of_module = [c for c in named if c.module == module]
        if not of_module and (channel_key or pg):
            shown = next((c for c in named if _payable(c)), named[0])
            raise PaymentError("F400", _("This request takes a channel of the module “%(expected)s”; "
                                         "%(channel)s is a channel of the module “%(actual)s”.")
                               % {"expected": Module(module).label, "channel": shown.pg_string,
                                  "actual": Module(shown.module).label} + _use_pg(channels, module, shown))
        named = of_module
    payable = [c for c in named if _payable(c)]
    if channel_key or mid:  # one channel (a test and a live one may share a MID: the test one pays)
        if payable:
            return payable[0]
        raise PaymentError("F400", _why_not_payable(named[0]) + _use_pg(channels, module, named[0]))
    default = next((c for c in named if c.is_default and c.merchant_id == merchant.pk), None)
    if default is not None and _payable(default):
        return default
    pool = payable
    if default is not None:
        pool = [c for c in pool if (c.pg_provider, c.module) == (default.pg_provider, default.module)] or pool
    if module is None:
        pool = [c for c in pool if c.module in WINDOW_MODULES] or pool
    if len(pool) == 1:
        return pool[0]
    if pool:
        if pg:
            message = _("pg “%(pg)s” names %(count)d test channels of this merchant: name one with its MID.")
        elif module:
            message = _("This merchant has %(count)d test channels of the module “%(module)s”: name one "
                        "with pg.")
        else:
            message = _("Name the channel (pg or channelKey): this merchant has no default channel that "
                        "takes test payments, and %(count)d test channels could.")
        raise PaymentError("F400", message % {"pg": pg, "count": len(pool),
                                              "module": Module(module).label if module else ""}
                           + _use_pg(pool, module))
    refused = default if default is not None else (named[0] if pg else None)
    if refused is not None:
        raise PaymentError("F400", _why_not_payable(refused) + _use_pg(channels, module, refused))
    if module:
        raise PaymentError("F400", _("This merchant has no enabled test channel of the module “%(module)s”: "
                                     "add one on the Channels page.") % {"module": Module(module).label})
    raise PaymentError("F400", _("Name the channel (pg or channelKey): this merchant has no default channel."))


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


def window_expired(payment: Payment) -> bool:
    """An open window whose hour is up (``WINDOW_MAX_AGE`` after it opened, when the token it
    was first given expires): it decides nothing more, and its order may be asked for again."""
    return payment.is_open and payment.started_at <= timezone.now() - timedelta(seconds=WINDOW_MAX_AGE)


def _expired_reason() -> str:
    return _("The payment window expired before it was decided.")


def windows_expire(*, merchant: Merchant, merchant_uids) -> None:
    """Fail the open windows of these orders whose hour is up (``window_expired``), so that an
    order a buyer left in the window can be paid another way (key-in, a virtual account, a
    billing key, a schedule). Call it inside the transaction that then checks the order. One
    UPDATE: a window approved meanwhile no longer matches it and is left alone."""
    now = timezone.now()
    Payment.objects.filter(
        merchant=merchant, merchant_uid__in=list(merchant_uids), status=Status.READY, vbank_issued_at__isnull=True,
        started_at__lte=now - timedelta(seconds=WINDOW_MAX_AGE),
    ).update(status=Status.FAILED, failed_at=now, error_code=EXPIRED_CODE, fail_reason=_expired_reason(),
             updated_at=now)


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
    custom_data, m_redirect_url, notice_url), as the payment keeps it."""
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
        "notice_urls": _notice_urls(params.get("notice_url")),
    }
    if order["m_redirect_url"] and not re.match(r"https?://", order["m_redirect_url"]):
        raise PaymentError("F400", _("m_redirect_url must start with http:// or https://."))
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
    paid, cancelled or waiting for its deposit takes no window (``F409``). An order registered
    with /payments/prepare must ask its amount (``asked_amount``: what request_pay asked, when
    the payment keeps another amount)."""
    problem = prepared_amount_problem(merchant, order["merchant_uid"],
                                      amount if asked_amount is None else asked_amount)
    if problem:
        raise PaymentError("F400", problem)
    payment = Payment(merchant=merchant, channel=channel, amount=amount, pg_provider=channel.pg_provider,
                      pg_id=channel.mid, channel_key=channel.channel_key, mode=channel.mode,
                      customer_uid=customer_uid, customer_uid_usage=customer_uid_usage, **order)
    with transaction.atomic():
        _order_lock(merchant, order["merchant_uid"])
        existing = (lock_rows(Payment.objects).filter(merchant=merchant, merchant_uid=order["merchant_uid"])
                    .exclude(status=Status.FAILED).first())
        if existing is not None:
            if not existing.is_open:
                raise PaymentError("F409", _("This merchant_uid is already used by a payment that is "
                                             "%(status)s. Use a new merchant_uid for a new order.")
                                   % {"status": existing.get_status_display().lower()})
            if window_expired(existing):
                _fail(existing, EXPIRED_CODE, _expired_reason())
            elif _same_request(existing, payment):
                return existing  # the same request, still open: one payment
            else:
                _fail(existing, REPLACED_CODE, _("Another payment window was opened for this order."))
        try:
            with transaction.atomic():
                payment.save(force_insert=True)
        except IntegrityError as exc:  # a key-in payment, say, took the order an instant ago
            raise PaymentError("F409", _("This order is being paid by another request.")) from exc
    return payment


def _order_lock(merchant: Merchant, merchant_uid: str) -> None:
    """Windows opening for one order take turns, until the transaction ends: each finds the
    payment the one before it committed, instead of racing it to the insert. PostgreSQL: an
    advisory lock on the order (there may be no row to lock yet). SQLite's transactions take
    its one write lock as they begin, so they take turns already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [merchant.pk, merchant_uid])


def prepared_amount_problem(merchant: Merchant, merchant_uid: str, amount: int) -> str | None:
    """Why ``amount`` cannot be paid for ``merchant_uid``: an amount registered for the order with
    /payments/prepare differs, or None. Read when the window opens and again when it pays
    (``_refuse_undecidable``), so an amount registered or changed in between counts."""
    prepared = Preparation.objects.filter(merchant=merchant, merchant_uid=merchant_uid).only("amount").first()
    if prepared is None or prepared.amount == amount:
        return None
    return _("The amount differs from the one registered for this order (/payments/prepare): "
             "%(prepared)s won registered, %(amount)s won asked.") % {"prepared": f"{prepared.amount:,}",
                                                                     "amount": f"{amount:,}"}


def _refuse_undecidable(payment: Payment) -> bool:
    """Fail an open window that can no longer pay what it shows: its hour is up
    (``window_expired``), or the amount registered for its order now differs (PortOne stops
    such a payment). Inside the action's transaction, under the row lock; True when it failed
    it (no webhook, as any failed window)."""
    if window_expired(payment):
        _fail(payment, EXPIRED_CODE, _expired_reason())
        return True
    if not payment.amount:  # a billing key's window that pays nothing
        return False
    problem = prepared_amount_problem(payment.merchant, payment.merchant_uid, payment.amount)
    if problem:
        _fail(payment, "F400", problem)
        return True
    return False


def _locked_open(imp_uid: str, token: str) -> Payment:
    """The window's payment, locked: the token is checked first (no query for that)."""
    _check_token(imp_uid, token)
    payment = lock_rows(Payment.objects.select_related("merchant")).filter(imp_uid=imp_uid).first()
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
        if _refuse_undecidable(payment):
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
        if _refuse_undecidable(payment):
            return payment
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
        payment = lock_rows(Payment.objects.select_related("merchant")).get(pk=payment.pk)
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
        current = lock_rows(Preparation.objects).filter(merchant=merchant, merchant_uid=merchant_uid).first()
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
        payment = lock_rows(Payment.objects.select_related("merchant")).get(pk=payment.pk)
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
