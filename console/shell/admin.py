"""Django admin for platform staff.

Writes made here go through the same services as the console, so every change
is validated the same way and leaves an audit row.
"""

from django.contrib import admin

from console.models import AuditEvent

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
