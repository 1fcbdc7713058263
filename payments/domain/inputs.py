"""Every reader of a payment request's inputs: amount, merchant_uid, customer_uid, currency,
custom_data, notice_url, the order and buyer fields, card_quota, schedule_at, vbank_due. Each input
is read here, once; a bad one raises ``PaymentError`` (``Refusal.INVALID``) with a message for the caller."""

import json
import math
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from console.tenancy.inputs import ascii_int
from payments.domain.errors import PaymentError, Refusal
from payments.models import (
    CUSTOMER_UID_MAX,
    MERCHANT_UID_MAX,
    BillingKey,
    Payment,
)
from webhooks import net
from webhooks.services import allowed_networks

MAX_AMOUNT = 10_000_000_000  # ten billion won: more is a typo, not a test


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
        raise PaymentError(Refusal.INVALID, _("The amount must be a whole number of won, e.g. 1000."))
    if value <= 0:
        raise PaymentError(Refusal.INVALID, _("The amount must be more than 0 won."))
    if value > MAX_AMOUNT:
        raise PaymentError(Refusal.INVALID, _("The amount is too large: at most %(max)s won.") % {
            "max": f"{MAX_AMOUNT:,}"})
    return value


def read_text(params: dict, key: str, limit: int, *, required=False, label=None) -> str:
    value = params.get(key)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise PaymentError(Refusal.INVALID, _("%(field)s is required.") % {"field": label or key})
    if len(value) > limit:
        raise PaymentError(Refusal.INVALID, _("%(field)s is too long: at most %(max)d characters.") % {
            "field": label or key, "max": limit})
    if any(ord(c) < 32 for c in value):
        raise PaymentError(Refusal.INVALID, _("%(field)s contains control characters.") % {"field": label or key})
    return value


def read_notice_urls(value) -> list[str]:
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
        raise PaymentError(Refusal.INVALID, _("notice_url takes at most 5 URLs."))
    urls = list(dict.fromkeys(str(url).strip() for url in urls))
    for url in urls:
        try:
            net.check_url_form(url, allowed_networks=allowed_networks())
        except net.UnsafeURL as exc:
            raise PaymentError(Refusal.INVALID, _("notice_url cannot be used: %(why)s") % {"why": exc.message}) from exc
    return urls


def read_optional_amount(value, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return parse_amount(value)
    except PaymentError as exc:
        raise PaymentError(Refusal.INVALID, _("%(field)s must be a whole number of won above 0.") % {"field": label}) from exc


CUSTOM_DATA_MAX = 10_000
MAX_CARD_QUOTA = 36
CARD_QUOTA_MIN_AMOUNT = 50_000  # PortOne: instalments from 50,000 won
ORDER_FIELDS = ("name", "buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode")
CUSTOMER_FIELDS = ("customer_name", "customer_tel", "customer_email", "customer_addr", "customer_postcode")


def max_length_of(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def read_merchant_uid(value) -> str:
    return read_text({"merchant_uid": value}, "merchant_uid", MERCHANT_UID_MAX, required=True)


def read_customer_uid(value) -> str:
    return read_text({"customer_uid": value}, "customer_uid", CUSTOMER_UID_MAX, required=True)


def read_currency(value) -> str:
    currency = (read_text({"currency": value}, "currency", 3) or "KRW").upper()
    if currency != "KRW":
        raise PaymentError(Refusal.INVALID, _("The sandbox takes payments in KRW only."))
    return currency


def read_custom_data(value) -> str:
    """``custom_data`` as given (a string), or an object as its JSON text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    if len(value) > CUSTOM_DATA_MAX:
        raise PaymentError(Refusal.INVALID, _("custom_data is too long: at most 10,000 characters."))
    return value


def read_card_quota(value, amount: int) -> int:
    """Instalment months: 0 (or 1) pays at once; 2 to 36 from 50,000 won."""
    if value in (None, "", 0, "0", 1, "1"):
        return 0
    months = None if isinstance(value, bool) else ascii_int(str(value).strip(), max_digits=2)
    if months is None or not 2 <= months <= MAX_CARD_QUOTA:
        raise PaymentError(Refusal.INVALID, _("card_quota must be the number of instalment months, 2 to 36 "
                                     "(0 pays at once)."))
    if amount < CARD_QUOTA_MIN_AMOUNT:
        raise PaymentError(Refusal.INVALID, _("Instalments need an amount of 50,000 won or more."))
    return months


def read_order(values: dict, *, amount: int, name_required: bool = False) -> dict:
    """The order fields a payment (or a schedule) keeps: name, buyer, custom_data,
    notice_url and card_quota, checked against the model's limits."""
    order = {field: read_text(values, field, max_length_of(Payment, field), required=name_required and field == "name")
             for field in ORDER_FIELDS}
    order["custom_data"] = read_custom_data(values.get("custom_data"))
    order["notice_urls"] = read_notice_urls(values.get("notice_url"))
    order["card_quota"] = read_card_quota(values.get("card_quota"), amount)
    return order


def read_customer_id(value) -> str:
    return read_text({"customer_id": value}, "customer_id", max_length_of(BillingKey, "customer_id"))


def read_channel(values: dict) -> dict:
    """How a request names its channel, as ``merchants.find_channel`` takes it: ``pg`` (``kcp``
    or ``kcp.T0000``) and ``channelKey`` (or ``channel_key``)."""
    return {"pg": read_text(values, "pg", 100),
            "channel_key": read_text(values, "channelKey", 60) or read_text(values, "channel_key", 60)}


def read_customer(values: dict) -> dict:
    return {field: read_text(values, field, max_length_of(BillingKey, field)) for field in CUSTOMER_FIELDS}


MAX_DAYS_AHEAD = 366  # a yearly plan may be scheduled a year ahead, leap day included


def unix_seconds(value) -> int | None:
    """A UNIX time as sent, in whole seconds: an integer, or a number with a fraction (what
    JavaScript's ``Date.now() / 1000`` gives, cut to its second as i'mport reads it), as a JSON
    number or as ASCII digits with an optional ``.fraction``; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and 0 <= value < 10**12 else None
    if isinstance(value, str):
        whole, dot, fraction = value.strip().partition(".")
        if dot and not (fraction.isascii() and fraction.isdigit() and len(fraction) <= 9):
            return None
        return ascii_int(whole, max_digits=12)
    return None


def read_schedule_at(value, *, now: datetime | None = None, label: str = "schedule_at") -> datetime:
    """A UNIX time in seconds (``unix_seconds``), from the current second up to
    ``MAX_DAYS_AHEAD`` days ahead."""
    now = now or timezone.now()
    seconds = unix_seconds(value)
    if seconds is None or not 0 < seconds < 10**11:
        raise PaymentError(Refusal.INVALID, _("%(field)s must be a time in UNIX seconds, e.g. %(example)d.")
                           % {"field": label, "example": int(now.timestamp()) + 3600})
    when = datetime.fromtimestamp(seconds, tz=UTC)
    if seconds < int(now.timestamp()):
        raise PaymentError(Refusal.INVALID, _("%(field)s is in the past: schedule a time from now on.") % {"field": label})
    if when > now + timedelta(days=MAX_DAYS_AHEAD):
        raise PaymentError(Refusal.INVALID, _("%(field)s is too far ahead: at most %(days)d days from now.")
                           % {"field": label, "days": MAX_DAYS_AHEAD})
    return when


def read_merchant_uids(value) -> list[str]:
    if value in (None, "", []):
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [read_text({"merchant_uid": v}, "merchant_uid", MERCHANT_UID_MAX, required=True) for v in values]


VBANK_DUE_MAX_DAYS = 366


def read_vbank_due(value, *, now: datetime | None = None) -> datetime:
    """``vbank_due``: UNIX seconds (``unix_seconds``: a fraction is cut), after now and at most
    ``VBANK_DUE_MAX_DAYS`` days ahead."""
    now = now or timezone.now()
    seconds = unix_seconds(value)
    if seconds is None or seconds < 0:
        raise PaymentError(Refusal.INVALID, _("vbank_due must be the deposit deadline in UNIX seconds, e.g. %(example)d.")
                           % {"example": int((now + timedelta(days=3)).timestamp())})
    if seconds <= now.timestamp():
        raise PaymentError(Refusal.INVALID, _("vbank_due is in the past: give a deadline after now."))
    # Compared as seconds first: a year past 9999 is no datetime.
    if seconds > (now + timedelta(days=VBANK_DUE_MAX_DAYS)).timestamp():
        raise PaymentError(Refusal.INVALID, _("vbank_due is too far ahead: at most %(days)d days from now.")
                           % {"days": VBANK_DUE_MAX_DAYS})
    return datetime.fromtimestamp(seconds, tz=UTC)
