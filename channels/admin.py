"""Django admin for channels. It never shows or accepts a channel's credentials;
shared test credentials are write-only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from console.tenancy.audit import Actor
from console.tenancy.crypto import decrypt_json

from . import catalog, services
from .models import Channel, SharedTestCredential


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["pg_string", "name", "merchant", "mode", "provider", "module", "assigned_to",
                    "enabled", "is_default", "updated_at"]
    list_select_related = ["merchant", "assigned_to"]
    list_filter = ["provider", "mode", "module", "enabled", "merchant"]
    search_fields = ["mid", "name", "channel_key", "merchant__name", "merchant__code"]
    readonly_fields = ["merchant", "assigned_to", "mode", "provider", "pg_provider", "module", "mid",
                       "name", "tax_type", "payment_methods", "channel_key", "is_default", "enabled",
                       "shared_credential", "credentials_summary", "created_by", "updated_by",
                       "created_at", "updated_at"]
    fields = readonly_fields
    actions = ["enable", "disable"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("credentials_encrypted")

    @admin.display(description=_("pg string"))
    def pg_string(self, obj):
        return obj.pg_string

    @admin.display(description=_("credentials"))
    def credentials_summary(self, obj):
        if obj.shared_credential_id:
            return _("The platform's shared test credentials.")
        provider = catalog.get(obj.provider)
        keys = [str(f.label) for f in provider.fields_for(obj.module, obj.pg_provider)] if provider else []
        return _("Stored encrypted; never shown here. Fields: %(fields)s") % {
            "fields": ", ".join(keys) or "—"
        }

    def has_add_permission(self, request):
        return False  # channels are added by merchants in the console

    def has_change_permission(self, request, obj=None):
        # The change form stays read-only (channels change in the console, with validation);
        # the list's enable/disable actions need the real "change channel" permission.
        return super().has_change_permission(request) if obj is None else False

    def has_delete_permission(self, request, obj=None):
        return False

    def _set_enabled(self, request, queryset, enabled):
        actor = Actor.from_request(request)
        count = 0
        for channel in queryset:
            # Staff disabling a default channel leave the merchant with none (audited), as
            # the admin has no page to ask which channel takes over.
            services.channel_set_enabled(actor=actor, channel=channel, enabled=enabled, successor=None)
            count += 1
        self.message_user(request, ngettext("%d channel changed.", "%d channels changed.", count) % count)

    @admin.action(description=_("Enable the selected channels"), permissions=["change"])
    def enable(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description=_("Disable the selected channels"), permissions=["change"])
    def disable(self, request, queryset):
        self._set_enabled(request, queryset, False)


class SharedTestCredentialForm(forms.ModelForm):
    credentials = forms.CharField(
        label=_("Credentials"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text=_("One field a line, as key=value (e.g. site_key=…). Write-only: stored encrypted "
                    "and never shown again. Leave blank to keep what is stored; a line replaces one field."),
    )

    class Meta:
        model = SharedTestCredential
        fields = ["provider", "module", "pg_provider", "mid", "note"]

    def clean_credentials(self):
        raw = self.cleaned_data.get("credentials") or ""
        values = {}
        for number, line in enumerate(raw.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            if "=" not in line:
                raise ValidationError(_("Line %(n)d is not key=value.") % {"n": number})
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
        return values


@admin.register(SharedTestCredential)
class SharedTestCredentialAdmin(admin.ModelAdmin):
    form = SharedTestCredentialForm
    list_display = ["__str__", "provider", "module", "mid", "note", "stored_fields", "updated_at"]
    list_filter = ["provider", "module"]
    search_fields = ["mid", "provider", "pg_provider", "note"]
    readonly_fields = ["stored_fields", "created_at", "updated_at"]

    @admin.display(description=_("stored fields"))
    def stored_fields(self, obj):
        return ", ".join(sorted(decrypt_json(obj.credentials_encrypted))) or "—"

    def save_model(self, request, obj, form, change):
        try:
            services.shared_test_credential_save(
                actor=Actor.from_request(request), credential=obj,
                credentials=form.cleaned_data.get("credentials") or None,
            )
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), level=messages.ERROR)
            raise
