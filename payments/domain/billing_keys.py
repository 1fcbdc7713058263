"""Billing keys: issued from card data (``POST /subscribe/customers/{customer_uid}``), through the
window, with a key-in payment or a schedule; replaced; deleted. A billing key belongs to one
merchant (a sub-merchant's are its own): another merchant's ``customer_uid`` is unknown. A card
the PG refuses as a key is issued raises its PG error code (``F1003``…). A card number is read
by the provider (``provider().read_card``) and never kept or logged: only its masked form is
stored."""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from channels import catalog
from channels.catalog import Module
from channels.models import Channel
from console.models import Merchant
from console.tenancy.audit import SYSTEM, Actor, audit_record, snapshot
from console.tenancy.locks import lock_rows
from payments.audit import AuditAction
from payments.domain.errors import PaymentError, Refusal
from payments.domain.inputs import (
    CUSTOMER_FIELDS,
    max_length_of,
    read_channel,
    read_customer,
    read_customer_id,
    read_customer_uid,
    read_text,
)
from payments.domain.merchants import find_channel
from payments.domain.provider import Card, provider
from payments.models import BillingKey, IssuedThrough

# What a replacement's audit row compares (the card by its masked number only).
REPLACED_FIELDS = ("issued_through", "pg_provider", "pg_id", "card_name", "card_number", "card_type",
                   "customer_id", *CUSTOMER_FIELDS)


def require_issuance(channel: Channel, way: str) -> None:
    """The channel's PG issues billing keys ``way`` (the catalog's ``billing_key_issuance``)."""
    if way in catalog.billing_key_issuance(channel.pg_provider):
        return
    if way == catalog.Issuance.API:
        message = _("%(pg)s issues no billing keys through the API.")
    else:
        message = _("%(pg)s issues no billing keys through the payment window.")
    raise PaymentError(Refusal.INVALID, message % {"pg": channel.pg_string})


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
    return PaymentError(Refusal.NOT_FOUND, _("No billing key of this merchant has the customer_uid “%(uid)s”.")
                        % {"uid": customer_uid})


def store_billing_key(*, merchant: Merchant, customer_uid: str, channel: Channel, card: Card,
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
        raise PaymentError(Refusal.CONFLICT, _("A billing key for this customer_uid is being issued by another "
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
    card = provider().read_card(card_number=card_number, expiry=expiry, birth=birth, pwd_2digit=pwd_2digit)
    customer = read_customer({"customer_name": customer_name, "customer_tel": customer_tel,
                              "customer_email": customer_email, "customer_addr": customer_addr,
                              "customer_postcode": customer_postcode})
    customer_id = read_customer_id(customer_id)
    channel = find_channel(merchant, module=Module.API_SUBSCRIPTION, **read_channel({"pg": pg}))
    require_issuance(channel, catalog.Issuance.API)
    declined = provider().decline(card, issuing=True)
    if declined:
        raise PaymentError(Refusal.DECLINED, declined[1], pg_code=declined[0])
    with transaction.atomic():
        return store_billing_key(merchant=merchant, customer_uid=customer_uid, channel=channel, card=card.card,
                          through=IssuedThrough.API, customer=customer, customer_id=customer_id, actor=actor)


def billing_key_issue_from_window(*, merchant: Merchant, customer_uid: str, pg: str = "",
                                  channel_key: str = "", test_card: str | None = None,
                                  customer_name: str = "", customer_tel: str = "", customer_email: str = "",
                                  customer_addr: str = "", customer_postcode: str = "", actor: Actor = SYSTEM,
                                  imp_uid: str = "") -> BillingKey:
    """A billing key issued through the window ``imp_uid`` (``customer_uid`` in
    ``IMP.request_pay`` on a channel of the window subscription module, named by ``pg`` or
    ``channelKey`` as there). The window asks for no card data: the key holds the test card the
    tester chose (``test_card``, which the provider reads: ``provider().window_card``; the
    approving card by default).
    ``actor`` is whoever pressed the window's button (no login: an address)."""
    customer_uid = read_customer_uid(customer_uid)
    card = provider().window_card(test_card)
    if card is None:
        raise PaymentError(Refusal.INVALID, _("Choose a test card from the list."))
    customer = read_customer({"customer_name": customer_name, "customer_tel": customer_tel,
                              "customer_email": customer_email, "customer_addr": customer_addr,
                              "customer_postcode": customer_postcode})
    channel = find_channel(merchant, module=Module.WINDOW_SUBSCRIPTION,
                           **read_channel({"pg": pg, "channel_key": channel_key}))
    require_issuance(channel, catalog.Issuance.WINDOW)
    declined = provider().decline(card, issuing=True)
    if declined:
        raise PaymentError(Refusal.DECLINED, declined[1], pg_code=declined[0])
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
    reason = read_text({"reason": reason}, "reason", max_length_of(BillingKey, "delete_reason"))
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
