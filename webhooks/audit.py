"""The webhooks' audit actions: endpoints, signing secrets, deliveries, and a sub-merchant's
choice of webhook source.

Registered with the kernel's vocabulary (``console.tenancy.audit_actions``) by
``WebhooksConfig.ready()``. The codes are stored in the rows: a code never changes once used.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    MERCHANT_WEBHOOK_SAME_AS_AGENCY = (
        "merchant.webhook_same_as_agency", _("Sub-merchant's webhook source changed")
    )
    WEBHOOK_NOTIFY = "webhook.notify", _("Webhook event queued")
    WEBHOOK_RESEND = "webhook.resend", _("Webhook resent")
    WEBHOOK_RECOVER = "webhook.recover", _("Failed webhooks resent")
    WEBHOOK_SEND_TEST = "webhook.send_test", _("Test webhook sent")
    WEBHOOK_ENDPOINT_DISABLED_GONE = (
        "webhook_endpoint.disabled_gone", _("Webhook endpoint disabled (the receiver answered 410 Gone)")
    )
    WEBHOOK_ENDPOINT_UPDATE = "webhook_endpoint.update", _("Webhook endpoint changed")
    WEBHOOK_SECRET_EXPIRE = "webhook_secret.expire", _("Webhook signing secret expired")
    WEBHOOK_SECRET_REVEAL = "webhook_secret.reveal", _("Webhook signing secret revealed")
    WEBHOOK_SECRET_ROTATE = "webhook_secret.rotate", _("Webhook signing secret rotated")
