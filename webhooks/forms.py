from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from console.tenancy.forms import ServiceErrorsMixin, StaleEditMixin

from .models import ContentType, PayloadVersion


class EndpointForm(StaleEditMixin, ServiceErrorsMixin, forms.Form):
    """One mode's settings. webhooks/services.py validates the URL (safety) and the combination."""

    stale_lead = _("Someone changed this webhook while you were editing: %(changes)s.")

    url = forms.CharField(
        label=_("Endpoint URL"), required=False, max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/portone-webhook",
                                     "autocomplete": "off", "spellcheck": "false"}),
    )
    content_type = forms.ChoiceField(label=_("Content type"), choices=ContentType.choices,
                                     widget=forms.Select(attrs={"class": "form-select"}))
    version = forms.ChoiceField(label=_("Payload version"), choices=PayloadVersion.choices,
                                widget=forms.Select(attrs={"class": "form-select"}))
    enabled = forms.BooleanField(label=_("Send notifications"), required=False, initial=True)


class RecoverForm(forms.Form):
    """"Resend failed deliveries since …": the time, in the console's time zone."""

    since = forms.DateTimeField(
        label=_("Failed since"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("Enter a date and time, for example 2026-12-08 09:30.")},
    )

    def clean_since(self):
        since = self.cleaned_data["since"]
        if since > timezone.now():
            raise forms.ValidationError(_("Choose a time in the past."))
        return since
