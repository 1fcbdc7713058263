"""What guards the REST API: whitelist rules, API keys and their tokens."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .merchants import Merchant


class WhitelistRule(models.Model):
    """One CIDR block from which the merchant's REST API calls are accepted."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="whitelist_rules"
    )
    cidr = models.CharField(_("CIDR"), max_length=43)
    memo = models.CharField(_("Memo"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("whitelist rule")
        verbose_name_plural = _("whitelist rules")
        ordering = ["merchant_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "cidr"], name="whitelist_rule_unique_cidr")
        ]

    def __str__(self):
        return self.cidr


class ApiKey(models.Model):
    """A REST API key (imp_key) and its secret (imp_secret, stored only as a hash)."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=60)
    key = models.CharField(_("REST API key"), max_length=32, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    secret_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.key})"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ApiToken(models.Model):
    """An access token from /users/getToken. Looked up by hash; kept encrypted only so the
    same token can be returned while it lives, as i'mport does."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    token_encrypted = models.TextField()
    secret_version = models.PositiveIntegerField()
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["api_key", "-expires_at"], name="token_key_expiry")]

    def __str__(self):
        return f"token of {self.api_key.key} until {self.expires_at:%Y-%m-%d %H:%M}"
