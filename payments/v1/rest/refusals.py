"""The V1 REST API's side of the one refusal vocabulary (``payments.domain.errors.Refusal``),
written once: the HTTP status a refusal wants and i'mport's envelope ``code`` for it.

The status is only what is wanted: the door (``console.rest.base.answered_status``) answers it
when the operation documents it in PortOne's V1 contract (the views' ``operation(responses=…)``),
else HTTP 200 with the non-zero code, as i'mport answers a business refusal. So a missing
payment is a 404 from ``GET /payments/{imp_uid}`` (documented) and a 200 with code 1 from
``POST /payments/cancel`` (documented with 200 and 401 only).

The codes are those i'mport's clients see: 1 where something named is missing or in the way
(cancel of an unknown payment, unschedule of nothing), -1 where the request or the card is
refused (a missing field, an invalid card, a charge with an unknown billing key)."""

from console.rest.base import Refusal as Answer
from payments.domain.errors import PaymentError, Refusal

STATUS = {Refusal.INVALID: 400, Refusal.NOT_FOUND: 404, Refusal.CONFLICT: 400, Refusal.EXPIRED: 400,
          Refusal.DECLINED: 200}
CODE = {Refusal.INVALID: -1, Refusal.NOT_FOUND: 1, Refusal.CONFLICT: 1, Refusal.EXPIRED: -1,
        Refusal.DECLINED: -1}


def answer(code: Refusal, message: str) -> Answer:
    """The envelope's refusal for a refusal of the domain's vocabulary (raise it)."""
    return Answer(STATUS[code], message, code=CODE[code])


def refused(error: PaymentError) -> Answer:
    return answer(error.code, error.message)


def answered(call):
    """``call()``'s result, or its ``PaymentError`` as the V1 REST API answers it."""
    try:
        return call()
    except PaymentError as error:
        raise refused(error) from None
