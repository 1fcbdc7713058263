"""Key-in payments and payments with a billing key: what ``POST /subscribe/payments/onetime``
and ``POST /subscribe/payments/again`` do, and what a schedule's run pays (``pay_with_key``).

The PG is the provider (``payments.domain.provider``; the sandbox's answers at once from the
test card behind a request), so nothing here waits on the network. Every write runs in one
transaction: a refused request saves nothing, and a payment commits together with its billing
key and the webhook it causes (``lifecycle.notify``, the outbox). A declined key-in or
billing-key payment is kept as a ``failed`` payment and returned (PortOne answers code 0 with
``status: failed``); like a failed window payment it sends no webhook. Refusals raise ``PaymentError``: ``Refusal.INVALID`` bad input,
``Refusal.NOT_FOUND`` an unknown ``customer_uid``, ``Refusal.CONFLICT`` a state that forbids it
(an order already paid), and ``Refusal.DECLINED`` with the PG's code in ``pg_code`` (``F1003``…)
when the card is refused as a billing key is issued.

A card number is read by the provider (``provider().read_card``) and never kept or logged:
only its masked form is stored.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from channels import catalog
from channels.catalog import Module
from channels.models import Channel, Mode
from console.models import Merchant
from console.tenancy.audit import SYSTEM, Actor
from payments.domain.billing_keys import (
    live_key,
    require_issuance,
    store_billing_key,
)
from payments.domain.errors import PaymentError, Refusal
from payments.domain.inputs import (
    ORDER_FIELDS,
    parse_amount,
    read_channel,
    read_currency,
    read_customer_id,
    read_customer_uid,
    read_merchant_uid,
    read_order,
    read_text,
)
from payments.domain.lifecycle import in_stored_language, notify, stored_text
from payments.domain.merchants import channel_problem, find_channel
from payments.domain.orders import order_taken
from payments.domain.provider import Card, provider
from payments.models import (
    CUSTOMER_UID_MAX,
    BillingKey,
    CustomerUidUsage,
    IssuedThrough,
    Payment,
    PayMethod,
    Schedule,
    Status,
)

# Why a payment with a billing key failed when the card had no say (sandbox codes, beside
# the PG errors of ``payments.sandbox.cards.PG_ERRORS``).
NO_BILLING_KEY = "F1101"
CHANNEL_UNUSABLE = "F1102"
ORDER_TAKEN = "F1103"


def _new_payment(*, merchant: Merchant, channel: Channel | None, key: BillingKey | None, merchant_uid: str,
                 amount: int, order: dict, customer_uid: str = "", usage: str = "",
                 pg_provider: str = "", pg_id: str = "") -> Payment:
    return Payment(
        merchant=merchant, channel=channel, merchant_uid=merchant_uid, amount=amount, pay_method=PayMethod.CARD,
        channel_type="api", mode=Mode.TEST, currency="KRW",
        pg_provider=channel.pg_provider if channel else pg_provider, pg_id=channel.mid if channel else pg_id,
        channel_key=channel.channel_key if channel else "", billing_key=key, customer_uid=customer_uid,
        customer_uid_usage=usage, **order)


def _settle(payment: Payment, *, card: Card | None, declined: tuple[str, str] | None) -> None:
    """Approve the payment, or fail it with the PG's (or the sandbox's) code and reason."""
    now = timezone.now()
    payment.pg_tid = provider().transaction_id()
    if card is not None:
        payment.card_code, payment.card_name = card.card_code, card.card_name
        payment.card_number, payment.card_type = card.masked, card.card_type
    if declined:
        payment.status, payment.failed_at = Status.FAILED, now
        payment.error_code, payment.fail_reason = declined[0], stored_text(declined[1])[:300]
    else:
        payment.status, payment.paid_at = Status.PAID, now
        payment.apply_num = provider().approval_number()


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
            raise PaymentError(Refusal.CONFLICT, _("This order is being paid by another request.")) from exc
        payment.paid_at, payment.apply_num = None, ""
        _settle(payment, card=None, declined=(ORDER_TAKEN, gettext_lazy("This order is being paid by another "
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
        _settle(payment, card=None, declined=(NO_BILLING_KEY, gettext_lazy("No billing key of this merchant has "
                                                                             "this customer_uid: it was deleted.")))
        return _insert(payment, refuse_taken=refuse_taken)
    channel = key.channel
    payment = _new_payment(merchant=merchant, channel=channel, key=key, merchant_uid=merchant_uid, amount=amount,
                           order=order, customer_uid=customer_uid, usage=usage, pg_provider=key.pg_provider,
                           pg_id=key.pg_id)
    card = provider().card_of_billing_key(key.card_number)
    with in_stored_language():  # the reasons a failed payment keeps
        problem = channel_problem(channel, merchant)
        taken = order_taken(merchant, merchant_uid, schedule=schedule)
    if problem:
        declined = (CHANNEL_UNUSABLE, problem)
    elif taken:
        declined = (ORDER_TAKEN, taken)
    else:  # a card the PG does not know (cannot happen through the services) is refused
        declined = provider().decline(card, issuing=False)
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
        if key is None:  # i'mport declines the charge (code -1), in its words
            raise PaymentError(Refusal.DECLINED, _("No buyer is registered with this customer_uid."))
        problem = channel_problem(key.channel, merchant) or order_taken(merchant, merchant_uid)
        if problem:
            raise PaymentError(Refusal.CONFLICT, problem)
        payment = pay_with_key(merchant=merchant, customer_uid=customer_uid, merchant_uid=merchant_uid,
                               amount=amount, order=order, usage=CustomerUidUsage.PAYMENT, refuse_taken=True)
        if payment.status == Status.PAID:
            notify(payment, "paid")
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
    card = provider().read_card(card_number=card_number, expiry=expiry, birth=birth, pwd_2digit=pwd_2digit)
    order = read_order({"name": name, "buyer_name": buyer_name, "buyer_email": buyer_email,
                        "buyer_tel": buyer_tel, "buyer_addr": buyer_addr, "buyer_postcode": buyer_postcode,
                        "custom_data": custom_data, "notice_url": notice_url, "card_quota": card_quota},
                       amount=amount)
    customer_uid = read_text({"customer_uid": customer_uid}, "customer_uid", CUSTOMER_UID_MAX)
    customer_id = read_customer_id(customer_id)
    channel = find_channel(merchant, module=Module.API_KEYIN, **read_channel({"pg": pg}))
    if customer_uid:
        require_issuance(channel, catalog.Issuance.API)
    declined = provider().decline(card, issuing=False)
    with transaction.atomic():
        taken = order_taken(merchant, merchant_uid)
        if taken:
            raise PaymentError(Refusal.CONFLICT, taken)
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
            notify(payment, "paid")
    return payment
