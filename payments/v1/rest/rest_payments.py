"""The payments part of the i'mport-compatible REST API: ``GET /payments/{imp_uid}``,
``GET /payments``, ``find``, ``findAll``, ``status``, ``POST /payments/cancel`` and the
amount pre-registration ``/payments/prepare``.

Same door as the rest of the API (``console.rest.base.ImportView``): the token, the IP whitelist,
the Tier header and the envelope on every answer. A payment of another merchant is unknown
here (404), as is one of a sub-merchant asked without its Tier header.
"""

import time
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
)

from console.rest.base import ImportView, envelope, operation, responses
from console.tenancy.audit import Actor
from console.tenancy.client_ip import client_ip
from payments.domain import cancels, orders
from payments.domain.errors import Refusal as Refused
from payments.selectors import payments as payment_selectors
from payments.v1.annotation import payment_annotation

from . import serializers as s
from .refusals import answer, answered

# Each operation's ``responses`` are the statuses PortOne's V1 contract documents for it, and the
# door's own (403: the IP whitelist); a refusal with another status is answered HTTP 200 with its
# non-zero code (``console.rest.base.answered_status``; tests/payments/test_rest_refusals.py).


def _no_payment():
    return answer(Refused.NOT_FOUND, _("No such payment."))


def _bad_status():
    return answer(Refused.INVALID, _("This payment_status is not supported."))


def _prepared(preparation) -> dict:
    return {"merchant_uid": preparation.merchant_uid, "amount": preparation.amount, "currency": "KRW"}


def _path(name: str, example: str, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.PATH, examples=[OpenApiExample(name, value=example)],
                            **kwargs)


def _status_path(*extra: str) -> OpenApiParameter:
    return _path("payment_status", "paid", enum=[*extra, *s.STATUSES])


@operation("get", operation_id="getPayment", parameters=[_path("imp_uid", "imp_000000000000")],
               summary="One payment of the caller (another merchant's, or a sub-merchant's asked "
                       "without its Tier header, is a 404)",
               responses=responses(s.PaymentAnswer, 401, 403, 404))
class PaymentView(ImportView):
    def get(self, request, imp_uid):
        found = payment_selectors.payment_for_api(merchant_id=self.merchant.pk, imp_uid=imp_uid)
        if found is None:
            raise _no_payment()
        return envelope(payment_annotation(found))


@operation("post", operation_id="registerPreparedAmount", request=s.PrepareRequest,
           responses=responses(s.PreparedAnswer, 401, 403),
           summary="Register an order's amount before the window (a window of another amount for it fails)")
@operation("put", operation_id="changePreparedAmount", request=s.PrepareRequest,
           responses=responses(s.PreparedAnswer, 401, 403, 404), summary="Change an order's registered amount")
class Prepare(ImportView):
    body_hint = "The body must be JSON or a form with merchant_uid and amount."

    def post(self, request):
        return self._register(request, update=False)

    def put(self, request):
        return self._register(request, update=True)

    def _register(self, request, *, update: bool):
        data = self.valid(s.PrepareRequest, self.body(request))
        registered = answered(lambda: orders.prepare(merchant=self.merchant, merchant_uid=data["merchant_uid"],
                                                     amount=data["amount"], update=update))
        return envelope(_prepared(registered))


@operation("get", operation_id="getPreparedAmount", summary="The amount registered for an order",
               parameters=[_path("merchant_uid", "order_1")],
               responses=responses(s.PreparedAnswer, 401, 403))
class Prepared(ImportView):
    def get(self, request, merchant_uid):
        found = payment_selectors.preparation_for_api(merchant_id=self.merchant.pk, merchant_uid=merchant_uid)
        if found is None:
            raise answer(Refused.NOT_FOUND, _("No amount is registered for this merchant_uid."))
        return envelope(_prepared(found))


# --- lists ---------------------------------------------------------------------------


def _paged(view: ImportView, query: dict, queryset):
    """PortOne's PagedPaymentAnnotation: total, previous and next page (0 for none), list."""
    page, limit = query["page"], query["limit"]
    total = queryset.count()
    start = (page - 1) * limit
    if total and start >= total:
        raise answer(Refused.INVALID, _("page %(page)s is past the last page (%(last)s).")
                     % {"page": page, "last": -(-total // limit)})
    rows = list(queryset[start:start + limit])
    return envelope({"total": total, "previous": page - 1 if page > 1 else 0,
                     "next": page + 1 if start + limit < total else 0,
                     "list": [payment_annotation(p) for p in rows]})


@operation("get", operation_id="getPayments", parameters=[s.UidsQuery],
               summary="The caller's payments among these imp_uid[] and merchant_uid[] (207 when "
                       "some are not found)",
               responses={**responses(s.PaymentsAnswer, 401, 403, 404), 207: s.PaymentsAnswer})
class Payments(ImportView):
    def get(self, request):
        imp_uids = request.query_params.getlist("imp_uid[]") or request.query_params.getlist("imp_uid")
        merchant_uids = (request.query_params.getlist("merchant_uid[]")
                         or request.query_params.getlist("merchant_uid"))
        found = payment_selectors.payments_by_uids(merchant_id=self.merchant.pk, imp_uids=imp_uids,
                                                   merchant_uids=merchant_uids)
        if not found:
            raise answer(Refused.NOT_FOUND, _("No payment of this merchant matches these imp_uid[] or merchant_uid[]."))
        missing = set(imp_uids) - {p.imp_uid for p in found}
        missing |= set(merchant_uids) - {p.merchant_uid for p in found}
        return envelope([payment_annotation(p) for p in found], status=207 if missing else 200)


class _OrderPayments(ImportView):
    """find and findAll alike: the caller's payments of one order, of one status or all."""

    query = s.SortingQuery

    def _found(self, request, merchant_uid, payment_status):
        if payment_status not in (None, "", *s.STATUSES):
            raise _bad_status()
        query = self.valid(self.query, request.query_params)
        found = payment_selectors.payments_of_order(merchant_id=self.merchant.pk, merchant_uid=merchant_uid,
                                                    status=payment_status or None, sorting=query["sorting"])
        return query, found


@operation("get", operation_id="findPayment", summary="The latest payment of an order, of one status",
               parameters=[_path("merchant_uid", "order_1"), _status_path(), s.SortingQuery],
               responses=responses(s.PaymentAnswer, 401, 403, 404))
class Find(_OrderPayments):
    def get(self, request, merchant_uid, payment_status=None):
        _query, found = self._found(request, merchant_uid, payment_status)
        latest = found.first()
        if latest is None:
            raise _no_payment()
        return envelope(payment_annotation(latest))


@operation("get", operation_id="findAllPayments", summary="Every payment of an order, of one status, page by page",
               parameters=[_path("merchant_uid", "order_1"), _status_path(), s.PageQuery],
               responses=responses(s.PagedPaymentsAnswer, 400, 401, 403, 404))
class FindAll(_OrderPayments):
    query = s.PageQuery

    def get(self, request, merchant_uid, payment_status=None):
        query, found = self._found(request, merchant_uid, payment_status)
        if not found.exists():
            raise _no_payment()
        return _paged(self, query, found)


@operation("get", operation_id="getPaymentsByStatus",
               summary="The caller's payments of a status started between from and to (UNIX seconds; by "
                       "default the 90 days up to now; from after to lists nothing), page by page",
               parameters=[_status_path("all"), s.StatusQuery],
               responses=responses(s.PagedPaymentsAnswer, 400, 401, 403))
class ByStatus(ImportView):
    def get(self, request, payment_status):
        if payment_status not in ("all", *s.STATUSES):
            raise _bad_status()
        query = self.valid(s.StatusQuery, request.query_params)
        end = query.get("to", int(time.time()))
        start = min(query.get("from", end - 90 * 86400), end + 1)  # from after to: an empty range
        found = payment_selectors.payments_by_status(
            merchant_id=self.merchant.pk, status=payment_status, start=datetime.fromtimestamp(start, UTC),
            end=datetime.fromtimestamp(end, UTC), sorting=query["sorting"])
        return _paged(self, query, found)


# --- cancel ----------------------------------------------------------------------------


@operation("post", operation_id="cancelPayment", summary="Cancel a payment in full or in part",
               description="By imp_uid, else merchant_uid. No amount (or 0): the rest. checksum: the "
                           "amount the caller believes is left; when it differs nothing is cancelled. "
                           "PortOne documents it with 200 and 401 only: every refusal (no uid, an "
                           "unknown payment, cancelled already…) answers 200 with a non-zero code.",
               request=s.CancelRequest, responses=responses(s.PaymentAnswer, 401, 403))
class Cancel(ImportView):
    """POST /payments/cancel. PortOne documents it with 200 and 401 only, so every refusal (no
    imp_uid or merchant_uid, an unknown payment, cancelled already, more than is left, a checksum
    that does not match) is HTTP 200 with a non-zero ``code`` and the reason, as i'mport answers."""

    body_hint = "The body must be JSON or a form with imp_uid or merchant_uid."

    def post(self, request):
        data = self.valid(s.CancelRequest, self.body(request))
        imp_uid = (data.get("imp_uid") or "").strip()
        merchant_uid = (data.get("merchant_uid") or "").strip()
        if imp_uid:
            target = payment_selectors.payment_for_api(merchant_id=self.merchant.pk, imp_uid=imp_uid)
        else:
            target = payment_selectors.payments_of_order(
                merchant_id=self.merchant.pk, merchant_uid=merchant_uid, status=None,
                sorting="-started").exclude(status="failed").first()
        if target is None:
            raise answer(Refused.NOT_FOUND, _("No payment to cancel exists."))
        amount = data.get("amount")
        answered(lambda: cancels.payment_cancel(
            actor=Actor(api_key=self.api_key, ip=client_ip(request)), payment=target,
            amount=None if amount in (None, "", 0, "0") else amount, reason=data.get("reason") or "",
            checksum=data.get("checksum"), tax_free=data.get("tax_free"),
            refund_holder=data.get("refund_holder"), refund_bank=data.get("refund_bank"),
            refund_account=data.get("refund_account")))
        cancelled = payment_selectors.payment_for_api(merchant_id=self.merchant.pk, imp_uid=target.imp_uid)
        return envelope(payment_annotation(cancelled))

