"""The sandbox's test cards, and reading the card data of a key-in payment or a billing key.

The sandbox charges no card: a card number is any well-formed one (15 or 16 digits with a
right check digit), and whatever the number, only its masked form (``mask``: the 7th to the
4th-last digits hidden, as PortOne answers) is ever kept. A number is known by that mask:
one masked like a card of ``TEST_CARDS`` (documented in docs/sandbox-payments.md, "Test
cards") does what that card does; any other approves, as the shop's own card does on a
PG's test MID. The functions that hold card data are ``sensitive_variables``, so an
error report shows none of it, and no message here repeats a number. The log filter
(``ops.log_filters``) masks any card-number-shaped run of digits a log line carries.

A test card approves, or declines with a PG error. Some declines come at once, when a
billing key is issued (an invalid card, an expired one, a wrong password: the PG checks
them then); the others (limit exceeded, a PG failure) issue a key and decline each payment
made with it, so a failed scheduled payment can be tried.
"""

import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from payments.domain.errors import PaymentError, Refusal

# The failures a tester can choose in the window (code, label); the label becomes
# ``fail_reason`` and the callback's ``error_msg``.
PG_ERRORS = [
    ("F1001", gettext_lazy("The card company declined: limit exceeded")),
    ("F1003", gettext_lazy("The card company declined: invalid card")),
    ("F1004", gettext_lazy("The card company declined: expired card")),
    ("F1005", gettext_lazy("The card company declined: wrong password")),
    ("F1099", gettext_lazy("The PG had a temporary failure")),
]

# PortOne's card company codes (card_code), for request_pay's card.direct.code, with the
# names PortOne answers.
CARD_COMPANIES = {
    "361": "BC카드", "364": "광주카드", "365": "삼성카드", "366": "신한카드", "367": "현대카드",
    "368": "롯데카드", "369": "수협카드", "370": "씨티카드", "371": "NH카드", "372": "전북카드",
    "373": "제주카드", "374": "하나카드", "381": "KB국민카드", "041": "우리카드", "071": "우체국카드",
}

CARD_NUMBER_LENGTHS = (15, 16)


def mask(digits: str) -> str:
    """``9410000070000000`` → ``941000******0000``: the 7th to the 4th-last digits hidden
    (PortOne's ``card_number``: "7~12번째 자리를 마스킹")."""
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


@dataclass(frozen=True)
class TestCard:
    __test__ = False  # a test card, not a pytest class

    key: str
    number: str  # as written in the guide: groups of digits ("" for a shop's own card)
    card_code: str  # PortOne's card company code
    card_name: str  # as PortOne answers it
    card_type: int | None  # 0 credit, 1 check card, None unknown
    error_code: str = ""  # a PG error (PG_ERRORS); "" approves
    declines_at_issuance: bool = False  # no billing key either
    own_mask: str = ""  # a shop's own card: its mask, all that is kept of it

    @property
    def digits(self) -> str:
        return re.sub(r"[ -]", "", self.number)

    @property
    def masked(self) -> str:
        return self.own_mask or mask(self.digits)

    @property
    def approves(self) -> bool:
        return not self.error_code


TEST_CARDS: tuple[TestCard, ...] = (
    TestCard("approve", "9410-0000-7000-0000", "361", "BC카드", 0),
    TestCard("approve_check", "9410-0000-2000-0001", "361", "BC카드", 1),
    TestCard("approve_shinhan", "5365-0000-4000-0000", "366", "신한카드", 0),
    TestCard("approve_15_digits", "3760-030000-00000", "367", "현대카드", 0),
    TestCard("limit_exceeded", "9410-0000-1000-1001", "361", "BC카드", 0, "F1001"),
    TestCard("invalid_card", "9410-0000-0000-1003", "361", "BC카드", 0, "F1003", True),
    TestCard("expired_card", "9410-0000-9000-1004", "361", "BC카드", 0, "F1004", True),
    TestCard("wrong_password", "9410-0000-4000-1005", "361", "BC카드", 0, "F1005", True),
    TestCard("pg_failure", "9410-0000-7000-1099", "361", "BC카드", 0, "F1099"),
)
BY_KEY = {card.key: card for card in TEST_CARDS}
_BY_DIGITS = {card.digits: card for card in TEST_CARDS}
_BY_MASKED = {card.masked: card for card in TEST_CARDS}
DEFAULT_CARD = BY_KEY["approve"]  # what a billing key issued through the window holds
EXPIRED_CODE = "F1004"
OWN_CARD_KEY = "own"
_MASKED = re.compile(r"[0-9]{6}\*{5,6}[0-9]{4}")


def own_card(masked: str) -> TestCard:
    """A shop's own card, known by its mask only: it approves. Its issuer is unknown to the
    sandbox (no PG is asked), so ``card_code``, ``card_name`` and ``card_type`` stay empty."""
    return TestCard(OWN_CARD_KEY, "", "", "", None, own_mask=masked)


def card_for_masked(masked: str) -> TestCard | None:
    """The card behind a masked number: the test card masked so (each masks differently), else
    a shop's own card; None for what is no mask at all."""
    if masked in _BY_MASKED:
        return _BY_MASKED[masked]
    return own_card(masked) if _MASKED.fullmatch(masked or "") else None


def pg_error_label(code: str) -> str:
    return str(dict(PG_ERRORS)[code])


@sensitive_variables("value", "text", "digits")
def read_card_number(value) -> TestCard:
    """The card ``value`` names (digits, with spaces or dashes between them allowed): a test
    card, or a shop's own (``card_for_masked``), or a ``PaymentError`` saying what is wrong;
    the message never repeats the number, and what is returned holds only its mask."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise PaymentError(Refusal.INVALID, _("card_number is required."))
    if len(text) > 40:
        raise PaymentError(Refusal.INVALID, _("card_number is too long: a card number has 15 or 16 digits."))
    digits = re.sub(r"[ -]", "", text)
    if not re.fullmatch(r"[0-9]+", digits):
        raise PaymentError(Refusal.INVALID, _("card_number takes digits only (spaces or dashes between them "
                                     "are allowed)."))
    if len(digits) not in CARD_NUMBER_LENGTHS:
        raise PaymentError(Refusal.INVALID, _("card_number has %(count)d digits: a card number has 15 or 16.")
                           % {"count": len(digits)})
    if not luhn_ok(digits):
        raise PaymentError(Refusal.INVALID, _("card_number is not a card number: its check digit is wrong."))
    return _BY_DIGITS.get(digits) or card_for_masked(mask(digits))


@sensitive_variables("value", "text")
def read_expiry(value) -> tuple[int, int]:
    """``YYYY-MM`` (or ``YYYYMM``) as (year, month)."""
    text = "" if value is None else str(value).strip()
    match = re.fullmatch(r"([0-9]{4})-?([0-9]{2})", text)
    if not text:
        raise PaymentError(Refusal.INVALID, _("expiry is required."))
    if match is None or not 1 <= int(match[2]) <= 12:
        raise PaymentError(Refusal.INVALID, _("expiry must be the card's expiry month as YYYY-MM, e.g. 2030-12."))
    return int(match[1]), int(match[2])


@sensitive_variables("birth", "pwd_2digit")
def check_holder(*, birth, pwd_2digit) -> None:
    """``birth`` (6 digits, or a corporate card's 10-digit business registration number) and
    ``pwd_2digit``, when given, have their shape; the sandbox keeps neither."""
    birth = "" if birth is None else str(birth).strip()
    pwd_2digit = "" if pwd_2digit is None else str(pwd_2digit).strip()
    if birth and not re.fullmatch(r"[0-9]{6}|[0-9]{10}", birth):
        raise PaymentError(Refusal.INVALID, _("birth must be 6 digits (YYMMDD), or the 10-digit business "
                                     "registration number for a corporate card."))
    if pwd_2digit and not re.fullmatch(r"[0-9]{2}", pwd_2digit):
        raise PaymentError(Refusal.INVALID, _("pwd_2digit must be the first 2 digits of the card's password."))


@dataclass(frozen=True)
class CardIn:
    """The card of one request, read: which test card, and whether its expiry has passed.
    Holds no number."""

    card: TestCard
    expired: bool

    def decline(self, *, issuing: bool) -> tuple[str, str] | None:
        """(PG error code, reason: a lazy translation, stored in Korean) when this card is refused: for a payment always, when a
        billing key is issued only for the declines the PG checks then."""
        if self.expired:
            return EXPIRED_CODE, dict(PG_ERRORS)[EXPIRED_CODE]
        if self.card.error_code and (not issuing or self.card.declines_at_issuance):
            return self.card.error_code, dict(PG_ERRORS)[self.card.error_code]
        return None


@sensitive_variables("card_number", "expiry", "birth", "pwd_2digit")
def read_card(*, card_number, expiry, birth=None, pwd_2digit=None) -> CardIn:
    """The card data of a key-in payment or a billing key, checked in the order a form shows
    them. Nothing of it is kept but the test card it names."""
    card = read_card_number(card_number)
    year, month = read_expiry(expiry)
    check_holder(birth=birth, pwd_2digit=pwd_2digit)
    now = timezone.localtime()
    return CardIn(card=card, expired=(year, month) < (now.year, now.month))
