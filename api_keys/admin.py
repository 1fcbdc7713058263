"""The REST API's guards in the Django admin: whitelist rules and API keys, both read-only
(merchants edit them on the Whitelist and API keys pages, with validation and audit). Staff
can revoke a leaked key; that goes through ``api_key_revoke``, which writes the audit row."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api_keys.services.api_keys import api_key_revoke
from console.models import ApiKey, WhitelistRule
from console.tenancy.admin_mixins import ReadOnlyAdminMixin
from console.tenancy.audit import Actor


@admin.register(WhitelistRule)
class WhitelistRuleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: merchants edit their whitelist in the console (with validation and audit)."""

    list_display = ["cidr", "memo", "merchant", "position"]
    list_select_related = ["merchant"]
    search_fields = ["cidr", "memo", "merchant__name", "merchant__code"]
    readonly_fields = ["merchant", "cidr", "memo", "position"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """List-only, with a "Revoke" action. Never shows the secret's hash or a token."""

    list_display = ["name", "key", "merchant", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_select_related = ["merchant"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["key", "name", "merchant__name", "merchant__code"]
    fields = ["name", "key", "merchant", "created_at", "last_used_at", "expires_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secret_hash")

    def has_revoke_permission(self, request):
        """Revoking is the one change staff make to a key, so it takes the model's "change API
        key" permission; the pages themselves stay read-only."""
        return request.user.has_perm(f"{self.opts.app_label}.change_apikey")

    @admin.action(description=_("Revoke the selected API keys"), permissions=["revoke"])
    def revoke(self, request, queryset):
        """The key and every token issued with it stop working at once (audited)."""
        actor = Actor.from_request(request)
        done = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(actor=actor, api_key=api_key)
            done += 1
        self.message_user(request, ngettext("%(count)d API key revoked.",
                                            "%(count)d API keys revoked.", done) % {"count": done})
