"""The payments domain's one error and its one vocabulary of refusals.

The domain says what a refusal means (``Refusal``); each protocol maps that to its own answer
once: the V1 REST API in ``payments.v1.rest.refusals`` (an HTTP status the operation documents,
i'mport's envelope code), the browser SDK and its window in ``payments.v1.sdk`` (``error_code``
and the page's status). A decline by the PG also carries the PG's own code (``pg_code``).
"""

from enum import StrEnum


class Refusal(StrEnum):
    INVALID = "invalid"  # the request itself is wrong: a missing or malformed field, an unknown code
    NOT_FOUND = "not_found"  # what it names does not exist for this merchant (a payment, a billing key…)
    CONFLICT = "conflict"  # the state forbids it: paid already, cancelled already, being changed right now
    EXPIRED = "expired"  # a window's token that is no longer valid
    DECLINED = "declined"  # the PG (the sandbox's test cards) declined it; ``pg_code`` says why


class PaymentError(Exception):
    """A refusal: what it means (``code``, a ``Refusal``), a ``message`` in the active language,
    and for a decline the PG's own code."""

    def __init__(self, code: Refusal, message: str, *, pg_code: str = ""):
        super().__init__(message)
        self.code, self.message, self.pg_code = Refusal(code), message, pg_code
