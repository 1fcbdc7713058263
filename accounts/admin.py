"""Django admin for platform staff.

Writes made here go through the same services as the console, so every change
is validated the same way and leaves an audit row.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
from accounts.two_factor import services as two_factor
from console.models import Invitation, Membership, Merchant, Operator
from console.tenancy.admin_mixins import ReadOnlyAdminMixin
from console.tenancy.audit import Actor
from console.tenancy.roles import STAFF_AUTHORITY

MERCHANT_PROFILE_FIELDS = [
    "service_url", "contact_name", "contact_phone", "webhook_same_as_agency", "require_two_factor",
]


class OperatorChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = Operator
        fields = "__all__"


class OperatorCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = Operator
        fields = ("email",)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["merchant"]
    fields = ["merchant", "role", "created_at"]
    readonly_fields = ["merchant", "role", "created_at"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # Added through the Membership admin, which writes the audit row.
        return False


@admin.register(Operator)
class OperatorAdmin(UserAdmin):
    form = OperatorChangeForm
    add_form = OperatorCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "last_login", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined", "two_factor_status"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name",)}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
        (_("Security"), {"fields": ("two_factor_status",)}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),
    )
    actions = ["reset_two_factor"]

    @admin.display(description=_("Two-factor login"))
    def two_factor_status(self, obj):
        device = two_factor.confirmed_device(obj) if obj and obj.pk else None
        if device is None:
            return _("Off")
        return _("On since %(date)s; %(left)d recovery codes left") % {
            "date": date_format(timezone.localtime(device.created_at), "Y-m-d"),
            "left": two_factor.recovery_codes_left(device),
        }

    def has_reset_two_factor_permission(self, request):
        """A power of its own (``console.reset_two_factor``): neither viewing nor changing
        operators implies it."""
        return request.user.has_perm(f"{self.opts.app_label}.reset_two_factor")

    @admin.action(description=_("Reset two-factor login"), permissions=["reset_two_factor"])
    def reset_two_factor(self, request, queryset):
        """For an operator who lost their phone and their recovery codes: their devices and
        codes go (audited); their next login asks them to set it up again if required. Only a
        superuser resets a superuser's."""
        if not request.user.is_superuser:
            skipped = queryset.filter(is_superuser=True).count()
            if skipped:
                self.message_user(request, ngettext(
                    "%(count)d superuser left unchanged: only a superuser can reset a "
                    "superuser's two-factor login.",
                    "%(count)d superusers left unchanged: only a superuser can reset a "
                    "superuser's two-factor login.",
                    skipped,
                ) % {"count": skipped}, level=messages.WARNING)
            queryset = queryset.filter(is_superuser=False)
        actor = Actor.from_request(request)
        done = sum(
            two_factor.two_factor_reset(actor=actor, operator=operator) for operator in queryset
        )
        self.message_user(request, ngettext(
            "Two-factor login reset for %(count)d operator.",
            "Two-factor login reset for %(count)d operators.",
            done,
        ) % {"count": done})


class SubMerchantInline(admin.TabularInline):
    model = Merchant
    fk_name = "parent"
    extra = 0
    fields = ["name", "tier_code", "code"]
    readonly_fields = ["name", "tier_code", "code"]
    can_delete = False
    show_change_link = True
    verbose_name = _("sub-merchant")
    verbose_name_plural = _("sub-merchants")

    def has_add_permission(self, request, obj=None):
        return False


class MerchantAdminForm(forms.ModelForm):
    class Meta:
        model = Merchant
        fields = ["name", "parent", "tier_code"]

    def clean_tier_code(self):
        return (self.cleaned_data.get("tier_code") or "").strip().upper()


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    form = MerchantAdminForm
    list_display = ["name", "code", "tier_code", "parent", "created_at"]
    list_select_related = ["parent"]
    list_filter = [("parent", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "code", "tier_code", "parent__name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["code", "created_at", "updated_at"]
    fields = ["code", "name", "parent", "tier_code", *MERCHANT_PROFILE_FIELDS, "created_at",
              "updated_at"]
    inlines = [SubMerchantInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None and obj.pk and obj.parent_id is None else []

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("parent")  # an agency never changes hands
        return fields

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        profile = {f: getattr(obj, f) for f in MERCHANT_PROFILE_FIELDS}
        if change:
            saved = services.merchant_update(
                actor=actor, merchant=obj, name=obj.name, tier_code=obj.tier_code, **profile
            )
        elif obj.parent_id:
            saved = services.sub_merchant_create(
                actor=actor, agency=obj.parent, name=obj.name, tier_code=obj.tier_code,
                **{f: v for f, v in profile.items() if f in services.SUB_MERCHANT_PROFILE},
            )
        else:
            saved = services.merchant_create(actor=actor, name=obj.name)
            if any(profile[f] != Merchant._meta.get_field(f).default for f in profile):
                saved = services.merchant_update(actor=actor, merchant=saved, **profile)
        obj.pk, obj.code = saved.pk, saved.code

    def has_delete_permission(self, request, obj=None):
        # Merchants are never deleted from the admin: their audit trail stays.
        return False


class MembershipAdminForm(forms.ModelForm):
    """Checks the role rules (limits, last owner) before the service writes, so a refusal is
    a form error, not a server error."""

    class Meta:
        model = Membership
        fields = ["operator", "merchant", "role"]

    def clean(self):
        data = super().clean()
        merchant, role = data.get("merchant") or getattr(self.instance, "merchant", None), data.get("role")
        if merchant is None or not role:
            return data
        existing = self.instance if self.instance.pk else None
        try:
            if existing is not None and existing.role != role:
                services.last_owner_check(existing)
            if existing is None or existing.role != role:
                services.role_limits_check(merchant, role, membership=existing)
        except ValidationError as exc:
            self.add_error("role", exc.messages)
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["operator", "merchant", "role", "created_at"]
    list_select_related = ["operator", "merchant", "merchant__parent"]
    list_filter = ["role"]
    search_fields = ["operator__email", "merchant__name", "merchant__code"]
    autocomplete_fields = ["operator", "merchant"]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["operator", "merchant"]
        return fields

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            services.membership_set_role(actor=actor, membership=obj, role=obj.role,
                                         actor_role=STAFF_AUTHORITY)
        else:
            saved = services.membership_create(
                actor=actor, operator=obj.operator, merchant=obj.merchant, role=obj.role,
                actor_role=STAFF_AUTHORITY,
            )
            obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.role == "owner":
            try:
                services.last_owner_check(obj)
            except ValidationError:
                return False  # the last owner stays; the page says nothing can be deleted
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.membership_delete(actor=Actor.from_request(request), membership=obj,
                                   actor_role=STAFF_AUTHORITY)

    def delete_queryset(self, request, queryset):
        actor = Actor.from_request(request)
        try:
            with transaction.atomic():
                for membership in queryset.select_related("operator", "merchant"):
                    services.membership_delete(actor=actor, membership=membership,
                                               actor_role=STAFF_AUTHORITY)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages) + " " + str(_("Nothing was deleted.")),
                              level=messages.ERROR)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only, with a revoke action: invitations are made on the console's Accounts page.
    The link's hash is never shown."""

    list_display = ["email", "merchant", "role", "status_label", "invited_by", "created_at", "expires_at",
                    "send_count"]
    list_select_related = ["merchant", "invited_by"]
    list_filter = ["role", "created_at"]
    search_fields = ["email", "merchant__name", "merchant__code"]
    fields = ["merchant", "email", "role", "invited_by", "created_at", "expires_at", "sent_at",
              "send_count", "accepted_at", "accepted_by", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description=_("status"))
    def status_label(self, obj):
        return {"accepted": _("Accepted"), "revoked": _("Revoked"), "expired": _("Expired"),
                "pending": _("Pending")}[obj.status]

    def has_revoke_permission(self, request):
        """Revoking is the one change staff make to an invitation, so it takes the model's
        "change invitation" permission; the pages themselves stay read-only."""
        return request.user.has_perm(f"{self.opts.app_label}.change_invitation")

    @admin.action(description=_("Revoke the selected invitations"), permissions=["revoke"])
    def revoke(self, request, queryset):
        from accounts.services.invitations import invitation_revoke

        actor = Actor.from_request(request)
        done = 0
        for invitation in queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True):
            invitation_revoke(actor=actor, invitation=invitation)
            done += 1
        self.message_user(request, ngettext("%(count)d invitation revoked.",
                                            "%(count)d invitations revoked.", done) % {"count": done})
