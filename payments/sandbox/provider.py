"""The sandbox PG as the payments domain's provider (``payments.domain.provider.Provider``):
it answers from its test cards (``cards``) at once and reaches no network. Its numbers have
the shapes PortOne's PGs give (``sandbox_`` and hex for a transaction id, 8 digits for an
approval, ``0000-000000-0000`` for a virtual account)."""

import secrets

from django.views.decorators.debug import sensitive_variables

from payments.domain.provider import Decline
from payments.sandbox import cards

INVALID_CARD = "F1003"  # what a card the sandbox does not know is refused with


class SandboxProvider:
    @sensitive_variables("card_number", "expiry", "birth", "pwd_2digit")
    def read_card(self, *, card_number, expiry, birth=None, pwd_2digit=None) -> cards.CardIn:
        return cards.read_card(card_number=card_number, expiry=expiry, birth=birth, pwd_2digit=pwd_2digit)

    def card_of_billing_key(self, masked: str) -> cards.TestCard | None:
        return cards.card_for_masked(masked)

    def window_card(self, choice: str | None) -> cards.TestCard | None:
        """The test card the tester chose in the window (``cards.BY_KEY``); the approving card
        when no choice was given."""
        return cards.DEFAULT_CARD if choice is None else cards.BY_KEY.get(str(choice))

    def decline(self, card, *, issuing: bool) -> Decline:
        if card is None:
            return INVALID_CARD, dict(cards.PG_ERRORS)[INVALID_CARD]  # lazy: stored in Korean
        if not isinstance(card, cards.CardIn):  # a card kept by a billing key: its expiry was checked then
            card = cards.CardIn(card=card, expired=False)
        return card.decline(issuing=issuing)

    def transaction_id(self) -> str:
        return f"sandbox_{secrets.token_hex(10)}"

    def approval_number(self) -> str:
        return f"{secrets.randbelow(10**8):08d}"

    def vbank_number(self) -> str:
        return f"{secrets.randbelow(10**4):04d}-{secrets.randbelow(10**6):06d}-{secrets.randbelow(10**4):04d}"

    def refund(self, *, payment, amount: int) -> str:
        return f"sandbox_cancel_{secrets.token_hex(8)}"
