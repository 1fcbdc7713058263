"""Operators, merchants and sub-merchants (tiers), and who holds which role on them."""

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

from console.tenancy.roles import SUB_MERCHANT_ROLES, Role


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


phone_validator = RegexValidator(
    re.compile(r"^\+?[0-9][0-9 \-]{5,18}$"),
    _("Enter a phone number of digits, spaces and hyphens, e.g. 02-1234-5678 or +82 2 1234 5678."),
    code="invalid_phone",
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
        # The admin action "Reset two-factor login" (a power of its own: not "change").
        permissions = [("reset_two_factor", "Can reset an operator's two-factor login")]

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
    service_url = models.URLField(
        _("service URL"), max_length=200, blank=True,
        help_text=_("The merchant's own site, e.g. https://shop.example.com."),
    )
    contact_name = models.CharField(_("contact name"), max_length=60, blank=True)
    contact_phone = models.CharField(
        _("contact phone"), max_length=20, blank=True, validators=[phone_validator],
    )
    require_two_factor = models.BooleanField(
        _("require two-factor login"),
        default=False,
        help_text=_("Owners and admins must log in with a one-time code as well as their password."),
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
    memo = models.CharField(
        _("memo"), max_length=200, blank=True,
        help_text=_("A note on this account for the merchant's team, e.g. what it is used for. "
                    "Not secret: everyone who sees the Accounts page reads it."),
    )
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

    def audit_label(self) -> str:
        """How audit rows name it: no translated word, so every reader sees it alike."""
        return f"{self.operator} @ {self.merchant}"

    def clean(self):
        super().clean()
        if self.merchant_id and self.merchant.parent_id and self.role not in SUB_MERCHANT_ROLES:
            raise ValidationError(
                {"role": _("A sub-merchant's members can only be Manager or Viewer.")}
            )
