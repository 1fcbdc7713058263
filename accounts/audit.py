"""The accounts' audit actions: merchants and sub-merchants, members, invitations, two-factor
login.

Registered with the kernel's vocabulary (``console.tenancy.audit_actions``) by
``AccountsConfig.ready()``. The codes are stored in the rows: a code never changes once used.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
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
    MERCHANT_UPDATE = "merchant.update", _("Merchant profile changed")
    SUB_MERCHANT_CREATE = "sub_merchant.create", _("Sub-merchant added")
    SUB_MERCHANT_UPDATE = "sub_merchant.update", _("Sub-merchant profile changed")
    SUB_MERCHANT_DELETE = "sub_merchant.delete", _("Sub-merchant deleted")
    TWO_FACTOR_ENROL = "two_factor.enrol", _("Two-factor login set up")
    TWO_FACTOR_RECOVERY_CODES = "two_factor.recovery_codes", _("Recovery codes regenerated")
    TWO_FACTOR_RESET = "two_factor.reset", _("Two-factor login removed")
