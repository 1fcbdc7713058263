"""An invitation to join a merchant with a role."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from console.tenancy.roles import Role

from .merchants import Merchant


class Invitation(models.Model):
    """An email invited to join a merchant with a role.

    The emailed link is signed (``console.invitations``) and names a random nonce
    that is stored only as a hash: the link works once, until ``expires_at``, and
    each resend replaces the nonce, so only the newest link works.
    """

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    memo = models.CharField(
        _("memo"), max_length=200, blank=True,
        help_text=_("Carried to the membership when the invitation is accepted."),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("invited by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    link_origin = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    send_queued_at = models.DateTimeField(
        _("mail queued at"), null=True, blank=True, editable=False,
        help_text=_("When the worker queue took the latest send. Empty: not taken yet (the "
                    "periodic job queues it again)."),
    )
    send_count = models.PositiveSmallIntegerField(_("times sent"), default=0)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("accepted by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
                violation_error_message=_("This email already has an open invitation."),
            ),
        ]

    def __str__(self):
        return f"{self.email} ({self.get_role_display()})"

    def audit_label(self) -> str:
        """How audit rows name it: no translated word, so every reader sees it alike."""
        return self.email

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    def is_expired(self, now=None) -> bool:
        return self.expires_at <= (now or timezone.now())

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if self.is_expired() else "pending"
