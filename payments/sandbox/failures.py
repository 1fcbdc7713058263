"""The failures a tester can choose in the sandbox window, by pay method: a card is declined
by its card company, a bank transfer by the bank, a virtual account is not issued, a phone
payment is refused by the carrier. Each method also has the PG's temporary failure. The codes
are the sandbox's (i'mport answers a PG's own code and message); docs/sandbox-payments.md
lists them. The label becomes ``fail_reason`` and the callback's ``error_msg``.
"""

from django.utils.translation import gettext_lazy

from payments.models import PayMethod
from payments.sandbox.cards import PG_ERRORS as CARD_ERRORS

PG_FAILURE = ("F1099", gettext_lazy("The PG had a temporary failure"))

BY_METHOD: dict[str, list[tuple[str, object]]] = {
    PayMethod.CARD: CARD_ERRORS,
    PayMethod.TRANS: [
        ("F1201", gettext_lazy("The bank declined: not enough balance")),
        ("F1202", gettext_lazy("The bank declined: the account cannot be used")),
        PG_FAILURE,
    ],
    PayMethod.VBANK: [
        ("F1301", gettext_lazy("No virtual account was issued: the bank is closed for maintenance")),
        PG_FAILURE,
    ],
    PayMethod.PHONE: [
        ("F1401", gettext_lazy("The carrier declined: monthly limit exceeded")),
        ("F1402", gettext_lazy("The carrier declined: wrong verification code")),
        PG_FAILURE,
    ],
    PayMethod.POINT: [
        ("F1501", gettext_lazy("The point provider declined: not enough points")),
        PG_FAILURE,
    ],
}


def for_method(pay_method: str) -> list[tuple[str, object]]:
    """The failures of this pay method, (code, label); a card's for a method not listed."""
    return BY_METHOD.get(pay_method, CARD_ERRORS)
