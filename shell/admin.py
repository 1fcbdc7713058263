"""The audit trail in the Django admin: read-only, for platform staff."""

from django.contrib import admin

from console.models import AuditEvent
from console.tenancy.admin_mixins import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor_email", "merchant", "action", "target_repr", "ip_address"]
    list_select_related = ["merchant"]
    list_filter = ["action", "target_type", "created_at"]
    search_fields = ["actor_email", "merchant__name", "merchant__code", "target_repr", "action"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
