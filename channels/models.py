import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from console.models import Merchant, Mode

from . import catalog
from .catalog import Module


class TaxType(models.TextChoices):
    UNSET = "unset", _("Not set")
    TAXABLE = "taxable", _("Taxable")
    TAX_FREE = "tax_free", _("Tax-free")


def new_channel_key() -> str:
    return f"channel-key-{uuid.uuid4()}"


class SharedTestCredential(models.Model):
    """The platform's shared test MID (and credentials) for one provider and module.

    Managed by staff in the Django admin. Every merchant gets a test channel that
    uses it, so `/users/pg` lists it with `sandbox: true`.
    """

    provider = models.CharField(_("provider"), max_length=32, choices=catalog.provider_choices)
    module = models.CharField(_("module"), max_length=32, choices=Module.choices)
    pg_provider = models.CharField(_("PG code"), max_length=32)
    mid = models.CharField(_("MID"), max_length=80)
    note = models.CharField(_("note"), max_length=200, blank=True)
    credentials_encrypted = models.TextField(_("credentials (encrypted)"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shared test credential")
        verbose_name_plural = _("shared test credentials")
        ordering = ["provider", "module", "mid"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "module", "mid"], name="shared_test_credential_unique",
                violation_error_message=_("This provider already has this test MID for this module."),
            )
        ]

    def __str__(self):
        return f"{self.pg_provider}.{self.mid} ({self.get_module_display()})"

    def audit_label(self) -> str:
        """How audit rows name it: no translated word, so every reader sees it alike."""
        return f"{self.pg_provider}.{self.mid} · {self.module}"

    @property
    def pg_string(self) -> str:
        return catalog.pg_string(self.pg_provider, self.mid)


class ChannelQuerySet(models.QuerySet):
    def usable_by(self, merchant: Merchant) -> "ChannelQuerySet":
        """The channels ``merchant`` pays with and sees: its own, and those its agency assigned
        to it (the one place this is written)."""
        return self.filter(Q(merchant=merchant) | Q(assigned_to=merchant))


class Channel(models.Model):
    """A PG channel: one provider, module and MID of a merchant, in live or test mode."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="channels"
    )
    assigned_to = models.ForeignKey(
        Merchant,
        verbose_name=_("assigned sub-merchant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_channels",
    )
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    provider = models.CharField(_("provider"), max_length=32, choices=catalog.provider_choices)
    pg_provider = models.CharField(_("PG code"), max_length=32)
    module = models.CharField(_("module"), max_length=32, choices=Module.choices)
    payment_methods = models.JSONField(_("payment methods"), default=list, blank=True)
    name = models.CharField(_("channel name"), max_length=60, blank=True)
    tax_type = models.CharField(
        _("tax type"), max_length=16, choices=TaxType.choices, default=TaxType.UNSET
    )
    mid = models.CharField(_("MID"), max_length=80)
    credentials_encrypted = models.TextField(_("credentials (encrypted)"), blank=True, editable=False)
    shared_credential = models.ForeignKey(
        SharedTestCredential,
        verbose_name=_("shared test credential"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="channels",
    )
    channel_key = models.CharField(
        _("channel key"), max_length=60, unique=True, editable=False, default=new_channel_key
    )
    is_default = models.BooleanField(_("default channel"), default=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("last changed by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "mode", "provider", "module", "mid"],
                name="channel_unique_mid",
                violation_error_message=_(
                    "This merchant already has a channel with this PG, module and MID in this mode."
                ),
            ),
            models.UniqueConstraint(
                fields=["merchant"],
                condition=Q(is_default=True),
                name="channel_one_default_per_merchant",
                violation_error_message=_("A merchant has one default channel at most."),
            ),
            models.CheckConstraint(
                condition=~Q(is_default=True, enabled=False),
                name="channel_default_is_enabled",
                violation_error_message=_("A disabled channel cannot be the default. Enable it first."),
            ),
            models.CheckConstraint(
                condition=~Q(is_default=True, assigned_to__isnull=False),
                name="channel_default_is_unassigned",
                violation_error_message=_(
                    "A channel assigned to a sub-merchant cannot be the agency's default. "
                    "Take it back from the sub-merchant first."),
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "mode", "-created_at"], name="channel_merchant_mode"),
            models.Index(fields=["assigned_to", "mode"], name="channel_assigned_mode"),
        ]

    def __str__(self):
        return f"{self.name or self.get_provider_display()} · {self.pg_string}"

    def audit_label(self) -> str:
        """How audit rows name it: no translated word, so every reader sees it alike."""
        return f"{self.name or self.provider} · {self.pg_string}"

    @property
    def payment_method_labels(self) -> list[str]:
        """The payment methods as an operator reads them ("Card", not "card")."""
        labels = dict(catalog.PAYMENT_METHODS)
        return [str(labels.get(code, code)) for code in self.payment_methods or []]

    @property
    def pg_string(self) -> str:
        return catalog.pg_string(self.pg_provider, self.mid)

    @property
    def provider_entry(self) -> catalog.Provider | None:
        return catalog.get(self.provider)

    @property
    def is_shared_test(self) -> bool:
        return self.shared_credential_id is not None

    @property
    def module_label(self) -> str:
        """Like get_module_display(), without rebuilding the choices on every call (cards repeat it)."""
        return catalog.MODULE_LABELS.get(self.module, self.module)

    @property
    def opens_payment_window(self) -> bool:
        """A channel IMP.request_pay pays on (general and simple windows). Key-in and API
        subscription channels never open a window; a subscription window issues billing keys."""
        return self.module in (Module.WINDOW_GENERAL, Module.WINDOW_SIMPLE)

    @property
    def api_type(self) -> str:
        return catalog.MODULE_TYPE[Module(self.module)]
