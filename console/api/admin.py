"""The REST API's guards in the Django admin: whitelist rules, read-only (merchants edit
them on the Whitelist page, with validation and audit)."""

from django.contrib import admin

from console.models import WhitelistRule
from console.tenancy.admin_mixins import ReadOnlyAdminMixin


@admin.register(WhitelistRule)
class WhitelistRuleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: merchants edit their whitelist in the console (with validation and audit)."""

    list_display = ["cidr", "memo", "merchant", "position"]
    list_select_related = ["merchant"]
    search_fields = ["cidr", "memo", "merchant__name", "merchant__code"]
    readonly_fields = ["merchant", "cidr", "memo", "position"]
