"""What the REST API reads and answers, as DRF serializers.

The request serializers validate what comes in; the answer serializers only describe what
goes out (the views build the answers as plain dicts, which is several times faster, and
schemathesis checks every answer against the description generated from these classes, so
they cannot drift apart). drf-spectacular turns both into /api/openapi.json.
"""

import copy

from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from console.rest.base import CONTROL_CHARACTERS as _CC  # never in a name, an order, a reason
from console.rest.base import NO_NUL as _NO_NUL
from console.rest.base import enveloped
from console.tenancy.inputs import ascii_int
from payments.domain.inputs import MAX_AMOUNT
from payments.models import MERCHANT_UID_MAX

MAX_WON = MAX_AMOUNT  # the domain's limit (payments.domain.inputs), described here
STATUSES = ("ready", "paid", "cancelled", "failed")
SORTING = ("-started", "started", "-paid", "paid", "-updated", "updated")


# --- fields ---------------------------------------------------------------------------------


class WholeNumberField(serializers.IntegerField):
    """A whole number of a query or body: a JSON integer, or ASCII digits
    (``console.tenancy.inputs.ascii_int``; DRF's ``int()`` reads ``٣`` as 3)."""

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        number = ascii_int(data.strip(), max_digits=20) if isinstance(data, str) else None
        if number is None:
            self.fail("invalid")
        return number


@extend_schema_field({
    "description": "Whole won, 1 to 10,000,000,000 (a number, or its digits as a string)",
    "oneOf": [{"type": "integer", "minimum": 1, "maximum": MAX_WON},
              {"type": "string", "pattern": "^[1-9][0-9]{0,9}$"}]})
class AmountField(serializers.Field):
    """An amount as sent: the service (``payments.domain.inputs.parse_amount``) reads it, so that
    the window, the console and the API refuse the same things with the same words."""

    def to_internal_value(self, data):
        return data


@extend_schema_field({
    "description": "Whole won; 0 or none: all that is left",
    "oneOf": [{"type": "integer", "minimum": 0, "maximum": MAX_WON},
              {"type": "string", "pattern": "^(0|[1-9][0-9]{0,9})$"}]})
class AmountOrZeroField(AmountField):
    pass


class UidField(serializers.CharField):
    """An order number or a customer_uid as sent: text, or a JSON integer read as its digits
    (``12345`` is ``"12345"``), as i'mport reads one (a form sends every value as text, and
    i'mport's server takes a JSON number in its place); a fraction, a negative number or
    true/false is no uid. The description says so (``openapi.add_constraints``: ``INTEGER_UID``)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid")
        if isinstance(data, int) and not 0 <= data <= INTEGER_UID["maximum"]:
            self.fail("invalid")
        return super().to_internal_value(data)


INTEGER_UID = {"type": "integer", "minimum": 0, "maximum": 10**15 - 1}  # 15 digits fit every uid


def order_field(**kwargs) -> serializers.CharField:
    """An order number (merchant_uid) as sent: a non-space character, no control characters."""
    return UidField(
        max_length=kwargs.pop("max_length", MERCHANT_UID_MAX), trim_whitespace=False,
        validators=[RegexValidator(f"^\\s*[^\\s{_CC}][^{_CC}]*$", "Give a value without control characters.")],
        **kwargs)


class QueryChoiceField(serializers.ChoiceField):
    """An optional choice of the query: empty (``sorting=``) is the same as absent, as
    i'mport's server reads an empty parameter (its default), so the description lists ``""``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(allow_blank=True, **kwargs)

    def to_internal_value(self, data):
        if data == "":
            return None if self.default is serializers.empty else self.default
        return super().to_internal_value(data)


# --- requests -------------------------------------------------------------------------------


class PrepareRequest(serializers.Serializer):
    merchant_uid = order_field()
    amount = AmountField()
    currency = serializers.ChoiceField(choices=["KRW"], required=False,
                                       help_text="The sandbox takes KRW only.")


# What a serializer cannot say by itself, added to its component in the description
# (``openapi.add_constraints``).
CONSTRAINTS = {"CancelRequest": {"anyOf": [{"required": ["imp_uid"]}, {"required": ["merchant_uid"]}]}}
REQUIRED_BODIES = (("/payments/cancel", "post"),)


class CancelRequest(serializers.Serializer):
    # Any length: an imp_uid longer than the sandbox's is simply no payment (i'mport's refusal).
    imp_uid = order_field(required=False, help_text="The payment; else merchant_uid")
    merchant_uid = order_field(required=False, help_text="The order's latest payment that did not fail")
    amount = AmountOrZeroField(required=False, allow_null=True)
    tax_free = AmountOrZeroField(required=False, allow_null=True)
    checksum = AmountField(required=False, allow_null=True,
                           help_text="The amount the caller believes is left to cancel: when it differs, "
                                     "nothing is cancelled; null (or none) checks nothing, as PortOne says")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, trim_whitespace=False,
                                   validators=[RegexValidator(f"^[^{_CC}]*$", "No control characters.")])
    # A paid virtual account's refund (payments.domain.refunds reads and checks them).
    refund_holder = serializers.CharField(max_length=50, required=False, allow_blank=True, allow_null=True,
                                          help_text="The refund account's holder (a paid virtual account)")
    refund_bank = serializers.CharField(max_length=8, required=False, allow_blank=True, allow_null=True,
                                        help_text="The refund account's bank code, e.g. 004")
    refund_account = serializers.CharField(max_length=30, required=False, allow_blank=True, allow_null=True,
                                           help_text="The refund account's number (kept masked)")

    def validate(self, attrs):
        if not (attrs.get("imp_uid") or "").strip() and not (attrs.get("merchant_uid") or "").strip():
            raise serializers.ValidationError(_("Give imp_uid or merchant_uid of the payment to cancel."))
        return attrs


class PageQuery(serializers.Serializer):
    page = WholeNumberField(min_value=1, max_value=10**6, required=False, default=1)
    limit = WholeNumberField(min_value=1, max_value=1000, required=False, default=20)
    sorting = QueryChoiceField(choices=SORTING, default="-started")


class SortingQuery(serializers.Serializer):
    sorting = QueryChoiceField(choices=SORTING, default="-started")


class StatusQuery(PageQuery):
    # ``from`` is a Python keyword: the field is declared under its real name below.
    to = WholeNumberField(min_value=0, max_value=2**31, required=False,
                                  help_text="UNIX seconds; default now")


StatusQuery._declared_fields["from"] = WholeNumberField(
    min_value=0, max_value=2**31, required=False, help_text="UNIX seconds; default 90 days before to")


class UidsQuery(serializers.Serializer):
    """``imp_uid[]`` and ``merchant_uid[]``, repeated (documented here, read by the view)."""


def _uids() -> serializers.ListField:
    return serializers.ListField(required=False, child=serializers.CharField(validators=[_NO_NUL]))


UidsQuery._declared_fields["imp_uid[]"] = _uids()
UidsQuery._declared_fields["merchant_uid[]"] = _uids()


# --- requests of the non-authenticated payments (issue 15) ----------------------------------
# The services (payments.domain: billing_keys, charges, schedules, vbanks) read and check these fields themselves,
# so that the API and the console refuse the same things in the same words; these classes
# give each field its type and name in the description, and refuse what is not even that.

_NO_CC = RegexValidator(f"^[^{_CC}]*$", "No control characters.")


def text(max_length: int = 200, **kwargs) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    return serializers.CharField(max_length=max_length, trim_whitespace=False, validators=[_NO_CC], **kwargs)


@extend_schema_field({"description": "A URL, or a list of up to 5, that gets this payment's webhooks "
                                     "instead of the merchant's endpoint",
                      "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 5}]})
class NoticeUrlField(serializers.Field):
    def to_internal_value(self, data):
        return data


@extend_schema_field({"description": "Any text, or an object kept as its JSON text",
                      "oneOf": [{"type": "string"}, {"type": "object"}]})
class CustomDataField(serializers.Field):
    def to_internal_value(self, data):
        return data


@extend_schema_field({"description": "Instalment months: 0 pays at once, 2 to 36 from 50,000 won",
                      "oneOf": [{"type": "integer", "minimum": 0, "maximum": 36},
                                {"type": "string", "pattern": "^[0-9]{1,2}$"}]})
class QuotaField(serializers.Field):
    def to_internal_value(self, data):
        return data


@extend_schema_field({"description": "UNIX seconds; a fraction (JavaScript's Date.now() / 1000) is cut to its second",
                      "anyOf": [{"type": "number", "minimum": 0, "maximum": 2**33},
                                {"type": "string", "pattern": "^[0-9]{1,11}([.][0-9]{1,9})?$"}]})
class UnixTimeField(serializers.Field):
    def to_internal_value(self, data):
        return data


def card_fields(*, required: bool) -> dict:
    return {
        "card_number": text(40, required=required, allow_blank=not required,
                            help_text="A test card number (docs/sandbox-payments.md); dashes and spaces allowed"),
        "expiry": text(10, required=required, allow_blank=not required, help_text="YYYY-MM (or YYYYMM)"),
        "birth": text(10, help_text="YYMMDD, or a business registration number"),
        "pwd_2digit": text(2, help_text="The first two digits of the card's password"),
    }


ORDER_FIELDS = {
    "name": text(200), "buyer_name": text(100), "buyer_email": text(254), "buyer_tel": text(40),
    "buyer_addr": text(200), "buyer_postcode": text(20), "card_quota": QuotaField(required=False),
    "custom_data": CustomDataField(required=False), "notice_url": NoticeUrlField(required=False),
    "currency": serializers.ChoiceField(choices=["KRW"], required=False),
}
CUSTOMER_FIELDS = {
    "customer_id": text(100), "customer_name": text(100), "customer_tel": text(40),
    "customer_email": text(254), "customer_addr": text(200), "customer_postcode": text(20),
}


def _request(name: str, fields: dict) -> type[serializers.Serializer]:
    return type(name, (serializers.Serializer,), fields)


OnetimeRequest = _request("OnetimeRequest", {
    "merchant_uid": order_field(), "amount": AmountField(), **card_fields(required=True),
    "customer_uid": text(80, help_text="Also store the card as this billing key"),
    "customer_id": text(100), "pg": text(100, help_text="The channel: kcp or kcp.MID"), **ORDER_FIELDS})
AgainRequest = _request("AgainRequest", {
    "customer_uid": order_field(), "merchant_uid": order_field(), "amount": AmountField(), **ORDER_FIELDS,
    "name": text(200, required=True, allow_blank=False, help_text="The order's name (required here)")})
CustomerRequest = _request("CustomerRequest", {
    **card_fields(required=True), "pg": text(100, help_text="The channel: nice or nice.MID"), **CUSTOMER_FIELDS})


class ReasonQuery(serializers.Serializer):
    reason = text(300)


class PageOnlyQuery(serializers.Serializer):
    page = WholeNumberField(min_value=1, max_value=10**6, required=False, default=1)
    limit = WholeNumberField(min_value=1, max_value=1000, required=False, default=20)


class CustomerUidsQuery(serializers.Serializer):
    """``customer_uid[]``, repeated (documented here, read by the view)."""


CustomerUidsQuery._declared_fields["customer_uid[]"] = serializers.ListField(
    child=serializers.CharField(validators=[_NO_NUL]), max_length=100)

SCHEDULE_STATUSES = ("scheduled", "executed", "revoked")  # PortOne's schedule_status filter


ScheduleItem = _request("ScheduleItem", {  # copies of the order fields: DRF orders fields as they were made
    "merchant_uid": order_field(), "schedule_at": UnixTimeField(), "amount": AmountField(),
    **{name: copy.deepcopy(ORDER_FIELDS[name]) for name in ("name", "buyer_name", "buyer_email", "buyer_tel",
                                                            "buyer_addr", "buyer_postcode", "custom_data", "notice_url", "currency", "card_quota")}})


ScheduleRequest = _request("ScheduleRequest", {
    "customer_uid": order_field(), "schedules": ScheduleItem(many=True, min_length=1, max_length=1000),
    **card_fields(required=False), "customer_id": text(100), "pg": text(100)})


@extend_schema_field({"description": "One merchant_uid, or a list", "oneOf": [
    {"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 1000}]})
class UidOrListField(serializers.Field):
    def to_internal_value(self, data):
        return data


class UnscheduleRequest(serializers.Serializer):
    customer_uid = text(80)
    merchant_uid = UidOrListField(required=False)


class ScheduleAtRequest(serializers.Serializer):
    schedule_at = UnixTimeField()


class ScheduleRangeQuery(PageOnlyQuery):
    schedule_from = WholeNumberField(min_value=0, max_value=2**33)
    schedule_to = WholeNumberField(min_value=0, max_value=2**33)
    schedule_status = QueryChoiceField(choices=SCHEDULE_STATUSES)
    # PortOne's contract gives no values but "scheduled" (oldest first); anything else is its
    # default, latest first (the official Node client's types offer the payments' "-started"…).
    sorting = serializers.CharField(required=False, allow_blank=True, max_length=20, validators=[_NO_NUL],
                                    help_text="scheduled: oldest first; anything else: latest first")


class CustomerSchedulesQuery(PageOnlyQuery):
    to = WholeNumberField(min_value=0, max_value=2**33)


CustomerSchedulesQuery._declared_fields["from"] = WholeNumberField(min_value=0, max_value=2**33)
CustomerSchedulesQuery._declared_fields["schedule-status"] = QueryChoiceField(choices=SCHEDULE_STATUSES)

VbankRequest = _request("VbankRequest", {
    "merchant_uid": order_field(), "amount": AmountField(), "vbank_code": text(10, required=True, allow_blank=False),
    "vbank_due": UnixTimeField(), "vbank_holder": text(100), "vbank_num": text(40), "pg": text(100),
    **{name: ORDER_FIELDS[name] for name in ("name", "buyer_name", "buyer_email", "buyer_tel", "buyer_addr",
                                             "buyer_postcode", "custom_data", "notice_url")}})


class VbankChangeRequest(serializers.Serializer):
    amount = AmountField(required=False)
    vbank_due = UnixTimeField(required=False)


# --- answers (the description only) ---------------------------------------------------------


class PaymentCancelAnnotation(serializers.Serializer):
    pg_id = serializers.CharField(help_text="The PG's MID, as i'mport adds it to each entry")
    pg_tid = serializers.CharField()
    amount = serializers.FloatField()
    cancelled_at = serializers.IntegerField()
    reason = serializers.CharField()
    cancellation_id = serializers.CharField()
    receipt_url = serializers.CharField(allow_null=True, required=False)


class Promotion(serializers.Serializer):
    id = serializers.CharField()
    discount = serializers.FloatField()


_S, _I, _B, _N = serializers.CharField, serializers.IntegerField, serializers.BooleanField, serializers.FloatField
_PAYMENT_FIELDS = {
    "imp_uid": _S, "merchant_uid": _S, "pay_method": _S, "channel": _S, "pg_provider": _S,
    "emb_pg_provider": _S, "pg_tid": _S, "pg_id": _S, "escrow": _B, "apply_num": _S, "bank_code": _S,
    "bank_name": _S, "card_code": _S, "card_name": _S, "card_issuer_code": _S, "card_issuer_name": _S,
    "card_publisher_code": _S, "card_publisher_name": _S, "card_quota": _I, "card_number": _S,
    "card_type": _I, "vbank_code": _S, "vbank_name": _S, "vbank_num": _S, "vbank_holder": _S,
    "vbank_date": _I, "vbank_issued_at": _I, "name": _S, "amount": _N, "cancel_amount": _N,
    "currency": _S, "buyer_name": _S, "buyer_email": _S, "buyer_tel": _S, "buyer_addr": _S,
    "buyer_postcode": _S, "custom_data": _S, "user_agent": _S, "status": _S, "started_at": _I,
    "paid_at": _I, "failed_at": _I, "cancelled_at": _I, "fail_reason": _S, "cancel_reason": _S,
    "receipt_url": _S, "cash_receipt_issued": _B, "customer_uid": _S, "customer_uid_usage": _S,
}
_PAYMENT_REQUIRED = {"imp_uid", "merchant_uid", "amount", "cancel_amount", "currency"}


def _payment_field(name: str, kind) -> serializers.Field:
    if name == "status":
        return serializers.ChoiceField(choices=STATUSES)
    if name in _PAYMENT_REQUIRED:
        return kind()
    return kind(allow_null=True, required=False)


# Field for field as PortOne's V1 ``PaymentAnnotation``.
PaymentAnnotation = type("PaymentAnnotation", (serializers.Serializer,), {
    **{name: _payment_field(name, kind) for name, kind in _PAYMENT_FIELDS.items()},
    "cancel_history": PaymentCancelAnnotation(many=True),
    "cancel_receipt_urls": serializers.ListField(child=serializers.CharField()),
    "promotion": Promotion(allow_null=True, help_text="null: the sandbox has no promotions"),
})


class PagedPayments(serializers.Serializer):
    total = serializers.IntegerField()
    previous = serializers.IntegerField(help_text="The previous page; 0 for none")
    next = serializers.IntegerField(help_text="The next page; 0 for none")
    list = PaymentAnnotation(many=True)


class Prepared(serializers.Serializer):
    merchant_uid = serializers.CharField()
    amount = serializers.FloatField()
    currency = serializers.CharField()


class CustomerAnnotation(serializers.Serializer):
    customer_uid = serializers.CharField()
    pg_provider = serializers.CharField()
    pg_id = serializers.CharField()
    customer_id = serializers.CharField(allow_null=True)
    card_name = serializers.CharField()
    card_code = serializers.CharField(allow_null=True)
    card_number = serializers.CharField(allow_null=True, help_text="Masked, as PortOne returns it")
    card_type = serializers.IntegerField(allow_null=True)
    customer_name = serializers.CharField(allow_null=True)
    customer_tel = serializers.CharField(allow_null=True)
    customer_email = serializers.CharField(allow_null=True)
    customer_addr = serializers.CharField(allow_null=True)
    customer_postcode = serializers.CharField(allow_null=True)
    inserted = serializers.IntegerField()
    updated = serializers.IntegerField()


for _name in ("card_issuer_code", "card_issuer_name", "card_publisher_code", "card_publisher_name"):
    CustomerAnnotation._declared_fields[_name] = serializers.CharField(allow_null=True)


class ScheduleResultAnnotation(serializers.Serializer):
    customer_uid = serializers.CharField()
    merchant_uid = serializers.CharField()
    imp_uid = serializers.CharField(allow_null=True)
    pg_provider = serializers.CharField(allow_null=True)
    pg_id = serializers.CharField(allow_null=True)
    customer_id = serializers.CharField(allow_null=True)
    schedule_at = serializers.IntegerField()
    executed_at = serializers.IntegerField()
    revoked_at = serializers.IntegerField()
    amount = serializers.FloatField()
    currency = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    buyer_name = serializers.CharField(allow_null=True)
    buyer_email = serializers.CharField(allow_null=True)
    buyer_tel = serializers.CharField(allow_null=True)
    buyer_addr = serializers.CharField(allow_null=True)
    buyer_postcode = serializers.CharField(allow_null=True)
    custom_data = serializers.CharField(allow_null=True)
    schedule_status = serializers.CharField()
    payment_status = serializers.CharField(allow_null=True)
    fail_reason = serializers.CharField(allow_null=True)


class PagedSchedules(serializers.Serializer):
    total = serializers.IntegerField()
    previous = serializers.IntegerField(help_text="The previous page; 0 for none")
    next = serializers.IntegerField(help_text="The next page; 0 for none")
    list = ScheduleResultAnnotation(many=True)


PaymentAnswer = enveloped("PaymentAnswer", PaymentAnnotation(allow_null=True))
PaymentsAnswer = enveloped("PaymentsAnswer", PaymentAnnotation(many=True, allow_null=True))
PagedPaymentsAnswer = enveloped("PagedPaymentsAnswer", PagedPayments(allow_null=True))
PreparedAnswer = enveloped("PreparedAnswer", Prepared(allow_null=True))
CustomerAnswer = enveloped("CustomerAnswer", CustomerAnnotation(allow_null=True))
CustomersAnswer = enveloped("CustomersAnswer", CustomerAnnotation(many=True, allow_null=True))
ScheduleAnswer = enveloped("ScheduleAnswer", ScheduleResultAnnotation(allow_null=True))
SchedulesAnswer = enveloped("SchedulesAnswer", ScheduleResultAnnotation(many=True, allow_null=True))
PagedSchedulesAnswer = enveloped("PagedSchedulesAnswer", PagedSchedules(allow_null=True))
