"""Django admin for webhooks. Secrets are never shown; staff send real notifications
from the endpoint list (action "Notify a payment event")."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from console.tenancy.admin_mixins import ReadOnlyAdminMixin
from console.tenancy.audit import Actor

from . import payloads, services
from .models import Attempt, Delivery, WebhookEndpoint, WebhookSecret


class NotifyForm(forms.Form):
    imp_uid = forms.CharField(max_length=64)
    merchant_uid = forms.CharField(max_length=64)
    status = forms.ChoiceField(choices=[(s, s) for s in payloads.V2_TYPES])
    cancellation_id = forms.CharField(max_length=64, required=False)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["merchant", "mode", "url", "content_type", "version", "enabled", "updated_at"]
    list_select_related = ["merchant"]
    list_filter = ["mode", "enabled", "version", "content_type"]
    search_fields = ["url", "merchant__name", "merchant__code"]
    readonly_fields = ["merchant", "mode", "url", "content_type", "version", "enabled", "disabled_reason",
                       "created_at", "updated_at"]
    actions = ["notify_event"]

    def has_send_notification_permission(self, request):
        """The endpoint stays read-only here; sending a notification signed with the merchant's
        secret is a power of its own (``webhooks.send_notification``), never implied by view."""
        return request.user.has_perm(f"{self.opts.app_label}.send_notification")

    @admin.action(description=_("Notify a payment event…"), permissions=["send_notification"])
    def notify_event(self, request, queryset):
        if "apply" in request.POST:
            form = NotifyForm(request.POST)
            if form.is_valid():
                actor, sent = Actor.from_request(request), 0
                for endpoint in queryset.select_related("merchant"):
                    try:
                        delivery = services.notify_event(merchant=endpoint.merchant, mode=endpoint.mode,
                                                         actor=actor, **form.cleaned_data)
                    except ValidationError as exc:
                        self.message_user(request, "; ".join(exc.messages), level=messages.ERROR)
                        return None
                    sent += delivery is not None
                self.message_user(request, _("%(n)d notification(s) queued.") % {"n": sent})
                return None
        else:
            form = NotifyForm()
        return TemplateResponse(request, "admin/webhooks/notify_event.html", {
            **self.admin_site.each_context(request), "form": form, "endpoints": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME, "opts": self.model._meta,
            "title": _("Notify a payment event"),
        })


@admin.register(WebhookSecret)
class WebhookSecretAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "endpoint", "created_at", "expires_at"]
    list_select_related = ["endpoint", "endpoint__merchant"]
    search_fields = ["endpoint__merchant__name", "endpoint__merchant__code", "hint"]
    fields = ["endpoint", "hint", "created_at", "expires_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secret_encrypted")


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ["number", "url", "started_at", "duration_ms", "response_status", "error_kind", "error_text"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["message_id", "merchant", "mode", "trigger", "event", "status", "attempt_count",
                    "last_status_code", "created_at"]
    list_select_related = ["merchant"]
    list_filter = ["status", "trigger", "mode", "created_at"]
    search_fields = ["message_id", "imp_uid", "merchant__name", "merchant__code", "url"]
    readonly_fields = ["message_id", "merchant", "endpoint", "mode", "trigger", "event", "imp_uid", "url", "to_notice_url",
                       "content_type", "version", "body", "status", "max_attempts", "attempt_count", "next_attempt_at",
                       "enqueued_at", "last_status_code", "last_error_text", "created_at", "completed_at"]
    fields = readonly_fields
    inlines = [AttemptInline]
    date_hierarchy = "created_at"
    show_full_result_count = False
