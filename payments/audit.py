"""The payments' audit actions: cancellations, test deposits, virtual accounts, billing keys
and scheduled payments.

Registered with the kernel's vocabulary (``console.tenancy.audit_actions``) by
``PaymentsConfig.ready()``. The codes are stored in the rows: a code never changes once used.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    BILLING_KEY_DELETE = "billing_key.delete", _("Billing key deleted")
    BILLING_KEY_REPLACE = "billing_key.replace", _("Billing key replaced")
    PAYMENT_CANCEL = "payment.cancel", _("Payment cancelled")
    PAYMENT_DEPOSIT = "payment.deposit", _("Virtual account deposit (test)")
    PAYMENT_VBANK_UPDATE = "payment.vbank_update", _("Virtual account changed")
    PAYMENT_VBANK_REVOKE = "payment.vbank_revoke", _("Virtual account revoked")
    PAYMENT_SCHEDULE_REVOKE = "payment_schedule.revoke", _("Scheduled payment cancelled")
    PAYMENT_SCHEDULE_UPDATE = "payment_schedule.update", _("Scheduled payment's time changed")
    PAYMENT_SCHEDULE_RETRY = "payment_schedule.retry", _("Scheduled payment retried (the card charged now)")
