"""Django admin for platform staff.

Writes made here go through the same services as the console, so every change
is validated the same way and leaves an audit row.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import services
from .audit import Actor
from .models import AuditEvent, Membership, Merchant, Operator, WhitelistRule


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
    readonly_fields = ["last_login", "date_joined"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name",)}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),
    )


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
    fields = ["code", "name", "parent", "tier_code", "created_at", "updated_at"]
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
        if change:
            saved = services.merchant_update(
                actor=actor, merchant=obj, name=obj.name, tier_code=obj.tier_code
            )
        elif obj.parent_id:
            saved = services.sub_merchant_create(
                actor=actor, agency=obj.parent, name=obj.name, tier_code=obj.tier_code
            )
        else:
            saved = services.merchant_create(actor=actor, name=obj.name)
        obj.pk, obj.code = saved.pk, saved.code

    def has_delete_permission(self, request, obj=None):
        # Merchants are never deleted from the admin: their audit trail stays.
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
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
            services.membership_set_role(actor=actor, membership=obj, role=obj.role)
        else:
            saved = services.membership_create(
                actor=actor, operator=obj.operator, merchant=obj.merchant, role=obj.role
            )
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.membership_delete(actor=Actor.from_request(request), membership=obj)

    def delete_queryset(self, request, queryset):
        actor = Actor.from_request(request)
        with transaction.atomic():
            for membership in queryset.select_related("operator", "merchant"):
                services.membership_delete(actor=actor, membership=membership)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_email", "merchant", "action", "target_repr", "ip_address"]
    list_select_related = ["merchant"]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["actor_email", "merchant__name", "merchant__code", "target_repr", "action"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WhitelistRule)
class WhitelistRuleAdmin(admin.ModelAdmin):
    """Read-only: merchants edit their whitelist in the console (with validation and audit)."""

    list_display = ["cidr", "memo", "merchant", "position"]
    list_select_related = ["merchant"]
    search_fields = ["cidr", "memo", "merchant__name", "merchant__code"]
    readonly_fields = ["merchant", "cidr", "memo", "position"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
