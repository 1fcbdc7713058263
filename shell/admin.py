"""The audit trail in the Django admin: read-only, for platform staff."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from console.models import AuditEvent
from console.tenancy import audit_actions
from console.tenancy.admin_mixins import ReadOnlyAdminMixin


class ActionFilter(admin.SimpleListFilter):
    """Every action the apps register, by its label (the column holds only the code)."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return audit_actions.choices()

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor_email", "merchant", "action_shown", "target_repr", "ip_address"]
    list_select_related = ["merchant"]
    list_filter = [ActionFilter, "target_type", "created_at"]
    search_fields = ["actor_email", "merchant__name", "merchant__code", "target_repr", "action"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    @admin.display(description=_("action"), ordering="action")
    def action_shown(self, event):
        return event.action_label()
