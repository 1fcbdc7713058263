"""Django admin for platform staff.

Writes made here go through the same services as the console, so every change
is validated the same way and leaves an audit row.
"""

from django.contrib import admin

from console.models import WhitelistRule

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
