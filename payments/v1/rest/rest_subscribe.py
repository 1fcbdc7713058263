"""The non-authenticated payments of the i'mport-compatible REST API (issue 15): key-in
(``/subscribe/payments/onetime``), billing keys (``/subscribe/customers``), payments with a
key (``/subscribe/payments/again``), scheduled payments (``/subscribe/payments/schedule``,
``unschedule``) and virtual accounts (``/vbanks``).

Same door as the rest (``console.rest.base.ImportView``). The services read and check the fields
(``payments.domain``: ``billing_keys``, ``charges``, ``schedules``, ``vbanks``) so the API and the console refuse the same
things in the same words; a refusal is answered as the V1 REST API answers the domain's
refusals (``refusals``): with a status the operation documents in PortOne's contract (each
view's ``responses``), else HTTP 200 with a non-zero code, as i'mport answers. A declined card
is not a refusal: the payment is ``failed``, answered with code 0 (check ``status``).
"""

from datetime import UTC, datetime

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema

from console.rest.base import ImportView, envelope, operation, responses
from console.tenancy.audit import Actor
from console.tenancy.client_ip import client_ip
from payments.domain import billing_keys, charges, schedules, vbanks
from payments.domain.errors import Refusal
from payments.selectors import billing as selectors
from payments.v1.annotation import customer_annotation, payment_annotation, schedule_annotation

from . import serializers as s
from .refusals import answer
from .refusals import answered as _answer


def _path(name: str, example: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.PATH, examples=[OpenApiExample(name, value=example)])


CARD_FIELDS = ("card_number", "expiry", "birth", "pwd_2digit", "cvc")
CUSTOMER_UID = _path("customer_uid", "customer_1")
MERCHANT_UID = _path("merchant_uid", "order_1")


def _fields(data, names) -> dict:
    return {name: data[name] for name in names if name in data and data[name] is not None}


# The fields each request passes on to the domain, which reads them (``payments.domain.inputs``).
_ORDER = tuple(s.ORDER_FIELDS)
_CARD = tuple(s.card_fields(required=False))
_CUSTOMER = tuple(s.CUSTOMER_FIELDS)


def _actor(view: ImportView, request) -> Actor:
    return Actor(api_key=view.api_key, ip=client_ip(request))


# --- key-in and payments with a key ------------------------------------------------------


@operation("post", operation_id="payOnetime", request=s.OnetimeRequest,
           summary="A key-in payment (card data, no window) on a test channel of the API key-in module",
           description="With customer_uid, a paid payment also stores the card as that billing key. "
                       "A declined test card is a failed payment, answered with code 0.",
           responses=responses(s.PaymentAnswer, 401, 403))
class Onetime(ImportView):
    sensitive_fields = CARD_FIELDS

    def post(self, request):
        data = self.valid(s.OnetimeRequest, self.body(request))
        payment = _answer(lambda: charges.keyin_pay(
            merchant=self.merchant, merchant_uid=data["merchant_uid"], amount=data["amount"],
            pg=data.get("pg") or "", customer_uid=data.get("customer_uid") or "", actor=_actor(self, request),
            **_fields(data, (*_CARD, *_ORDER, "customer_id"))))
        return envelope(payment_annotation(payment))


class Foreign(Onetime):
    """``POST /subscribe/payments/foreign``: i'mport's older door for a key-in payment with a card
    issued abroad, which PortOne's contract no longer lists but clients still call (iamporter's
    ``payForeign``, iamport-rest-client's ``pay_foreign``): ``merchant_uid``, ``amount``,
    ``card_number`` and ``expiry`` (no ``birth`` or ``pwd_2digit``, which a foreign card has
    not), the order's fields. The sandbox takes it as ``onetime`` does, on the API key-in
    module. Left out of the description (``openapi.SKIP``); its refusals answer as onetime's
    documented statuses say (HTTP 200 with i'mport's non-zero code)."""

    documented_like = "subscribe/payments/onetime"


@operation("post", operation_id="payAgain", request=s.AgainRequest,
           summary="A payment with the billing key of customer_uid",
           description="A declined card is a failed payment, answered with code 0.",
           responses=responses(s.PaymentAnswer, 401, 403))
class Again(ImportView):
    def post(self, request):
        data = self.valid(s.AgainRequest, self.body(request))
        payment = _answer(lambda: charges.payment_again(
            merchant=self.merchant, customer_uid=data["customer_uid"], merchant_uid=data["merchant_uid"],
            amount=data["amount"], **_fields(data, _ORDER)))
        return envelope(payment_annotation(payment))


# --- billing keys --------------------------------------------------------------------------


def _customer(view: ImportView, customer_uid: str):
    key = selectors.billing_key_for_api(merchant_id=view.merchant.pk, customer_uid=customer_uid)
    if key is None:
        raise answer(Refusal.NOT_FOUND, _("No billing key of this merchant has the customer_uid “%(uid)s”.")
                     % {"uid": customer_uid})
    return key


class Customer(ImportView):
    sensitive_fields = CARD_FIELDS

    @extend_schema(operation_id="getBillingKey", parameters=[CUSTOMER_UID],
                   summary="The billing key of customer_uid (a deleted one is unknown)",
                   responses=responses(s.CustomerAnswer, 401, 403, 404))
    def get(self, request, customer_uid):
        return envelope(customer_annotation(_customer(self, customer_uid)))

    @extend_schema(operation_id="issueBillingKey", parameters=[CUSTOMER_UID], request=s.CustomerRequest,
                   summary="Issue a billing key from card data on a test channel of the API subscription "
                           "module (issuing again under a customer_uid replaces its card)",
                   responses=responses(s.CustomerAnswer, 401, 403))
    def post(self, request, customer_uid):
        data = self.valid(s.CustomerRequest, self.body(request))
        key = _answer(lambda: billing_keys.billing_key_issue(
            merchant=self.merchant, customer_uid=customer_uid, pg=data.get("pg") or "", actor=_actor(self, request),
            **_fields(data, (*_CARD, *_CUSTOMER))))
        return envelope(customer_annotation(key))

    @extend_schema(operation_id="deleteBillingKey", parameters=[
        CUSTOMER_UID, OpenApiParameter("reason", str, OpenApiParameter.QUERY, required=False)],
        summary="Delete a billing key: it pays no more and its customer_uid is unknown from now on",
        responses=responses(s.CustomerAnswer, 401, 403, 404))
    def delete(self, request, customer_uid):
        key = _customer(self, customer_uid)
        reason = self.valid(s.ReasonQuery, request.query_params).get("reason", "")
        _answer(lambda: billing_keys.billing_key_delete(actor=_actor(self, request), merchant=self.merchant,
                                                        customer_uid=customer_uid, reason=reason))
        return envelope(customer_annotation(key))


@operation("get", operation_id="getBillingKeys", parameters=[s.CustomerUidsQuery],
           summary="The billing keys among these customer_uid[] (207 when some are unknown)",
           responses={**responses(s.CustomersAnswer, 401, 403, 404), 207: s.CustomersAnswer})
class Customers(ImportView):
    def get(self, request):
        uids = request.query_params.getlist("customer_uid[]") or request.query_params.getlist("customer_uid")
        if not uids:
            raise answer(Refusal.INVALID, _("Give at least one customer_uid[]."))
        if len(uids) > selectors.UIDS_MAX:
            raise answer(Refusal.INVALID, _("At most %(max)s customer_uid[] in one call.") % {"max": selectors.UIDS_MAX})
        found = selectors.billing_keys_by_uids(merchant_id=self.merchant.pk, customer_uids=uids)
        if not found:
            raise answer(Refusal.NOT_FOUND, _("No billing key of this merchant has these customer_uid[]."))
        missing = set(uids) - {key.customer_uid for key in found}
        return envelope([customer_annotation(key) for key in found], status=207 if missing else 200)


def _page(query: dict, queryset, annotate) -> dict:
    """One page as i'mport answers a list (``PagedPaymentAnnotation``'s shape, which the lists of
    schedules answer too): ``total``, the ``previous`` and ``next`` page (0 for none), ``list``."""
    page, limit = query["page"], query["limit"]
    total = queryset.count()
    start = (page - 1) * limit
    if total and start >= total:
        raise answer(Refusal.INVALID, _("page %(page)s is past the last page (%(last)s).")
                     % {"page": page, "last": -(-total // limit)})
    return {"total": total, "previous": page - 1 if page > 1 else 0, "next": page + 1 if page * limit < total else 0,
            "list": [annotate(row) for row in queryset[start:start + limit]]}


@operation("get", operation_id="getBillingKeyPayments", parameters=[CUSTOMER_UID, s.PageOnlyQuery],
           summary="The payments made with (or that issued) the billing key of customer_uid, page by page",
           responses=responses(s.PagedPaymentsAnswer, 401, 403, 404))
class CustomerPayments(ImportView):
    def get(self, request, customer_uid):
        _customer(self, customer_uid)
        query = self.valid(s.PageOnlyQuery, request.query_params)
        found = selectors.payments_of_customer(merchant_id=self.merchant.pk, customer_uid=customer_uid)
        return envelope(_page(query, found, payment_annotation))


# --- schedules ------------------------------------------------------------------------------


def _schedules(view: ImportView, query: dict, *, start: int, end: int, customer_uid=None):
    """A page of schedules. PortOne's contract gives these lists as a bare array
    (``ScheduleResponse``), but i'mport answers a page, which its clients read (the official
    Node and Java clients' ``total``/``previous``/``next``/``list``): the clients win."""
    found = _answer(lambda: selectors.schedules_between(
        merchant_id=view.merchant.pk, start=datetime.fromtimestamp(start, UTC),
        end=datetime.fromtimestamp(end, UTC), status=query.get("schedule_status"),
        customer_uid=customer_uid, oldest_first=query.get("sorting") == "scheduled"))
    return envelope(_page(query, found.select_related("payment"), schedule_annotation))


class Schedule(ImportView):
    sensitive_fields = CARD_FIELDS

    @extend_schema(operation_id="getSchedules", parameters=[s.ScheduleRangeQuery],
                   summary="The schedules due between schedule_from and schedule_to (UNIX seconds, at "
                           "most 92 days apart), page by page",
                   responses=responses(s.PagedSchedulesAnswer, 400, 401, 403))
    def get(self, request):
        query = self.valid(s.ScheduleRangeQuery, request.query_params)
        return _schedules(self, query, start=query["schedule_from"], end=query["schedule_to"])

    @extend_schema(operation_id="schedulePayments", request=s.ScheduleRequest,
                   summary="Schedule payments with the billing key of customer_uid (all or none; card "
                           "data issue the key first when there is none)",
                   responses=responses(s.SchedulesAnswer, 401, 403))
    def post(self, request):
        data = self.valid(s.ScheduleRequest, self.body(request))
        created = _answer(lambda: schedules.schedules_create(
            merchant=self.merchant, customer_uid=data["customer_uid"], schedules=data["schedules"],
            pg=data.get("pg") or "", **_fields(data, (*_CARD, "customer_id"))))
        return envelope([schedule_annotation(schedule) for schedule in created])


@operation("post", operation_id="unschedulePayments", request=s.UnscheduleRequest,
           summary="Cancel the schedules still to run of customer_uid, of merchant_uid, or of both",
           responses=responses(s.SchedulesAnswer, 401, 403))
class Unschedule(ImportView):
    def post(self, request):
        data = self.valid(s.UnscheduleRequest, self.body(request))
        revoked = _answer(lambda: schedules.schedules_revoke(
            actor=_actor(self, request), merchant=self.merchant, customer_uid=data.get("customer_uid") or "",
            merchant_uids=data.get("merchant_uid")))
        return envelope([schedule_annotation(schedule) for schedule in revoked])


class ScheduleOfOrder(ImportView):
    @extend_schema(operation_id="getSchedule", parameters=[MERCHANT_UID],
                   summary="The schedule of merchant_uid",
                   responses=responses(s.ScheduleAnswer, 401, 403, 404))
    def get(self, request, merchant_uid):
        found = selectors.schedule_for_api(merchant_id=self.merchant.pk, merchant_uid=merchant_uid)
        if found is None:
            raise answer(Refusal.NOT_FOUND, _("No schedule of this merchant has the merchant_uid “%(uid)s”.")
                         % {"uid": merchant_uid})
        return envelope(schedule_annotation(found))

    @extend_schema(operation_id="updateSchedule", parameters=[MERCHANT_UID], request=s.ScheduleAtRequest,
                   summary="A new time for a schedule still to run",
                   responses=responses(s.ScheduleAnswer, 400, 401, 403, 404))
    def put(self, request, merchant_uid):
        data = self.valid(s.ScheduleAtRequest, self.body(request))
        schedule = _answer(lambda: schedules.schedule_update(
            actor=_actor(self, request), merchant=self.merchant, merchant_uid=merchant_uid,
            schedule_at=data["schedule_at"]))
        return envelope(schedule_annotation(schedule))


@operation("post", operation_id="rescheduleSchedule", parameters=[MERCHANT_UID], request=s.ScheduleAtRequest,
           summary="Schedule again, at a new time, a schedule whose run failed or that was cancelled",
           responses=responses(s.ScheduleAnswer, 400, 401, 403, 404))
class Reschedule(ImportView):
    def post(self, request, merchant_uid):
        data = self.valid(s.ScheduleAtRequest, self.body(request))
        schedule = _answer(lambda: schedules.schedule_reschedule(
            actor=_actor(self, request), merchant=self.merchant, merchant_uid=merchant_uid,
            schedule_at=data["schedule_at"]))
        return envelope(schedule_annotation(schedule))


@operation("post", operation_id="retrySchedule", parameters=[MERCHANT_UID], request=None,
           summary="Run now, once, a schedule whose payment failed or that was cancelled",
           responses=responses(s.PaymentAnswer, 400, 401, 403, 404))
class Retry(ImportView):
    def post(self, request, merchant_uid):
        payment = _answer(lambda: schedules.schedule_retry(actor=_actor(self, request), merchant=self.merchant,
                                                           merchant_uid=merchant_uid))
        return envelope(payment_annotation(payment))


@operation("get", operation_id="getSchedulesOfCustomer", parameters=[CUSTOMER_UID, s.CustomerSchedulesQuery],
           summary="The schedules of customer_uid due between from and to (UNIX seconds, at most 92 days "
                   "apart), page by page",
           responses=responses(s.PagedSchedulesAnswer, 400, 401, 403))
class CustomerSchedules(ImportView):
    def get(self, request, customer_uid):
        query = self.valid(s.CustomerSchedulesQuery, request.query_params)
        query["schedule_status"] = query.pop("schedule-status", None)
        return _schedules(self, query, start=query["from"], end=query["to"], customer_uid=customer_uid)


# --- virtual accounts -----------------------------------------------------------------------


@operation("post", operation_id="issueVbank", request=s.VbankRequest,
           summary="Issue a virtual account (ready; a webhook says so) on a test channel",
           responses=responses(s.PaymentAnswer, 401, 403))
class Vbanks(ImportView):
    def post(self, request):
        data = self.valid(s.VbankRequest, self.body(request))
        payment = _answer(lambda: vbanks.vbank_issue(
            merchant=self.merchant, merchant_uid=data["merchant_uid"], amount=data["amount"],
            vbank_code=data["vbank_code"], vbank_due=data["vbank_due"],
            **_fields(data, ("vbank_holder", "vbank_num", "pg", "name", "buyer_name", "buyer_email", "buyer_tel",
                             "buyer_addr", "buyer_postcode", "custom_data", "notice_url"))))
        return envelope(payment_annotation(payment))


class Vbank(ImportView):
    @extend_schema(operation_id="updateVbank", parameters=[_path("imp_uid", "imp_000000000000")],
                   request=s.VbankChangeRequest,
                   summary="A new amount or due date for a virtual account that waits for its deposit",
                   responses=responses(s.PaymentAnswer, 400, 401, 403, 404))
    def put(self, request, imp_uid):
        data = self.valid(s.VbankChangeRequest, self.body(request))
        payment = _answer(lambda: vbanks.vbank_update(
            actor=_actor(self, request), merchant=self.merchant, imp_uid=imp_uid,
            amount=data.get("amount"), vbank_due=data.get("vbank_due")))
        return envelope(payment_annotation(payment))

    @extend_schema(operation_id="revokeVbank", parameters=[_path("imp_uid", "imp_000000000000")],
                   summary="Close a virtual account that waits for its deposit (the payment is cancelled)",
                   responses=responses(s.PaymentAnswer, 400, 401, 403, 404))
    def delete(self, request, imp_uid):
        payment = _answer(lambda: vbanks.vbank_revoke(actor=_actor(self, request), merchant=self.merchant,
                                                      imp_uid=imp_uid))
        return envelope(payment_annotation(payment))
