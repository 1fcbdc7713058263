import re

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import Role

class Mode(models.TextChoices):
    """Live or test: channels, webhook endpoints and deliveries each belong to one."""

    LIVE = "live", _("Live")
    TEST = "test", _("Test")


MERCHANT_CODE_RE = re.compile(r"^imp\d{8}$")
TIER_CODE_RE = re.compile(r"^[A-Z0-9]{3}$")

tier_code_validator = RegexValidator(
    TIER_CODE_RE,
    _("A tier code is exactly 3 uppercase letters or digits, e.g. A01."),
    code="invalid_tier_code",
)


class OperatorManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An operator needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        # Logins are case-insensitive on the email address.
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class Operator(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: a merchant operator, or platform staff."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=120, blank=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Platform staff: may log in to the Django admin."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = OperatorManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        ordering = ["email"]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name or self.email


class Merchant(models.Model):
    """A merchant (가맹점), or a sub-merchant (하위 가맹점) when it has a parent agency."""

    code = models.CharField(
        _("merchant code"),
        max_length=11,
        unique=True,
        editable=False,
        help_text=_("imp + 8 digits. Generated once, never changed."),
    )
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sub_merchants",
        help_text=_("Set for a sub-merchant: the agency it belongs to."),
    )
    tier_code = models.CharField(
        _("tier code"),
        max_length=3,
        blank=True,
        validators=[tier_code_validator],
        help_text=_("Sub-merchants only: exactly 3 uppercase letters or digits."),
    )
    whitelist_enabled = models.BooleanField(
        _("whitelist enabled"),
        default=False,
        help_text=_("When on, REST API calls are accepted only from the whitelist's CIDR blocks."),
    )
    webhook_same_as_agency = models.BooleanField(
        _("webhook same as the agency"),
        default=True,
        help_text=_("Sub-merchants only: notify the agency's webhook endpoint instead of an own one."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "tier_code"],
                condition=Q(parent__isnull=False),
                name="merchant_tier_code_unique_under_parent",
                violation_error_message=_("This agency already has a sub-merchant with this tier code."),
            ),
            models.CheckConstraint(
                condition=(Q(parent__isnull=True) & Q(tier_code=""))
                | (Q(parent__isnull=False) & ~Q(tier_code="")),
                name="merchant_tier_code_iff_sub_merchant",
                violation_error_message=_("A sub-merchant needs a tier code; an agency has none."),
            ),
        ]

    def __str__(self):
        if self.parent_id:
            return f"{self.name} ({self.tier_code})"
        return self.name

    @property
    def is_sub_merchant(self) -> bool:
        return self.parent_id is not None

    def clean(self):
        super().clean()
        if self.tier_code:
            self.tier_code = self.tier_code.strip().upper()
        if self.parent_id is None:
            if self.tier_code:
                raise ValidationError(
                    {"tier_code": _("Only a sub-merchant has a tier code. Choose its agency first.")}
                )
            return
        if self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A merchant cannot be its own agency.")})
        if self.parent.parent_id is not None:
            raise ValidationError(
                {"parent": _("Sub-merchants go one level deep: this agency is itself a sub-merchant.")}
            )
        if self.pk and self.sub_merchants.exists():
            raise ValidationError(
                {"parent": _("This merchant has sub-merchants of its own, so it cannot become one.")}
            )
        if not self.tier_code:
            raise ValidationError({"tier_code": _("A sub-merchant needs a tier code.")})


class Membership(models.Model):
    """An operator's role on a merchant. A membership on an agency reaches its sub-merchants."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["merchant_id", "operator__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "merchant"],
                name="membership_one_role_per_merchant",
                violation_error_message=_("This operator already has a role on this merchant."),
            ),
        ]

    def __str__(self):
        return f"{self.operator} — {self.get_role_display()} @ {self.merchant}"


class AuditEvent(models.Model):
    """One administrative change. Never holds a secret value: only which fields changed."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_email = models.CharField(_("actor email"), max_length=254, blank=True)
    merchant = models.ForeignKey(
        Merchant,
        verbose_name=_("merchant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=200, blank=True)
    changed_fields = models.JSONField(_("changed fields"), default=list, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="audit_merchant_time")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.target_repr}"


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
