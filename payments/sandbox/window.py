"""The sandbox PG's payment window: what IMP.request_pay opens on a test channel, and its
outcomes (approve, fail with a PG error, close, issue a virtual account).

Every state change takes the payment's row lock, and the webhook it causes is written in
the same transaction (``lifecycle.notify``, an outbox) and handed to the broker after the
commit. A window is addressed by a signed token (``window_token``): the buyer has no login,
and a third-party iframe gets no cookie, so the token is the capability. Approving twice (a
double click, two tabs on one order) finds the payment paid and changes nothing: one payment,
one webhook. Live channels never pay: no PG is reachable from PG Console. The pages around it
are the protocol's (``payments.v1.sdk``).
"""

import json
import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels import catalog
from channels.models import Channel
from console.models import Merchant
from console.tenancy.inputs import ascii_digits, ascii_int
from console.tenancy.locks import lock_rows
from payments.domain.errors import PaymentError, Refusal
from payments.domain.inputs import (
    MAX_AMOUNT,
    ORDER_FIELDS,
    max_length_of,
    parse_amount,
    read_channel,
    read_currency,
    read_custom_data,
    read_merchant_uid,
    read_notice_urls,
    read_text,
    read_vbank_due,
)
from payments.domain.lifecycle import fail, in_stored_language, notify, stored_text, window_expire
from payments.domain.merchants import find_channel, merchant_by_code
from payments.domain.orders import order_lock, prepared_amount_problem
from payments.models import WINDOW_MAX_AGE, Payment, PayMethod, Status
from payments.sandbox import confirm, failures
from payments.sandbox.cards import CARD_COMPANIES, DEFAULT_CARD
from webhooks import net
from webhooks.services import allowed_networks

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
    channel = find_channel(merchant, **read_channel(params))
    provider = channel.provider_entry
    if provider is None or provider.kind != catalog.Kind.PG:
        order["emb_pg_provider"] = ""  # a simple payment's own channel is no hub: it is the pg_provider
    return window_payment_open(merchant=merchant, channel=channel, order=order, amount=amount)


# The simple payments a PG's own window takes as ``pay_method`` (PortOne's hub-type payments,
# 허브형: e.g. KG INICIS's guide lists kakaopay, naverpay, samsung, applepay, ssgpay, payco,
# tosspay, lpay). The payment is then a card payment whose ``emb_pg_provider`` names it.
HUB_PAY_METHODS = ("kakaopay", "naverpay", "samsung", "applepay", "ssgpay", "payco", "tosspay", "lpay")


def read_window_order(params: dict, *, user_agent: str = "") -> dict:
    """The order request_pay describes (merchant_uid, pay_method, currency, name, buyer,
    custom_data, m_redirect_url, notice_url), as the payment keeps it."""
    merchant_uid = read_merchant_uid(params.get("merchant_uid"))
    pay_method = read_text(params, "pay_method", 16) or PayMethod.CARD
    emb_pg_provider = ""
    if pay_method in HUB_PAY_METHODS:
        emb_pg_provider, pay_method = pay_method, PayMethod.CARD
    elif pay_method not in PayMethod.values:
        raise PaymentError(Refusal.INVALID, _("The sandbox takes pay_method %(methods)s.") % {
            "methods": ", ".join((*PayMethod.values, *HUB_PAY_METHODS))})
    currency = read_currency(params.get("currency"))
    custom_data = read_custom_data(params.get("custom_data"))
    order = {
        "merchant_uid": merchant_uid, "pay_method": pay_method, "emb_pg_provider": emb_pg_provider,
        "currency": currency,
        **{field: read_text(params, field, max_length_of(Payment, field)) for field in ORDER_FIELDS},
        "m_redirect_url": read_text(params, "m_redirect_url", 2000),
        "custom_data": custom_data,
        "user_agent": (user_agent or "")[:300],
        "notice_urls": read_notice_urls(params.get("notice_url")),
    }
    if order["m_redirect_url"] and not re.match(r"https?://", order["m_redirect_url"]):
        raise PaymentError(Refusal.INVALID, _("m_redirect_url must start with http:// or https://."))
    order.update(read_request_extras(params, pay_method=pay_method))
    return order


WINDOW_LANGUAGES = ("ko", "en")
KST = ZoneInfo("Asia/Seoul")


def _json_param(params: dict, key: str):
    """A parameter the SDK sent as JSON (an object or a list), decoded; None when absent."""
    value = params.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip()[:1] in ("{", "[") else value
        except ValueError as exc:
            raise PaymentError(Refusal.INVALID, _("%(field)s is not valid JSON.") % {"field": key}) from exc
    return value


def _whole(value, field: str, *, low: int = 0, high: int = MAX_AMOUNT) -> int:
    number = None if isinstance(value, bool) else value
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if isinstance(number, str):
        number = ascii_int(number.strip(), max_digits=15)
    if not isinstance(number, int) or not low <= number <= high:
        raise PaymentError(Refusal.INVALID, _("%(field)s must be a whole number from %(low)s to %(high)s.")
                           % {"field": field, "low": f"{low:,}", "high": f"{high:,}"})
    return number


def read_window_vbank_due(value) -> datetime | None:
    """request_pay's ``vbank_due``: ``YYYYMMDDhhmm`` or ``YYYYMMDD`` (Korean time, the end of
    that day when no time is given), or UNIX seconds as the REST API takes it."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if ascii_digits(text) and len(text) in (8, 12):
        try:
            due = datetime.strptime(text + ("2359" if len(text) == 8 else ""), "%Y%m%d%H%M").replace(tzinfo=KST)
        except ValueError as exc:
            raise PaymentError(Refusal.INVALID, _("vbank_due must be YYYYMMDDhhmm, e.g. 202612312359.")) from exc
        return read_vbank_due(int(due.timestamp()))
    return read_vbank_due(text)


def read_request_extras(params: dict, *, pay_method: str) -> dict:
    """What request_pay asks besides the order that changes the payment: ``tax_free``,
    ``vat_amount``, ``escrow``, ``products``, ``card`` (``direct``: the card company and
    instalment months the buyer pays with), ``vbank_due``, ``confirm_url`` and ``language``."""
    amount = parse_amount(params.get("amount")) if params.get("amount") not in (None, "", "0", 0) else 0
    extras = {}
    tax_free = params.get("tax_free")
    extras["tax_free"] = 0 if tax_free in (None, "") else _whole(tax_free, "tax_free", high=amount)
    vat = params.get("vat_amount")
    extras["vat_amount"] = None if vat in (None, "") else _whole(vat, "vat_amount", high=amount - extras["tax_free"])
    extras["escrow"] = str(params.get("escrow") or "").strip().lower() in ("true", "1")
    products = _json_param(params, "products")
    if products in (None, ""):
        products = []
    if not isinstance(products, list) or len(json.dumps(products, ensure_ascii=False)) > 10_000:
        raise PaymentError(Refusal.INVALID, _("products must be a list of products (at most 10,000 characters)."))
    extras["products"] = products
    card = _json_param(params, "card")
    card = card if isinstance(card, dict) else {}
    direct = card.get("direct") if isinstance(card.get("direct"), dict) else {}
    extras["card_code"], extras["card_quota"] = "", 0
    if direct:
        code = str(direct.get("code") or "").strip()
        if code not in CARD_COMPANIES:
            raise PaymentError(Refusal.INVALID, _("card.direct.code “%(code)s” is not a card company code the sandbox "
                                         "knows: %(codes)s.") % {"code": code, "codes": ", ".join(CARD_COMPANIES)})
        extras["card_code"] = code
        quota = direct.get("quota")
        extras["card_quota"] = 0 if quota in (None, "") else _whole(quota, "card.direct.quota", high=36)
    extras["vbank_date"] = read_window_vbank_due(params.get("vbank_due")) if pay_method == PayMethod.VBANK else None
    extras["confirm_url"] = read_confirm_url(params.get("confirm_url"))
    language = str(params.get("language") or "").strip().lower()
    extras["language"] = language if language in WINDOW_LANGUAGES else ""
    return extras


def read_confirm_url(value) -> str:
    """``confirm_url``: checked in form as a webhook URL (no lookup here; the address policy
    of ``webhooks.net`` is applied again when the sandbox calls it)."""
    url = "" if value is None else str(value).strip()
    if not url:
        return ""
    try:
        net.check_url_form(url, allowed_networks=allowed_networks())
    except net.UnsafeURL as exc:
        raise PaymentError(Refusal.INVALID, _("confirm_url cannot be used: %(why)s") % {"why": exc.message}) from exc
    return url


# What a request_pay asks of its window besides the order's number: a second request that
# differs in any of these is a window of its own (``window_payment_open``).
WINDOW_REQUEST_FIELDS = ("amount", "channel_id", "customer_uid", "pay_method", "emb_pg_provider", "currency", "name",
                         "buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode",
                         "m_redirect_url", "notice_urls", "custom_data", "tax_free", "vat_amount", "escrow",
                         "products", "card_code", "card_quota", "vbank_date", "confirm_url", "language")


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
                fail(existing, REPLACED_CODE, gettext_lazy("Another payment window was opened for this order."))
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
    with in_stored_language():
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
    """Approve the window's payment. With ``confirm_url`` the shop is asked first, outside the
    transaction (``confirm.shop_refusal``), and a refusal fails the payment (no webhook)."""
    asked = payment_get_for_window(imp_uid, token)
    refusal = confirm.shop_refusal(asked) if asked.is_open and asked.status != Status.PAID else None
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
        if refusal is not None:
            return fail(payment, confirm.CONFIRM_REFUSED_CODE, refusal)
        now = timezone.now()
        payment.status, payment.paid_at = Status.PAID, now
        payment.pg_tid = f"sandbox_{secrets.token_hex(10)}"
        if payment.pay_method == PayMethod.CARD:
            payment.apply_num = f"{secrets.randbelow(10**8):08d}"
            card = DEFAULT_CARD  # the card a sandbox approval reports: one masking, PortOne's
            if payment.card_code:  # card.direct: the card company the shop sent the buyer to
                payment.card_name = CARD_COMPANIES[payment.card_code]
            else:
                payment.card_code, payment.card_name = card.card_code, card.card_name
            payment.card_number, payment.card_type = card.masked, card.card_type
        payment.save()
        notify(payment, "paid")
    return payment


def window_fail(*, imp_uid: str, token: str, error_code: str) -> Payment:
    with transaction.atomic():
        payment = locked_open(imp_uid, token)
        labels = dict(failures.for_method(payment.pay_method))  # the failures of its pay method
        if error_code not in labels:
            raise PaymentError(Refusal.INVALID, _("Choose a PG error from the list."))
        if payment.status == Status.FAILED:
            return payment
        if not payment.is_open:
            raise PaymentError(Refusal.CONFLICT, _("This payment is %(status)s: it cannot fail now.") % {
                "status": payment.get_status_display().lower()})
        return fail(payment, error_code, labels[error_code])  # no webhook, as PortOne


def window_close(*, imp_uid: str, token: str) -> Payment:
    with transaction.atomic():
        payment = locked_open(imp_uid, token)
        if not payment.is_open:
            return payment  # decided already: closing the window changes nothing
        return fail(payment, CLOSED_CODE, gettext_lazy("The buyer closed the payment window."))


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
        payment.vbank_code, payment.vbank_name = bank, stored_text(banks[bank])
        payment.vbank_num = f"{secrets.randbelow(10**4):04d}-{secrets.randbelow(10**6):06d}-{secrets.randbelow(10**4):04d}"
        payment.vbank_holder = "PG Console (test)"
        # vbank_due when request_pay gave one, else three days
        payment.vbank_issued_at = now
        payment.vbank_date = payment.vbank_date or now + timedelta(days=VBANK_DAYS)
        payment.pg_tid = f"sandbox_{secrets.token_hex(10)}"
        payment.save()
        notify(payment, "virtual_account_issued")
    return payment
