"""The audit vocabulary: every action an audit row can record, with a label for operators.

A module of its own (like ``roles``) so that the model can use it without importing the
services; import it from ``console.tenancy.audit``. The codes are stored in the rows, so a
code never changes once used: add a member for a new action, and relabel freely.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    API_KEY_CREATE = "api_key.create", _("API key created")
    API_KEY_REISSUE = "api_key.reissue", _("API key reissued")
    API_KEY_REVOKE = "api_key.revoke", _("API key revoked")
    BILLING_KEY_DELETE = "billing_key.delete", _("Billing key deleted")
    BILLING_KEY_REPLACE = "billing_key.replace", _("Billing key replaced")
    CHANNEL_ASSIGN = "channel.assign", _("Channel assigned to a sub-merchant")
    CHANNEL_UNASSIGN = "channel.unassign", _("Channel taken back from a sub-merchant")
    CHANNEL_CREATE = "channel.create", _("Channel added")
    CHANNEL_CREATE_SHARED_TEST = "channel.create_shared_test", _("Shared test channel added")
    CHANNEL_DEFAULT_SET = "channel.default_set", _("Default channel set")
    CHANNEL_DEFAULT_UNSET = "channel.default_unset", _("Channel no longer the default")
    CHANNEL_DELETE = "channel.delete", _("Channel deleted")
    CHANNEL_ENABLE = "channel.enable", _("Channel enabled")
    CHANNEL_DISABLE = "channel.disable", _("Channel disabled")
    CHANNEL_UPDATE = "channel.update", _("Channel changed")
    INVITATION_ACCEPT = "invitation.accept", _("Invitation accepted")
    INVITATION_CREATE = "invitation.create", _("Invitation sent")
    INVITATION_RESEND = "invitation.resend", _("Invitation resent")
    INVITATION_REVOKE = "invitation.revoke", _("Invitation revoked")
    INVITATION_REVOKE_SENDER_ROLE = (
        "invitation.revoke_sender_role",
        _("Invitation withdrawn: its sender can no longer give that role"),
    )
    MEMBERSHIP_CREATE = "membership.create", _("Member added")
    MEMBERSHIP_DELETE = "membership.delete", _("Member removed")
    MEMBERSHIP_MEMO = "membership.memo", _("Member's memo changed")
    MEMBERSHIP_UPDATE = "membership.update", _("Member's role changed")
    MERCHANT_CREATE = "merchant.create", _("Merchant created")
    PAYMENT_CANCEL = "payment.cancel", _("Payment cancelled")
    PAYMENT_DEPOSIT = "payment.deposit", _("Virtual account deposit (test)")
    PAYMENT_VBANK_UPDATE = "payment.vbank_update", _("Virtual account changed")
    PAYMENT_VBANK_REVOKE = "payment.vbank_revoke", _("Virtual account revoked")
    PAYMENT_SCHEDULE_REVOKE = "payment_schedule.revoke", _("Scheduled payment cancelled")
    PAYMENT_SCHEDULE_UPDATE = "payment_schedule.update", _("Scheduled payment's time changed")
    PAYMENT_SCHEDULE_RETRY = "payment_schedule.retry", _("Scheduled payment retried (the card charged now)")
    MERCHANT_UPDATE = "merchant.update", _("Merchant profile changed")
    MERCHANT_WEBHOOK_SAME_AS_AGENCY = (
        "merchant.webhook_same_as_agency", _("Sub-merchant's webhook source changed")
    )
    SHARED_TEST_CREDENTIAL_CREATE = "shared_test_credential.create", _("Shared test credential added")
    SHARED_TEST_CREDENTIAL_UPDATE = "shared_test_credential.update", _("Shared test credential changed")
    SUB_MERCHANT_CREATE = "sub_merchant.create", _("Sub-merchant added")
    SUB_MERCHANT_UPDATE = "sub_merchant.update", _("Sub-merchant profile changed")
    SUB_MERCHANT_DELETE = "sub_merchant.delete", _("Sub-merchant deleted")
    TWO_FACTOR_ENROL = "two_factor.enrol", _("Two-factor login set up")
    TWO_FACTOR_RECOVERY_CODES = "two_factor.recovery_codes", _("Recovery codes regenerated")
    TWO_FACTOR_RESET = "two_factor.reset", _("Two-factor login removed")
    WEBHOOK_NOTIFY = "webhook.notify", _("Webhook event queued")
    WEBHOOK_RESEND = "webhook.resend", _("Webhook resent")
    WEBHOOK_SEND_TEST = "webhook.send_test", _("Test webhook sent")
    WEBHOOK_ENDPOINT_DISABLED_GONE = (
        "webhook_endpoint.disabled_gone", _("Webhook endpoint disabled (the receiver answered 410 Gone)")
    )
    WEBHOOK_ENDPOINT_UPDATE = "webhook_endpoint.update", _("Webhook endpoint changed")
    WEBHOOK_SECRET_EXPIRE = "webhook_secret.expire", _("Webhook signing secret expired")
    WEBHOOK_SECRET_REVEAL = "webhook_secret.reveal", _("Webhook signing secret revealed")
    WEBHOOK_SECRET_ROTATE = "webhook_secret.rotate", _("Webhook signing secret rotated")
    WHITELIST_UPDATE = "whitelist.update", _("IP whitelist changed")
