import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from console.models import Merchant, Mode

from . import errors
from .errors import ErrorKind


class ContentType(models.TextChoices):
    JSON = "json", "application/json"
    FORM = "form", "application/x-www-form-urlencoded"


class PayloadVersion(models.TextChoices):
    V1 = "v1", _("V1 (i'mport)")
    V2 = "v2", _("V2 (PortOne, 2024-04-25)")


class WebhookEndpoint(models.Model):
    """Where a merchant receives notifications, one per mode."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    url = models.URLField(_("Endpoint URL"), max_length=2000, blank=True)
    content_type = models.CharField(
        _("Content type"), max_length=8, choices=ContentType.choices, default=ContentType.JSON
    )
    version = models.CharField(
        _("Payload version"), max_length=4, choices=PayloadVersion.choices, default=PayloadVersion.V1
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["merchant_id", "mode"]
        # The admin action "Notify a payment event": a signed notification in the merchant's name.
        permissions = [("send_notification", "Can send a payment notification to a webhook endpoint")]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "mode"], name="webhook_endpoint_one_per_mode")
        ]

    def __str__(self):
        return f"{self.merchant} · {self.get_mode_display()} · {self.url or '—'}"

    def audit_label(self) -> str:
        """How audit rows name it: no translated word, so every reader sees it alike."""
        return f"{self.merchant} · {self.mode} · {self.url or '—'}"

    @property
    def content_type_header(self) -> str:
        return ContentType(self.content_type).label

    @property
    def disabled_reason_text(self) -> str:
        """Why it was disabled, in the reader's language (the stored text is an English msgid)."""
        return gettext(self.disabled_reason) if self.disabled_reason else ""


class WebhookSecretQuerySet(models.QuerySet):
    def active(self, now=None):
        """Secrets that still sign: no expiry, or one in the future. Newest first."""
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("-created_at", "-id")


class WebhookSecret(models.Model):
    """A signing secret (whsec_…), stored encrypted. At most two are active per endpoint."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="secrets"
    )
    secret_encrypted = models.TextField(_("secret (encrypted)"), editable=False)
    hint = models.CharField(_("hint"), max_length=16, editable=False,
                            help_text=_("The first characters after whsec_, to tell secrets apart."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    objects = WebhookSecretQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook signing secret")
        verbose_name_plural = _("webhook signing secrets")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"whsec_{self.hint}…"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.expires_at is None or self.expires_at > now


def event_attempts() -> int:
    """Attempts a real event gets: the first, and one per step of ``WEBHOOK_RETRY_SCHEDULE``."""
    return 1 + len(settings.WEBHOOK_RETRY_SCHEDULE)


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Delivery(models.Model):
    """One message to one endpoint: its payload, status and schedule. Attempts hang off it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RETRYING = "retrying", _("Retrying")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        TEST = "test", _("Test")
        EVENT = "event", _("Event")

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="webhook_deliveries",
        help_text=_("The merchant the event belongs to (the endpoint may be its agency's)."),
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(_("webhook-id"), max_length=40, unique=True, default=new_message_id,
                                  editable=False)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    trigger = models.CharField(_("trigger"), max_length=8, choices=Trigger.choices)
    event = models.CharField(_("event"), max_length=64)
    # Where the latest attempt went (at first, where the delivery was made for). An attempt to
    # the endpoint goes to the endpoint's URL as it is then (a fixed URL is used by the next
    # retry or resend); a notice_url delivery stays with its URL. Each attempt keeps its own.
    url = models.CharField(_("URL"), max_length=2000)
    # The payment the event is about (blank for a test): its page links to it.
    imp_uid = models.CharField("imp_uid", max_length=64, blank=True)
    # The payment named this URL (IMP.request_pay's notice_url) instead of the endpoint's: sent
    # whether or not the endpoint is enabled, and a 410 from it leaves the endpoint alone.
    to_notice_url = models.BooleanField("notice_url", default=False)
    content_type = models.CharField(_("content type"), max_length=8, choices=ContentType.choices)
    version = models.CharField(_("payload version"), max_length=4, choices=PayloadVersion.choices)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    max_attempts = models.PositiveSmallIntegerField(_("attempts allowed"), default=event_attempts)
    attempt_count = models.PositiveSmallIntegerField(_("attempts made"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    enqueued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    lock_token = models.CharField(max_length=32, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    last_error_params = models.JSONField(
        _("last error (code and parameters)"), default=dict, blank=True,
        help_text=_("The last error as a message code and its parameters, shown translated."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # One payment's events to one URL share a key and are sent in ``id`` order: a delivery
    # waits while an earlier one of its key is pending or retrying (``engine._claim``).
    # Blank: no order (tests, rows older than the key).
    sequence_key = models.CharField(max_length=40, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="delivery_merchant_time"),
            models.Index(fields=["next_attempt_at"], name="delivery_due",
                         condition=Q(status__in=["pending", "retrying"])),
            models.Index(fields=["sequence_key", "id"], name="delivery_in_line",
                         condition=Q(status__in=["pending", "retrying"]) & ~Q(sequence_key="")),
        ]

    def __str__(self):
        return f"{self.message_id} ({self.get_status_display()})"

    def audit_label(self) -> str:
        """How audit rows name it: no translated word, so every reader sees it alike."""
        return f"{self.message_id} · {self.event}"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def last_error_text(self) -> str:
        """The last error in the reader's language; the stored English of rows older than codes."""
        return errors.render(self.last_error_params, fallback=self.last_error)

    last_error_text.fget.short_description = _("last error")  # its label in the admin


class Attempt(models.Model):
    """One HTTP request of a delivery, and what came back."""

    ErrorKind = ErrorKind  # the one vocabulary, in webhooks.errors

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField(_("attempt"))
    url = models.CharField(_("URL"), max_length=2000, blank=True,
                           help_text=_("Where this attempt was sent."))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    request_headers = models.JSONField(_("request headers"), default=dict)
    request_body = models.TextField(_("request body"))
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    response_truncated = models.BooleanField(_("response truncated"), default=False)
    response_headers_truncated = models.BooleanField(_("response headers truncated"), default=False)
    error_kind = models.CharField(_("error"), max_length=16, choices=ErrorKind.choices, blank=True)
    error_message = models.CharField(_("error message"), max_length=300, blank=True)
    error_params = models.JSONField(
        _("error (code and parameters)"), default=dict, blank=True,
        help_text=_("The error as a message code and its parameters, shown translated."))

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["delivery_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_number_unique")
        ]

    def __str__(self):
        return f"{self.delivery.message_id} #{self.number}"

    @property
    def ok(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300 and not self.error_kind

    @property
    def error_text(self) -> str:
        """Why it failed, in the reader's language; the stored English of rows older than codes."""
        return errors.render(self.error_params, fallback=self.error_message)

    error_text.fget.short_description = _("error message")  # its label in the admin
