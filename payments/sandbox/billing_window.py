"""A billing key issued through the sandbox window: ``customer_uid`` in ``IMP.request_pay`` on
a channel of the window subscription module (issue 15; docs/sandbox-payments.md, "Billing
keys from the window").

PortOne's window asks the buyer for a card; the sandbox's asks for none: the tester chooses
one of the test cards (``payments.sandbox.cards``) and the key keeps it, masked. As at PortOne
the window is a payment record of its own, with the ``customer_uid``:

- ``amount`` 0, or any amount on a PG that does not pay at issuance
  (``channels.catalog.can_pay_at_issuance``; the amount is then only shown): a payment of
  0 won, ``customer_uid_usage`` "issue", ``paid`` when the key is issued;
- an amount on a PG that pays at issuance: that amount, paid with the new key when it is
  issued, ``customer_uid_usage`` "payment". A card that declines payments fails it, and no
  key is issued.

Issuing sends the webhook ``paid`` (PortOne notifies an issuance through the window), after
the commit. A card refused at issuance, **Fail** and **Close** fail the window as a payment
window fails: no key, no webhook. Issuing twice (a double click, a second tab on the same
order) finds the payment paid and issues nothing more: one key, one webhook.
"""

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels import catalog
from channels.catalog import Module
from console.tenancy.audit import Actor
from payments.domain.billing_keys import billing_key_issue_from_window, require_issuance
from payments.domain.errors import PaymentError, Refusal
from payments.domain.inputs import (
    parse_amount,
    read_channel,
    read_customer_uid,
)
from payments.domain.lifecycle import fail, notify
from payments.domain.merchants import find_channel, merchant_by_code
from payments.models import CustomerUidUsage, Payment, PayMethod, Status
from payments.sandbox import cards
from payments.sandbox.window import (
    locked_open,
    read_window_order,
    refuse_undecidable,
    window_payment_open,
)


def read_issuance_amount(value) -> int:
    """What a billing key's window may ask: 0 (the key only), or a whole number of won as
    for a payment."""
    if not isinstance(value, bool) and (value == 0 or (isinstance(value, str) and value.strip() == "0")):
        return 0
    try:
        return parse_amount(value)
    except PaymentError as exc:
        raise PaymentError(exc.code, _("%(why)s With customer_uid, an amount of 0 issues the billing key "
                                       "only.") % {"why": exc.message}, pg_code=exc.pg_code) from exc


def pays_at_issuance(payment: Payment) -> bool:
    return payment.customer_uid_usage == CustomerUidUsage.PAYMENT


def window_open(*, merchant_code: str, tier_code: str | None, params: dict, user_agent: str = "") -> Payment:
    """The window for ``IMP.request_pay`` with ``customer_uid``: a ``ready`` payment on the
    enabled test channel of the window subscription module that ``channelKey`` or ``pg``
    names (without either: the default channel when it is of that module, else the only one),
    whose PG issues keys through the window. The same order opened again (a second tab) is
    the same payment."""
    merchant = merchant_by_code(merchant_code, tier_code)
    customer_uid = read_customer_uid(params.get("customer_uid"))
    asked = read_issuance_amount(params.get("amount"))
    order = read_window_order(params, user_agent=user_agent)
    if order["pay_method"] != PayMethod.CARD:
        raise PaymentError(Refusal.INVALID, _("The sandbox issues billing keys in the window for pay_method "
                                     "card only."))
    channel = find_channel(
        merchant, module=Module.WINDOW_SUBSCRIPTION, **read_channel(params))
    require_issuance(channel, catalog.Issuance.WINDOW)
    pays = asked > 0 and catalog.can_pay_at_issuance(channel.pg_provider, order["pay_method"])
    return window_payment_open(
        merchant=merchant, channel=channel, order=order, amount=asked if pays else 0, asked_amount=asked,
        customer_uid=customer_uid,
        customer_uid_usage=CustomerUidUsage.PAYMENT if pays else CustomerUidUsage.ISSUE)


def window_issue(*, actor: Actor, imp_uid: str, token: str, test_card: str) -> Payment:
    """**Issue billing key**: the key of the window's ``customer_uid`` holds ``test_card`` (a
    key of ``cards.BY_KEY``; issuing again under a ``customer_uid`` replaces its card, and the
    replacement is audited with ``actor``, whoever pressed the button), and the window's
    payment is paid. A card the PG refuses (at issuance, or for the payment when
    the window pays) fails the window instead."""
    card = cards.BY_KEY.get(str(test_card or ""))
    if card is None:
        raise PaymentError(Refusal.INVALID, _("Choose a test card from the list."))
    with transaction.atomic():
        payment = locked_open(imp_uid, token)
        if payment.status == Status.PAID:
            return payment  # issued already (double click, second tab): nothing more
        if not payment.customer_uid:
            raise PaymentError(Refusal.CONFLICT, _("This window pays an order: it issues no billing key."))
        if not payment.is_open:
            raise PaymentError(Refusal.CONFLICT, _("This payment is %(status)s: no billing key can be issued in "
                                         "this window now.") % {"status": payment.get_status_display().lower()})
        if refuse_undecidable(payment):  # an amount paid at issuance that differs from the registered one
            return payment
        pays = pays_at_issuance(payment)
        declined = cards.CardIn(card=card, expired=False).decline(issuing=not pays)
        if declined:
            return fail(payment, *declined)  # no key, no webhook: a failed window
        # The channel is looked up again: one disabled since the window opened refuses.
        key = billing_key_issue_from_window(
            actor=actor, imp_uid=payment.imp_uid, merchant=payment.merchant, customer_uid=payment.customer_uid,
            channel_key=payment.channel_key, test_card=card.key, customer_name=payment.buyer_name, customer_tel=payment.buyer_tel,
            customer_email=payment.buyer_email, customer_addr=payment.buyer_addr,
            customer_postcode=payment.buyer_postcode)
        payment.billing_key = key
        payment.status, payment.paid_at = Status.PAID, timezone.now()
        payment.pg_tid = f"sandbox_{secrets.token_hex(10)}"
        payment.card_code, payment.card_name = card.card_code, card.card_name
        payment.card_number, payment.card_type = card.masked, card.card_type
        if pays:
            payment.apply_num = f"{secrets.randbelow(10**8):08d}"
        payment.save()
        # i'mport tells a V1 endpoint "paid"; a V2 endpoint hears BillingKey.Issued, then, when
        # the issuance paid an amount, Transaction.Paid (V1 was told once already).
        notify(payment, "billing_key_issued", billing_key=payment.customer_uid)
        if pays:
            notify(payment, "paid", v2_only=True)
    return payment


def card_choices(*, pays: bool) -> list[tuple[str, list[tuple[str, str]]]]:
    """The test cards as the window offers them, in plain words: (group, [(key, label)])."""
    approving, declining = [], []
    for card in cards.TEST_CARDS:
        number = f"{card.card_name} {card.masked}"
        if card.approves:
            what = _("Approves (check card)") if card.card_type == 1 else _("Approves")
            approving.append((card.key, f"{what} · {number}"))
            continue
        reason = cards.pg_error_label(card.error_code)
        if card.declines_at_issuance or pays:
            what = _("Fails with %(code)s, no key: %(reason)s") % {"code": card.error_code, "reason": reason}
        else:
            what = _("Issues the key; each payment with it fails with %(code)s: %(reason)s") % {
                "code": card.error_code, "reason": reason}
        declining.append((card.key, f"{what} · {number}"))
    return [(_("Cards that approve"), approving), (_("Cards that decline"), declining)]

