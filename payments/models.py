"""Sandbox payments: what a test channel takes from the i'mport browser SDK, shaped as PortOne's
V1 ``PaymentAnnotation`` (the REST answer is built from these fields one for one).

Money is an integer number of won. Times are datetimes here and UNIX seconds in the API.
"""

import secrets
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels.catalog import Module
from channels.models import Channel
from console.models import Merchant

# A window works for an hour after it opened (its token's age, ``payments.sandbox.window``);
# then it decides nothing more, and its order is free again (``PaymentQuerySet.expired_windows``).
WINDOW_MAX_AGE = 60 * 60


def new_imp_uid() -> str:
    """``imp_`` and 12 digits, as PortOne's."""
    return "imp_" + "".join(secrets.choice("0123456789") for _ in range(12))


class Status(models.TextChoices):
    READY = "ready", _("Ready")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class PayMethod(models.TextChoices):
    CARD = "card", _("Card")
    TRANS = "trans", _("Bank transfer")
    VBANK = "vbank", _("Virtual account")
    PHONE = "phone", _("Phone")
    POINT = "point", _("Point")


MERCHANT_UID_MAX = 80
CUSTOMER_UID_MAX = 80
NAME_MAX = 200


class PaymentQuerySet(models.QuerySet):
    def expired_windows(self, *, now: datetime | None = None) -> "PaymentQuerySet":
        """The rule of a window's expiry, written once: an open window (``ready``, no virtual
        account issued: ``Payment.is_open``) that opened ``WINDOW_MAX_AGE`` or more ago, when
        the token it was first given expired. ``payments.domain.lifecycle`` fails them, a whole
        order's at once or one locked payment."""
        deadline = (now or timezone.now()) - timedelta(seconds=WINDOW_MAX_AGE)
        return self.filter(status=Status.READY, vbank_issued_at__isnull=True, started_at__lte=deadline)


class Payment(models.Model):
    """One payment of a merchant (or sub-merchant) on one of its test channels."""

    merchant = models.ForeignKey(Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE,
                                 related_name="payments")
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="payments")
    imp_uid = models.CharField(_("imp_uid"), max_length=16, unique=True, default=new_imp_uid,
                               editable=False)
    merchant_uid = models.CharField(_("merchant_uid"), max_length=MERCHANT_UID_MAX)
    mode = models.CharField(_("mode"), max_length=8, default="test")
    pay_method = models.CharField(_("payment method"), max_length=16, choices=PayMethod.choices,
                                  default=PayMethod.CARD)
    channel_type = models.CharField(_("environment"), max_length=8, default="pc",
                                    help_text=_("PortOne's `channel`: pc, mobile or api."))
    pg_provider = models.CharField(_("PG code"), max_length=40)
    pg_id = models.CharField(_("MID"), max_length=80)
    pg_tid = models.CharField(_("PG transaction ID"), max_length=64, blank=True)
    channel_key = models.CharField(_("channel key"), max_length=60, blank=True)
    name = models.CharField(_("order name"), max_length=NAME_MAX, blank=True)
    amount = models.BigIntegerField(_("amount"))
    cancel_amount = models.BigIntegerField(_("cancelled amount"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default="KRW")
    buyer_name = models.CharField(_("buyer name"), max_length=100, blank=True)
    buyer_email = models.CharField(_("buyer email"), max_length=254, blank=True)
    buyer_tel = models.CharField(_("buyer phone"), max_length=40, blank=True)
    buyer_addr = models.CharField(_("buyer address"), max_length=200, blank=True)
    buyer_postcode = models.CharField(_("buyer postcode"), max_length=20, blank=True)
    custom_data = models.TextField(_("custom data"), blank=True, default="",
                                   help_text=_("As the merchant gave it (a JSON string)."))
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    notice_urls = models.JSONField(_("notice URLs"), default=list, blank=True)
    m_redirect_url = models.CharField(_("redirect URL"), max_length=2000, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.READY)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    fail_reason = models.CharField(_("failure reason"), max_length=300, blank=True)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=300, blank=True)
    # Card (masked as PortOne returns it; the sandbox never sees a card number).
    apply_num = models.CharField(_("approval number"), max_length=20, blank=True)
    card_code = models.CharField(_("card company code"), max_length=8, blank=True)
    card_name = models.CharField(_("card company"), max_length=40, blank=True)
    card_number = models.CharField(_("card number (masked)"), max_length=20, blank=True)
    card_quota = models.PositiveSmallIntegerField(_("instalment months"), default=0)
    card_type = models.PositiveSmallIntegerField(_("card type"), null=True, blank=True)
    # Virtual account.
    vbank_code = models.CharField(_("bank code"), max_length=8, blank=True)
    vbank_name = models.CharField(_("bank"), max_length=40, blank=True)
    vbank_num = models.CharField(_("account number"), max_length=40, blank=True)
    vbank_holder = models.CharField(_("account holder"), max_length=60, blank=True)
    vbank_date = models.DateTimeField(_("deposit due"), null=True, blank=True)
    vbank_issued_at = models.DateTimeField(_("account issued at"), null=True, blank=True)
    # Billing key (issue 15): the key a payment used or issued, and what for.
    billing_key = models.ForeignKey("BillingKey", verbose_name=_("billing key"), on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="payments")
    customer_uid = models.CharField(_("customer_uid"), max_length=CUSTOMER_UID_MAX, blank=True)
    customer_uid_usage = models.CharField(_("billing key usage"), max_length=20, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-started_at", "-id"]
        constraints = [
            # One order is paid (or waits for its deposit) at most once; failed tries may repeat.
            models.UniqueConstraint(
                fields=["merchant", "merchant_uid"], condition=~Q(status="failed"),
                name="payment_one_live_per_order",
            ),
            # More than 0 won, but for a billing key issued through the window that pays
            # nothing (PortOne keeps it as a payment of 0 won, customer_uid_usage "issue").
            models.CheckConstraint(condition=Q(amount__gt=0) | Q(amount=0, customer_uid_usage="issue"),
                                   name="payment_amount_positive_or_issuance"),
            models.CheckConstraint(condition=Q(cancel_amount__gte=0, cancel_amount__lte=models.F("amount")),
                                   name="payment_cancel_within_amount"),
        ]
        indexes = [
            # The Payments page reads newest first by (started_at, id), filtered or not.
            models.Index(fields=["merchant", "-started_at", "-id"], name="payment_merchant_started"),
            models.Index(fields=["merchant", "status", "-started_at", "-id"], name="payment_merchant_status"),
            models.Index(fields=["merchant", "merchant_uid"], name="payment_merchant_uid"),
            # GET /subscribe/customers/{customer_uid}/payments, newest first.
            models.Index(fields=["merchant", "customer_uid", "-started_at", "-id"],
                         condition=~Q(customer_uid=""), name="payment_merchant_customer"),
        ]

    def __str__(self):
        return f"{self.imp_uid} ({self.merchant_uid})"

    @property
    def audit_label(self) -> str:
        return f"{self.imp_uid} · {self.merchant_uid}"

    @property
    def remaining(self) -> int:
        return self.amount - self.cancel_amount

    @property
    def is_open(self) -> bool:
        """The window has not decided it yet (no approval, failure or virtual account)."""
        return self.status == Status.READY and self.vbank_issued_at is None

    @property
    def waits_for_deposit(self) -> bool:
        """An issued virtual account whose transfer has not come."""
        return self.status == Status.READY and self.vbank_issued_at is not None

    @property
    def kind(self) -> "PaymentKind | None":
        """How it was paid, when not through the window: key-in, with a billing key, by a
        schedule, or the window's payment that issued a billing key (the Payments page's
        marker). Telling a key-in payment that kept the card (``customer_uid``) from a payment
        with that key reads its channel's module: select the channel with a list of them."""
        usage = self.customer_uid_usage
        if usage == CustomerUidUsage.SCHEDULED:
            return PaymentKind.SCHEDULED
        if usage == CustomerUidUsage.ISSUE:
            return PaymentKind.ISSUE
        if self.channel_type != "api" or self.pay_method != PayMethod.CARD:
            return None
        if not self.customer_uid:
            return PaymentKind.KEYIN
        channel = self.channel if self.channel_id else None
        return PaymentKind.KEYIN if channel is not None and channel.module == Module.API_KEYIN else PaymentKind.BILLING_KEY


class PaymentCancellation(models.Model):
    """One cancellation (full or partial): PortOne's ``cancel_history`` entry."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="cancellations")
    pg_tid = models.CharField(max_length=64)
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=300, blank=True)
    cancellation_id = models.CharField(max_length=40, unique=True)
    cancelled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cancelled_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="cancellation_amount_positive")]

    def __str__(self):
        return f"{self.cancellation_id} ({self.amount} won)"



class Preparation(models.Model):
    """An amount registered ahead of the window (``/payments/prepare``): a window payment of
    another amount for this ``merchant_uid`` fails."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="payment_preparations")
    merchant_uid = models.CharField(max_length=MERCHANT_UID_MAX)
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "merchant_uid"], name="preparation_one_per_order"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="preparation_amount_positive"),
        ]

    def __str__(self):
        return f"{self.merchant_uid}: {self.amount} won"


# --- billing keys and scheduled payments (issue 15) ------------------------------------


class CustomerUidUsage(models.TextChoices):
    """What a payment did with a billing key (PortOne's ``customer_uid_usage``)."""

    ISSUE = "issue", _("Billing key issued")
    PAYMENT = "payment", _("Paid with a billing key")
    SCHEDULED = "payment.scheduled", _("Scheduled payment")


class PaymentKind(models.TextChoices):
    """The Payments page's marker for a payment not made in the window (``Payment.kind``)."""

    KEYIN = "keyin", _("Key-in")
    BILLING_KEY = "billing_key", _("Billing key")
    SCHEDULED = "scheduled", pgettext_lazy("payment kind", "Scheduled")
    ISSUE = "issue", _("Billing key issued")


class IssuedThrough(models.TextChoices):
    API = "api", _("API (POST /subscribe/customers)")
    KEYIN = "keyin", _("Key-in payment (POST /subscribe/payments/onetime)")
    SCHEDULE = "schedule", _("Schedule (POST /subscribe/payments/schedule)")
    WINDOW = "window", _("Payment window (IMP.request_pay)")


class BillingKey(models.Model):
    """A card kept under the merchant's ``customer_uid`` (PortOne's ``CustomerAnnotation``).

    Only the masked number is kept (``541234******1234``, as PortOne answers); the sandbox
    reads which test card it is from that. Issuing again under a ``customer_uid`` replaces
    the card (PortOne's rule). A deleted key keeps its row for the console's history
    (``deleted_at``); for the API its ``customer_uid`` is then unknown, and may be issued
    anew (a new row)."""

    merchant = models.ForeignKey(Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE,
                                 related_name="billing_keys")
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="billing_keys")
    customer_uid = models.CharField(_("customer_uid"), max_length=CUSTOMER_UID_MAX)
    customer_id = models.CharField(_("customer ID"), max_length=100, blank=True)
    pg_provider = models.CharField(_("PG code"), max_length=40)
    pg_id = models.CharField(_("MID"), max_length=80)
    issued_through = models.CharField(_("issued through"), max_length=10, choices=IssuedThrough.choices)
    card_code = models.CharField(_("card company code"), max_length=8, blank=True)
    card_name = models.CharField(_("card company"), max_length=40, blank=True)
    card_number = models.CharField(_("card number (masked)"), max_length=20)
    card_type = models.PositiveSmallIntegerField(_("card type"), null=True, blank=True)
    customer_name = models.CharField(_("customer name"), max_length=100, blank=True)
    customer_tel = models.CharField(_("customer phone"), max_length=40, blank=True)
    customer_email = models.CharField(_("customer email"), max_length=254, blank=True)
    customer_addr = models.CharField(_("customer address"), max_length=200, blank=True)
    customer_postcode = models.CharField(_("customer postcode"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    delete_reason = models.CharField(_("reason for deleting"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("billing key")
        verbose_name_plural = _("billing keys")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live key per customer_uid of a merchant; deleted ones stay as history.
            models.UniqueConstraint(fields=["merchant", "customer_uid"], condition=Q(deleted_at__isnull=True),
                                    name="billing_key_one_live_per_customer_uid"),
        ]
        indexes = [
            models.Index(fields=["merchant", "-created_at", "-id"], name="billing_key_merchant_created"),
            models.Index(fields=["merchant", "customer_uid"], name="billing_key_merchant_customer"),
        ]

    def __str__(self):
        return f"{self.customer_uid} ({self.card_number})"

    def audit_label(self) -> str:
        return f"{self.customer_uid} · {self.card_number}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ScheduleStatus(models.TextChoices):
    """PortOne's ``schedule_status``; whether a run paid or failed is its payment's status."""

    SCHEDULED = "scheduled", _("Scheduled")
    EXECUTED = "executed", _("Executed")
    REVOKED = "revoked", pgettext_lazy("schedule status", "Cancelled")


class Schedule(models.Model):
    """A payment with a billing key, due at ``schedule_at`` (PortOne's ``ScheduleAnnotation``).

    The periodic job (``payments.domain.schedules.schedule_execute``, run by the worker that the beat hands it to) runs it once: it locks the row,
    pays with the live key of ``customer_uid`` at that moment, and sets ``status``,
    ``executed_at`` and ``payment`` in the same transaction as the payment and its webhook."""

    merchant = models.ForeignKey(Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE,
                                 related_name="payment_schedules")
    customer_uid = models.CharField(_("customer_uid"), max_length=CUSTOMER_UID_MAX)
    merchant_uid = models.CharField(_("merchant_uid"), max_length=MERCHANT_UID_MAX)
    schedule_at = models.DateTimeField(_("scheduled for"))
    amount = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default="KRW")
    name = models.CharField(_("order name"), max_length=NAME_MAX, blank=True)
    buyer_name = models.CharField(_("buyer name"), max_length=100, blank=True)
    buyer_email = models.CharField(_("buyer email"), max_length=254, blank=True)
    buyer_tel = models.CharField(_("buyer phone"), max_length=40, blank=True)
    buyer_addr = models.CharField(_("buyer address"), max_length=200, blank=True)
    buyer_postcode = models.CharField(_("buyer postcode"), max_length=20, blank=True)
    custom_data = models.TextField(_("custom data"), blank=True, default="")
    notice_urls = models.JSONField(_("notice URLs"), default=list, blank=True)
    card_quota = models.PositiveSmallIntegerField(_("instalment months"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=ScheduleStatus.choices,
                              default=ScheduleStatus.SCHEDULED)
    payment = models.OneToOneField(Payment, verbose_name=_("payment"), on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="schedule")
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("scheduled payment")
        verbose_name_plural = _("scheduled payments")
        ordering = ["-schedule_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "merchant_uid"], name="schedule_one_per_order"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="schedule_amount_positive"),
        ]
        indexes = [
            # The periodic job's scan: only rows still to run, oldest first.
            models.Index(fields=["schedule_at", "id"], condition=Q(status="scheduled"), name="schedule_due"),
            models.Index(fields=["merchant", "-schedule_at", "-id"], name="schedule_merchant_at"),
            models.Index(fields=["merchant", "customer_uid", "-schedule_at"], name="schedule_merchant_customer"),
        ]

    def __str__(self):
        return f"{self.merchant_uid} ({self.customer_uid})"

    def audit_label(self) -> str:
        return f"{self.merchant_uid} · {self.customer_uid}"
