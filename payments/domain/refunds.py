"""The refund account a paid virtual account's cancel pays back to (PortOne's ``refund_holder``,
``refund_bank``, ``refund_account`` of ``POST /payments/cancel``, required there for a virtual
account): read once here, for the REST cancel and the console's Cancel alike.

The account number is the buyer's: it is never kept whole. The cancel's audit row holds it
masked (``mask_account``: every digit but the last four hidden; PortOne documents no account
mask, so the card mask's rule of thumb, keep the last four, is followed), and nothing logs it.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from channels.catalog import codes
from payments.domain.errors import PaymentError, Refusal
from payments.domain.inputs import read_text
from payments.models import Payment, PayMethod, Status

HOLDER_MAX = 50
NUMBER = re.compile(r"[0-9](?:[0-9-]{4,28})[0-9]")  # 6 to 30 characters, digits and dashes
NUMBER_DIGITS = (6, 20)


def mask_account(number: str) -> str:
    """``110-123-456789`` → ``*********6789``: the digits only, all but the last four hidden."""
    digits = re.sub(r"[^0-9]", "", number)
    return "*" * (len(digits) - 4) + digits[-4:]


@dataclass(frozen=True)
class RefundAccount:
    holder: str
    bank_code: str
    bank_name: str
    number: str  # digits and dashes, as given; never stored whole

    def __repr__(self):  # an error report or a log line never shows the number
        return f"RefundAccount({self.holder!r}, {self.bank_code!r}, {self.masked!r})"

    @property
    def masked(self) -> str:
        return mask_account(self.number)


def needs_refund_account(payment: Payment) -> bool:
    """A paid virtual account: the money came by transfer, so a cancel pays it back to an
    account the buyer names (a card or a transfer is cancelled on its own way back)."""
    return payment.pay_method == PayMethod.VBANK and payment.status == Status.PAID


@sensitive_variables("number", "digits")
def read_refund_account(payment: Payment, *, holder=None, bank=None, number=None) -> RefundAccount | None:
    """The refund account of a cancel of ``payment``: required (all three) for a paid virtual
    account, where a missing or malformed one is a ``PaymentError`` F400 that names the field;
    ignored for any other payment (None)."""
    if not needs_refund_account(payment):
        return None
    holder = read_text({"refund_holder": holder}, "refund_holder", HOLDER_MAX, required=True)
    code = read_text({"refund_bank": bank}, "refund_bank", 8, required=True)
    found = codes.bank_for_standard_code(code) or codes.bank_for_code(payment.pg_provider, code)
    if found is None:
        raise PaymentError(Refusal.INVALID, _("Unknown refund_bank “%(code)s”: give the bank's 3-digit code, e.g. "
                                     "004 for KB Kookmin Bank.") % {"code": code})
    number = "" if number is None else str(number).strip()
    digits = re.sub(r"-", "", number)
    if not number:
        raise PaymentError(Refusal.INVALID, _("%(field)s is required.") % {"field": "refund_account"})
    if not NUMBER.fullmatch(number) or not NUMBER_DIGITS[0] <= len(digits) <= NUMBER_DIGITS[1]:
        raise PaymentError(Refusal.INVALID, _("refund_account takes an account number: 6 to 20 digits, dashes "
                                     "between them allowed."))
    return RefundAccount(holder=holder, bank_code=code, bank_name=str(found.name), number=number)
