"""Key-in payments, billing keys, and payments with a billing key: what
``POST /subscribe/payments/onetime``, ``/subscribe/customers/{customer_uid}`` and
``POST /subscribe/payments/again`` do, and a billing key issued through the window.

The "PG" is local: the test card behind a request (``payments.cards``) decides at once
whether a payment is approved or declined, so nothing here waits on the network. Every
write runs in one transaction: a refused request saves nothing, and a payment commits
together with its billing key and the webhook it causes (``services._notify``, the
outbox). A declined key-in or billing-key payment is kept as a ``failed`` payment and
returned (PortOne answers code 0 with ``status: failed``); like a failed window payment it
sends no webhook. Refusals raise ``PaymentError``: ``F400`` bad input, ``F404`` an unknown
``customer_uid``, ``F409`` a state that forbids it (an order already paid), and a PG error
code (``F1003``…) when the card is refused as a billing key is issued.

A billing key belongs to one merchant (a sub-merchant's are its own): another merchant's
``customer_uid`` is unknown. A card number is read by ``cards.read_card`` and never kept
or logged: only its masked form is stored.
"""

import json
import logging
import secrets

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from channels import catalog
from channels.catalog import Module
from channels.models import Channel, Mode
from console.models import Merchant
from console.tenancy.audit import SYSTEM, Actor, audit_record, snapshot
from console.tenancy.inputs import ascii_int
from console.tenancy.locks import lock_rows
from payments.audit import AuditAction

from . import cards
from .models import (
    CUSTOMER_UID_MAX,
    MERCHANT_UID_MAX,
    BillingKey,
    CustomerUidUsage,
    IssuedThrough,
    Payment,
    PayMethod,
    Schedule,
    ScheduleStatus,
    Status,
)
from .services import (
    PaymentError,
    _notice_urls,
    _notify,
    _text,
    find_channel,
    parse_amount,
    windows_expire,
)

logger = logging.getLogger(__name__)

CUSTOM_DATA_MAX = 10_000
MAX_CARD_QUOTA = 36
CARD_QUOTA_MIN_AMOUNT = 50_000  # PortOne: instalments from 50,000 won

# Why a payment with a billing key failed when the card had no say (sandbox codes, beside
# the PG errors of ``services.PG_ERRORS``).
NO_BILLING_KEY = "F1101"
CHANNEL_UNUSABLE = "F1102"
ORDER_TAKEN = "F1103"

ORDER_FIELDS = ("name", "buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode")
CUSTOMER_FIELDS = ("customer_name", "customer_tel", "customer_email", "customer_addr", "customer_postcode")
# What a replacement's audit row compares (the card by its masked number only).
REPLACED_FIELDS = ("issued_through", "pg_provider", "pg_id", "card_name", "card_number", "card_type",
                   "customer_id", *CUSTOMER_FIELDS)


# --- reading a request -----------------------------------------------------------------


def _limit(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def read_merchant_uid(value) -> str:
    return _text({"merchant_uid": value}, "merchant_uid", MERCHANT_UID_MAX, required=True)


def read_customer_uid(value) -> str:
    return _text({"customer_uid": value}, "customer_uid", CUSTOMER_UID_MAX, required=True)


def read_currency(value) -> str:
    currency = (_text({"currency": value}, "currency", 3) or "KRW").upper()
    if currency != "KRW":
        raise PaymentError("F400", _("The sandbox takes payments in KRW only."))
    return currency


def read_custom_data(value) -> str:
    """``custom_data`` as given (a string), or an object as its JSON text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    if len(value) > CUSTOM_DATA_MAX:
        raise PaymentError("F400", _("custom_data is too long: at most 10,000 characters."))
    return value


def read_card_quota(value, amount: int) -> int:
    """Instalment months: 0 (or 1) pays at once; 2 to 36 from 50,000 won."""
    if value in (None, "", 0, "0", 1, "1"):
        return 0
    months = None if isinstance(value, bool) else ascii_int(str(value).strip(), max_digits=2)
    if months is None or not 2 <= months <= MAX_CARD_QUOTA:
        raise PaymentError("F400", _("card_quota must be the number of instalment months, 2 to 36 "
                                     "(0 pays at once)."))
    if amount < CARD_QUOTA_MIN_AMOUNT:
        raise PaymentError("F400", _("Instalments need an amount of 50,000 won or more."))
    return months


def read_order(values: dict, *, amount: int, name_required: bool = False) -> dict:
    """The order fields a payment (or a schedule) keeps: name, buyer, custom_data,
    notice_url and card_quota, checked against the model's limits."""
    order = {field: _text(values, field, _limit(Payment, field), required=name_required and field == "name")
             for field in ORDER_FIELDS}
    order["custom_data"] = read_custom_data(values.get("custom_data"))
    order["notice_urls"] = _notice_urls(values.get("notice_url"))
    order["card_quota"] = read_card_quota(values.get("card_quota"), amount)
    return order


def read_customer(values: dict) -> dict:
    return {field: _text(values, field, _limit(BillingKey, field)) for field in CUSTOMER_FIELDS}


# --- channels ------------------------------------------------------------------------


def require_issuance(channel: Channel, way: str) -> None:
    """The channel's PG issues billing keys ``way`` (the catalog's ``billing_key_issuance``)."""
    if way in catalog.billing_key_issuance(channel.pg_provider):
        return
    if way == catalog.Issuance.API:
        message = _("%(pg)s issues no billing keys through the API.")
    else:
        message = _("%(pg)s issues no billing keys through the payment window.")
    raise PaymentError("F400", message % {"pg": channel.pg_string})


def channel_problem(channel: Channel | None, merchant: Merchant) -> str | None:
    """Why a billing key's channel cannot pay for ``merchant`` now, or None."""
    if channel is None:
        return _("The channel of this billing key was deleted.")
    if merchant.pk not in (channel.merchant_id, channel.assigned_to_id):
        return _("The channel of this billing key is no longer this merchant's: its agency took it back.")
    if not channel.enabled:
        return _("The channel of this billing key is disabled: enable it on the Channels page.")
    if channel.mode != Mode.TEST:
        return _("Live channels take no payments here: no PG is reachable from PG Console. "
                 "Use a test channel.")
    return None


# --- orders --------------------------------------------------------------------------


def order_taken(merchant: Merchant, merchant_uid: str, *, schedule: Schedule | None = None) -> str | None:
    """Why ``merchant_uid`` cannot be paid now: a payment of it is paid, waits for a
    deposit or was cancelled (one per order; failed tries may repeat), or a schedule other
    than ``schedule`` is to pay it. A window left open past its hour holds the order no more: it
    is failed first (``services.windows_expire``, a write: call this inside the transaction)."""
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


# --- billing keys --------------------------------------------------------------------


def live_key(merchant: Merchant, customer_uid: str, *, for_payment: bool = False) -> BillingKey | None:
    """The merchant's live billing key of ``customer_uid``. ``for_payment`` (inside a
    transaction) holds it with a shared lock until the commit: payments with one key run side
    by side, while deleting or replacing it waits for them (and they for it)."""
    if not for_payment or not connection.features.has_select_for_update:
        return BillingKey.objects.filter(merchant=merchant, customer_uid=customer_uid,
                                         deleted_at__isnull=True).first()
    qn = connection.ops.quote_name
    sql = (f"SELECT * FROM {qn(BillingKey._meta.db_table)} WHERE {qn('merchant_id')} = %s "
           f"AND {qn('customer_uid')} = %s AND {qn('deleted_at')} IS NULL FOR SHARE")
    found = list(BillingKey.objects.raw(sql, [merchant.pk, customer_uid]))
    return found[0] if found else None


def unknown_customer(customer_uid: str) -> PaymentError:
    return PaymentError("F404", _("No billing key of this merchant has the customer_uid “%(uid)s”.")
                        % {"uid": customer_uid})


def store_billing_key(*, merchant: Merchant, customer_uid: str, channel: Channel, card: cards.TestCard,
               through: str, customer: dict, customer_id: str = "", actor: Actor = SYSTEM,
               imp_uid: str = "") -> BillingKey:
    """Issue the key, or replace the card of the live one (PortOne: issuing again under a
    customer_uid replaces its key). Inside the caller's transaction. A replacement writes its
    audit row (``BILLING_KEY_REPLACE``: ``actor`` and its address, through which door, the
    window's ``imp_uid``, what changed), which the key's page shows: whoever knows a
    ``customer_uid`` can replace its key from the window, so it is never silent."""
    key = (lock_rows(BillingKey.objects)
           .filter(merchant=merchant, customer_uid=customer_uid, deleted_at__isnull=True).first())
    creating = key is None
    if creating:
        key = BillingKey(merchant=merchant, customer_uid=customer_uid)
    else:
        before = snapshot(key, REPLACED_FIELDS)
    key.channel, key.pg_provider, key.pg_id = channel, channel.pg_provider, channel.mid
    key.issued_through, key.customer_id = through, customer_id
    key.card_code, key.card_name, key.card_number, key.card_type = (
        card.card_code, card.card_name, card.masked, card.card_type)
    for field, value in customer.items():
        setattr(key, field, value)
    if not creating:
        key.save()
        changes = {name: (before[name], getattr(key, name)) for name in REPLACED_FIELDS
                   if name in ("issued_through", "card_number") or before[name] != getattr(key, name)}
        if imp_uid:
            changes["imp_uid"] = (None, imp_uid)
        audit_record(actor=actor, merchant=merchant, action=AuditAction.BILLING_KEY_REPLACE, target=key,
                     changes=changes)
        return key
    try:
        with transaction.atomic():
            key.save(force_insert=True)
    except IntegrityError as exc:  # another request issued it an instant ago
        raise PaymentError("F409", _("A billing key for this customer_uid is being issued by another "
                                     "request. Try again.")) from exc
    return key


@sensitive_variables("card_number", "expiry", "birth", "pwd_2digit")
def billing_key_issue(*, merchant: Merchant, customer_uid: str, card_number, expiry, birth=None,
                      pwd_2digit=None, pg: str = "", customer_id: str = "", customer_name: str = "",
                      customer_tel: str = "", customer_email: str = "", customer_addr: str = "",
                      customer_postcode: str = "", actor: Actor = SYSTEM) -> BillingKey:
    """``POST /subscribe/customers/{customer_uid}``: a billing key from card data, on an
    enabled test channel of the API subscription module (``pg`` names it). A card the PG
    refuses at issuance (invalid, expired, wrong password) raises its PG error code."""
    customer_uid = read_customer_uid(customer_uid)
    card = cards.read_card(card_number=card_number, expiry=expiry, birth=birth, pwd_2digit=pwd_2digit)
    customer = read_customer({"customer_name": customer_name, "customer_tel": customer_tel,
                              "customer_email": customer_email, "customer_addr": customer_addr,
                              "customer_postcode": customer_postcode})
    customer_id = _text({"customer_id": customer_id}, "customer_id", _limit(BillingKey, "customer_id"))
    channel = find_channel(merchant, module=Module.API_SUBSCRIPTION, pg=_text({"pg": pg}, "pg", 100))
    require_issuance(channel, catalog.Issuance.API)
    declined = card.decline(issuing=True)
    if declined:
        raise PaymentError(*declined)
    with transaction.atomic():
        return store_billing_key(merchant=merchant, customer_uid=customer_uid, channel=channel, card=card.card,
                          through=IssuedThrough.API, customer=customer, customer_id=customer_id, actor=actor)


def billing_key_issue_from_window(*, merchant: Merchant, customer_uid: str, pg: str = "",
                                  channel_key: str = "", test_card: str = cards.DEFAULT_CARD.key,
                                  customer_name: str = "", customer_tel: str = "", customer_email: str = "",
                                  customer_addr: str = "", customer_postcode: str = "", actor: Actor = SYSTEM,
                                  imp_uid: str = "") -> BillingKey:
    """A billing key issued through the window ``imp_uid`` (``customer_uid`` in
    ``IMP.request_pay`` on a channel of the window subscription module, named by ``pg`` or
    ``channelKey`` as there). The window asks for no card data: the key holds the test card the
    tester chose (``test_card``, a key of ``cards.BY_KEY``; the approving card by default).
    ``actor`` is whoever pressed the window's button (no login: an address)."""
    customer_uid = read_customer_uid(customer_uid)
    card = cards.BY_KEY.get(test_card)
    if card is None:
        raise PaymentError("F400", _("Choose a test card from the list."))
    customer = read_customer({"customer_name": customer_name, "customer_tel": customer_tel,
                              "customer_email": customer_email, "customer_addr": customer_addr,
                              "customer_postcode": customer_postcode})
    channel = find_channel(merchant, module=Module.WINDOW_SUBSCRIPTION, pg=_text({"pg": pg}, "pg", 100),
                           channel_key=_text({"channel_key": channel_key}, "channel_key", 60))
    require_issuance(channel, catalog.Issuance.WINDOW)
    declined = cards.CardIn(card=card, expired=False).decline(issuing=True)
    if declined:
        raise PaymentError(*declined)
    with transaction.atomic():
        return store_billing_key(merchant=merchant, customer_uid=customer_uid, channel=channel, card=card,
                          through=IssuedThrough.WINDOW, customer=customer, actor=actor, imp_uid=imp_uid)


def billing_key_delete(*, actor: Actor, merchant: Merchant, customer_uid: str, reason: str = "",
                       billing_key_id: int | None = None) -> BillingKey:
    """``DELETE /subscribe/customers/{customer_uid}`` and the console's Delete: the key pays
    no more, and its ``customer_uid`` is unknown from now on (it may be issued anew). The row
    stays for the console's history. Its schedules stay: each fails at its time unless a key
    is issued again under the same ``customer_uid`` (PortOne asks the merchant to check its
    schedules before deleting). Waits for a payment with the key that is under way. With
    ``billing_key_id`` (the console, which shows one row), only that row: when it is not the
    live key any more (deleted, and perhaps a new one issued since), nothing is deleted."""
    reason = _text({"reason": reason}, "reason", _limit(BillingKey, "delete_reason"))
    with transaction.atomic():
        live = BillingKey.objects.filter(merchant=merchant, customer_uid=customer_uid, deleted_at__isnull=True)
        if billing_key_id is not None:
            live = live.filter(pk=billing_key_id)
        key = lock_rows(live).first()
        if key is None:
            raise unknown_customer(customer_uid)
        key.deleted_at, key.delete_reason = timezone.now(), reason
        key.save(update_fields=["deleted_at", "delete_reason", "updated_at"])
        audit_record(actor=actor, merchant=merchant, action=AuditAction.BILLING_KEY_DELETE, target=key,
                     changes={"deleted": (False, True), "reason": (None, reason or None)})
    return key


# --- paying --------------------------------------------------------------------------


def _new_payment(*, merchant: Merchant, channel: Channel | None, key: BillingKey | None, merchant_uid: str,
                 amount: int, order: dict, customer_uid: str = "", usage: str = "",
                 pg_provider: str = "", pg_id: str = "") -> Payment:
    return Payment(
        merchant=merchant, channel=channel, merchant_uid=merchant_uid, amount=amount, pay_method=PayMethod.CARD,
        channel_type="api", mode=Mode.TEST, currency="KRW",
        pg_provider=channel.pg_provider if channel else pg_provider, pg_id=channel.mid if channel else pg_id,
        channel_key=channel.channel_key if channel else "", billing_key=key, customer_uid=customer_uid,
        customer_uid_usage=usage, **order)


def _settle(payment: Payment, *, card: cards.TestCard | None, declined: tuple[str, str] | None) -> None:
    """Approve the payment, or fail it with the PG's (or the sandbox's) code and reason."""
    now = timezone.now()
    payment.pg_tid = f"sandbox_{secrets.token_hex(10)}"
    if card is not None:
        payment.card_code, payment.card_name = card.card_code, card.card_name
        payment.card_number, payment.card_type = card.masked, card.card_type
    if declined:
        payment.status, payment.failed_at = Status.FAILED, now
        payment.error_code, payment.fail_reason = declined[0], declined[1][:300]
    else:
        payment.status, payment.paid_at = Status.PAID, now
        payment.apply_num = f"{secrets.randbelow(10**8):08d}"


def _insert(payment: Payment, *, refuse_taken: bool) -> Payment:
    """Save a new payment. A paid one that meets another live payment of its order (a
    request an instant ahead of it) is refused (``refuse_taken``: nothing is saved) or kept
    as failed: one payment per order either way."""
    try:
        with transaction.atomic():
            payment.save(force_insert=True)
    except IntegrityError as exc:
        if payment.status != Status.PAID:
            raise
        if refuse_taken:
            raise PaymentError("F409", _("This order is being paid by another request.")) from exc
        payment.paid_at, payment.apply_num = None, ""
        _settle(payment, card=None, declined=(ORDER_TAKEN, _("This order is being paid by another "
                                                                "request.")))
        payment.save(force_insert=True)
    return payment


def pay_with_key(*, merchant: Merchant, customer_uid: str, merchant_uid: str, amount: int, order: dict,
                 usage: str, schedule: Schedule | None = None, refuse_taken: bool = False) -> Payment:
    """One payment with the live key of ``customer_uid``, inside the caller's transaction: paid,
    or failed with the reason (no live key, its channel unusable, the order paid already, or
    the card declined). Never raises for those: a scheduled run records them. The caller
    sends the webhook."""
    key = live_key(merchant, customer_uid, for_payment=True)
    if key is None:
        # The key was deleted after the schedule was made: the PG of the last key it had.
        last = BillingKey.objects.filter(merchant=merchant, customer_uid=customer_uid).order_by("-id").first()
        payment = _new_payment(merchant=merchant, channel=None, key=last, merchant_uid=merchant_uid, amount=amount,
                               order=order, customer_uid=customer_uid, usage=usage,
                               pg_provider=last.pg_provider if last else "", pg_id=last.pg_id if last else "")
        _settle(payment, card=None, declined=(NO_BILLING_KEY, _("No billing key of this merchant has this "
                                                                  "customer_uid: it was deleted.")))
        return _insert(payment, refuse_taken=refuse_taken)
    channel = key.channel
    payment = _new_payment(merchant=merchant, channel=channel, key=key, merchant_uid=merchant_uid, amount=amount,
                           order=order, customer_uid=customer_uid, usage=usage, pg_provider=key.pg_provider,
                           pg_id=key.pg_id)
    card = cards.card_for_masked(key.card_number)
    problem = channel_problem(channel, merchant)
    taken = order_taken(merchant, merchant_uid, schedule=schedule)
    if problem:
        declined = (CHANNEL_UNUSABLE, problem)
    elif taken:
        declined = (ORDER_TAKEN, taken)
    elif card is None:  # not a test card's mask: cannot happen through the services
        declined = ("F1003", cards.pg_error_label("F1003"))
    else:
        declined = cards.CardIn(card=card, expired=False).decline(issuing=False)
    _settle(payment, card=card, declined=declined)
    return _insert(payment, refuse_taken=refuse_taken)


def payment_again(*, merchant: Merchant, customer_uid: str, merchant_uid: str, amount, name,
                  currency=None, buyer_name: str = "", buyer_email: str = "", buyer_tel: str = "",
                  buyer_addr: str = "", buyer_postcode: str = "", card_quota=None, custom_data=None,
                  notice_url=None) -> Payment:
    """``POST /subscribe/payments/again``: pay with a billing key. Refused (nothing saved)
    for an unknown ``customer_uid``, an unusable channel or an order already paid or
    scheduled; a declined card is a ``failed`` payment, returned. ``paid`` notifies."""
    customer_uid = read_customer_uid(customer_uid)
    merchant_uid = read_merchant_uid(merchant_uid)
    amount = parse_amount(amount)
    read_currency(currency)
    order = read_order({"name": name, "buyer_name": buyer_name, "buyer_email": buyer_email,
                        "buyer_tel": buyer_tel, "buyer_addr": buyer_addr, "buyer_postcode": buyer_postcode,
                        "custom_data": custom_data, "notice_url": notice_url, "card_quota": card_quota},
                       amount=amount, name_required=True)
    with transaction.atomic():
        key = live_key(merchant, customer_uid, for_payment=True)
        if key is None:
            raise unknown_customer(customer_uid)
        problem = channel_problem(key.channel, merchant) or order_taken(merchant, merchant_uid)
        if problem:
            raise PaymentError("F409", problem)
        payment = pay_with_key(merchant=merchant, customer_uid=customer_uid, merchant_uid=merchant_uid,
                               amount=amount, order=order, usage=CustomerUidUsage.PAYMENT, refuse_taken=True)
        if payment.status == Status.PAID:
            _notify(payment, "paid")
    return payment


@sensitive_variables("card_number", "expiry", "birth", "pwd_2digit")
def keyin_pay(*, merchant: Merchant, merchant_uid: str, amount, card_number, expiry, birth=None,
              pwd_2digit=None, customer_uid: str = "", customer_id: str = "", pg: str = "", name: str = "",
              currency=None, buyer_name: str = "", buyer_email: str = "", buyer_tel: str = "",
              buyer_addr: str = "", buyer_postcode: str = "", card_quota=None, custom_data=None,
              notice_url=None, actor: Actor = SYSTEM) -> Payment:
    """``POST /subscribe/payments/onetime``: a key-in payment on an enabled test channel of
    the API key-in module (``pg`` names it). Paid or failed as the test card decides (a
    failed one is returned, and sends no webhook). With ``customer_uid`` a paid payment
    also stores the card as that billing key (the buyer fields become the customer's)."""
    merchant_uid = read_merchant_uid(merchant_uid)
    amount = parse_amount(amount)
    read_currency(currency)
    card = cards.read_card(card_number=card_number, expiry=expiry, birth=birth, pwd_2digit=pwd_2digit)
    order = read_order({"name": name, "buyer_name": buyer_name, "buyer_email": buyer_email,
                        "buyer_tel": buyer_tel, "buyer_addr": buyer_addr, "buyer_postcode": buyer_postcode,
                        "custom_data": custom_data, "notice_url": notice_url, "card_quota": card_quota},
                       amount=amount)
    customer_uid = _text({"customer_uid": customer_uid}, "customer_uid", CUSTOMER_UID_MAX)
    customer_id = _text({"customer_id": customer_id}, "customer_id", _limit(BillingKey, "customer_id"))
    channel = find_channel(merchant, module=Module.API_KEYIN, pg=_text({"pg": pg}, "pg", 100))
    if customer_uid:
        require_issuance(channel, catalog.Issuance.API)
    declined = card.decline(issuing=False)
    with transaction.atomic():
        taken = order_taken(merchant, merchant_uid)
        if taken:
            raise PaymentError("F409", taken)
        key = None
        if customer_uid and not declined:
            customer = {f"customer_{f.removeprefix('buyer_')}": order[f] for f in ORDER_FIELDS if f != "name"}
            key = store_billing_key(merchant=merchant, customer_uid=customer_uid, channel=channel, card=card.card,
                             through=IssuedThrough.KEYIN, customer=customer, customer_id=customer_id,
                             actor=actor)
        payment = _new_payment(merchant=merchant, channel=channel, key=key, merchant_uid=merchant_uid,
                               amount=amount, order=order, customer_uid=customer_uid,
                               usage=CustomerUidUsage.PAYMENT if customer_uid else "")
        _settle(payment, card=card.card, declined=declined)
        payment = _insert(payment, refuse_taken=True)
        if payment.status == Status.PAID:
            _notify(payment, "paid")
    return payment
