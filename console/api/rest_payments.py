"""The payments part of the i'mport-compatible REST API (issue 14, part one):
``GET /payments/{imp_uid}`` and the amount pre-registration ``/payments/prepare``.

Same door as the rest of the API (``rest.py``): the token, the IP whitelist, the Tier header
and the envelope on every answer. A payment of another merchant is unknown here (404), as is
one of a sub-merchant asked without its Tier header.
"""

import time
from datetime import UTC, datetime

from django.http import JsonResponse

from console.tenancy.audit import Actor
from console.tenancy.client_ip import client_ip
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.annotation import payment_annotation

from .rest import _authenticated, _body, _fail, envelope, rest_view


def _prepared(preparation) -> dict:
    return {"merchant_uid": preparation.merchant_uid, "amount": preparation.amount, "currency": "KRW"}


@rest_view("GET")
def payment(request, imp_uid):
    _key, merchant, error = _authenticated(request)
    if error:
        return error
    found = payment_selectors.payment_for_api(merchant_id=merchant.pk, imp_uid=imp_uid)
    if found is None:
        return _fail(404, f"No payment of this merchant has the imp_uid {imp_uid!r}.")
    return envelope(payment_annotation(found))


@rest_view("POST", "PUT")
def prepare(request):
    _key, merchant, error = _authenticated(request)
    if error:
        return error
    data = _body(request)
    if data is None:
        return _fail(400, "The body must be JSON or a form with merchant_uid and amount.")
    currency = str(data.get("currency") or "KRW").upper()
    if currency != "KRW":
        return _fail(400, "The sandbox takes amounts in KRW only.")
    try:
        registered = payment_services.prepare(merchant=merchant, merchant_uid=data.get("merchant_uid"),
                                              amount=data.get("amount"), update=request.method == "PUT")
    except payment_services.PaymentError as exc:
        return _fail(404 if exc.code == "F404" else 400, exc.message)
    return envelope(_prepared(registered))


@rest_view("GET")
def prepared(request, merchant_uid):
    _key, merchant, error = _authenticated(request)
    if error:
        return error
    found = payment_selectors.preparation_for_api(merchant_id=merchant.pk, merchant_uid=merchant_uid)
    if found is None:
        return _fail(404, f"No amount is registered for the merchant_uid {merchant_uid!r}.")
    return envelope(_prepared(found))


# --- lists ---------------------------------------------------------------------------

STATUSES = ("ready", "paid", "cancelled", "failed")
MAX_LIMIT = 1000  # as the contract says


def _sorting(request) -> tuple[str | None, str | None]:
    sorting = request.GET.get("sorting") or "-started"
    if sorting not in payment_selectors.SORTING:
        return None, f"sorting must be one of {', '.join(payment_selectors.SORTING)}."
    return sorting, None


def _int_param(request, name: str, default: int, *, low: int, high: int) -> tuple[int | None, str | None]:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default, None
    if not raw.isdigit() or not low <= int(raw) <= high:
        return None, f"{name} must be a whole number from {low} to {high}."
    return int(raw), None


def _paged(request, queryset):
    """PortOne's PagedPaymentAnnotation: total, previous and next page (0 for none), list."""
    page, problem = _int_param(request, "page", 1, low=1, high=10**6)
    limit, problem2 = _int_param(request, "limit", 20, low=1, high=MAX_LIMIT)
    if problem or problem2:
        return _fail(400, problem or problem2)
    total = queryset.count()
    start = (page - 1) * limit
    if total and start >= total:
        return _fail(400, f"page {page} is past the last page ({-(-total // limit)}).")
    rows = list(queryset[start:start + limit])
    return envelope({"total": total, "previous": page - 1 if page > 1 else 0,
                     "next": page + 1 if start + limit < total else 0,
                     "list": [payment_annotation(p) for p in rows]})


@rest_view("GET")
def payments(request):
    _key, merchant, error = _authenticated(request)
    if error:
        return error
    imp_uids = request.GET.getlist("imp_uid[]") or request.GET.getlist("imp_uid")
    merchant_uids = request.GET.getlist("merchant_uid[]") or request.GET.getlist("merchant_uid")
    found = payment_selectors.payments_by_uids(merchant_id=merchant.pk, imp_uids=imp_uids,
                                               merchant_uids=merchant_uids)
    if not found:
        return _fail(404, "No payment of this merchant matches these imp_uid[] or merchant_uid[].")
    missing = set(imp_uids) - {p.imp_uid for p in found}
    missing |= set(merchant_uids) - {p.merchant_uid for p in found}
    return envelope([payment_annotation(p) for p in found], status=207 if missing else 200)


def _status(raw: str | None) -> tuple[str | None, JsonResponse | None]:
    if raw in (None, ""):
        return None, None
    if raw not in STATUSES:
        return None, _fail(400, f"payment_status must be one of {', '.join(STATUSES)}.")
    return raw, None


def _order_payments(request, merchant_uid, payment_status):
    """find and findAll alike: the caller's payments of one order (a sorted queryset), of one
    status or all, or the error to answer."""
    _key, merchant, error = _authenticated(request)
    if error:
        return None, None, error
    status, error = _status(payment_status)
    sorting, problem = _sorting(request)
    if error or problem:
        return None, None, error or _fail(400, problem)
    return status, payment_selectors.payments_of_order(merchant_id=merchant.pk, merchant_uid=merchant_uid,
                                                       status=status, sorting=sorting), None


@rest_view("GET")
def find(request, merchant_uid, payment_status=None):
    status, found, error = _order_payments(request, merchant_uid, payment_status)
    if error:
        return error
    latest = found.first()
    if latest is None:
        return _fail(404, f"No payment of this merchant has the merchant_uid {merchant_uid!r}"
                          + (f" with the status {status}." if status else "."))
    return envelope(payment_annotation(latest))


@rest_view("GET")
def find_all(request, merchant_uid, payment_status=None):
    _status, found, error = _order_payments(request, merchant_uid, payment_status)
    if error:
        return error
    if not found.exists():
        return _fail(404, f"No payment of this merchant has the merchant_uid {merchant_uid!r}.")
    return _paged(request, found)


@rest_view("GET")
def by_status(request, payment_status):
    _key, merchant, error = _authenticated(request)
    if error:
        return error
    if payment_status not in ("all", *STATUSES):
        return _fail(400, f"payment_status must be one of all, {', '.join(STATUSES)}.")
    sorting, problem = _sorting(request)
    now = int(time.time())
    end, problem2 = _int_param(request, "to", now, low=0, high=2**31)
    start, problem3 = _int_param(request, "from", (end or now) - 90 * 86400, low=0, high=2**31)
    if problem or problem2 or problem3:
        return _fail(400, problem or problem2 or problem3)
    if start > end:  # an empty range: nothing in it
        start = end + 1
    found = payment_selectors.payments_by_status(
        merchant_id=merchant.pk, status=payment_status,
        start=datetime.fromtimestamp(start, UTC), end=datetime.fromtimestamp(end, UTC), sorting=sorting)
    return _paged(request, found)


# --- cancel ----------------------------------------------------------------------------


@rest_view("POST")
def cancel(request):
    """POST /payments/cancel. Input that is not a cancel request (no imp_uid or merchant_uid,
    an amount that is not one) is a 400; a refusal of the payment itself (cancelled already,
    more than is left, a checksum that does not match) is, as PortOne's contract gives it,
    HTTP 200 with a non-zero ``code`` and the reason; an unknown payment is a 404."""
    api_key, merchant, error = _authenticated(request)
    if error:
        return error
    data = _body(request)
    if data is None:
        return _fail(400, "The body must be JSON or a form with imp_uid or merchant_uid.")
    imp_uid, merchant_uid = str(data.get("imp_uid") or "").strip(), str(data.get("merchant_uid") or "").strip()
    if not imp_uid and not merchant_uid:
        return _fail(400, "Give imp_uid or merchant_uid of the payment to cancel.")
    if any(ord(c) < 32 for c in imp_uid + merchant_uid):
        return _fail(400, "imp_uid and merchant_uid contain no control characters.")
    if imp_uid:
        target = payment_selectors.payment_for_api(merchant_id=merchant.pk, imp_uid=imp_uid)
    else:
        target = payment_selectors.payments_of_order(merchant_id=merchant.pk, merchant_uid=merchant_uid,
                                                     status=None, sorting="-started").exclude(
            status="failed").first()
    if target is None:
        return _fail(404, "No payment of this merchant has this " + ("imp_uid." if imp_uid else "merchant_uid."))
    amount = data.get("amount")
    try:
        payment_services.payment_cancel(
            actor=Actor(api_key=api_key, ip=client_ip(request)), payment=target,
            amount=None if amount in (None, "", 0, "0") else amount, reason=str(data.get("reason") or ""),
            checksum=data.get("checksum"), tax_free=data.get("tax_free"))
    except payment_services.PaymentError as exc:
        if exc.code == "F400":
            return _fail(400, exc.message)
        return envelope(None, code=1, message=exc.message)
    cancelled = payment_selectors.payment_for_api(merchant_id=merchant.pk, imp_uid=target.imp_uid)
    return envelope(payment_annotation(cancelled))
