"""The PG behind the payments domain, as the domain sees it: one provider behind a small
interface, as django-payments keeps each gateway (its dummy one too) behind ``BasicProvider``.

The domain (billing keys, key-in and billing-key payments, schedules, virtual accounts,
cancels) asks the provider to read a request's card data, to say whether a card is refused
(for a payment, or when a billing key is issued), which card a billing key holds, for the PG's
transaction and approval numbers and virtual account numbers, and to refund; it never asks
which provider it is. PG Console has one: the sandbox PG (``payments.sandbox.provider``, named
by the setting ``PAYMENTS_PROVIDER``), which answers from its test cards and reaches no
network. A protocol over the same payments (PortOne V2 beside ``payments.v1``) reuses the
domain and this provider, not a copy of them.
"""

from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

# (PG error code, reason) when the PG refuses; None when it approves.
Decline = tuple[str, str] | None


class Card(Protocol):
    """A card as a payment and a billing key keep it: its company and its masked number,
    never the number itself."""

    card_code: str
    card_name: str
    masked: str
    card_type: int  # 0 credit, 1 check card


class CardData(Protocol):
    """The card data of one request, read by the provider: the card it names (and whatever the
    provider needs to refuse it, such as an expiry that has passed). Holds no number."""

    card: Card


class Provider(Protocol):
    def read_card(self, *, card_number, expiry, birth=None, pwd_2digit=None) -> CardData:
        """The card data of a key-in payment or a billing key, checked; a ``PaymentError``
        (``F400``) says what is wrong without repeating the number."""

    def card_of_billing_key(self, masked: str) -> Card | None:
        """The card behind a billing key's masked number, or None when the PG knows none."""

    def window_card(self, choice: str | None) -> Card | None:
        """The card the buyer gave the PG's window to issue a billing key (``None``: the
        provider's default), or None when ``choice`` names none."""

    def decline(self, card: "Card | CardData | None", *, issuing: bool) -> Decline:
        """Whether the PG refuses ``card``: for a payment (``issuing`` False), or as a billing
        key is issued with it (``issuing`` True: only what the PG checks then). A card the PG
        does not know (None) is refused as invalid."""

    def transaction_id(self) -> str:
        """A new PG transaction id (``pg_tid``) for an approval or an issued account."""

    def approval_number(self) -> str:
        """A new card approval number (``apply_num``)."""

    def vbank_number(self) -> str:
        """A new virtual account number."""

    def refund(self, *, payment, amount: int) -> str:
        """Refund ``amount`` of ``payment``; the PG's transaction id of the refund."""


@cache
def provider() -> Provider:
    """The provider ``PAYMENTS_PROVIDER`` names, made once per process."""
    return import_string(settings.PAYMENTS_PROVIDER)()
