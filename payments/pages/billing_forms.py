"""Forms of the Billing keys page: its search, and the reason for deleting a billing key. Limits
come from the models."""

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.models import CUSTOMER_UID_MAX, BillingKey

DELETE_REASON_MAX = BillingKey._meta.get_field("delete_reason").max_length


class BillingKeySearchForm(forms.Form):
    q = forms.CharField(label=_("customer_uid starts with"), required=False, max_length=CUSTOMER_UID_MAX,
                        strip=True)

    def query(self) -> str:
        """The search (call after ``is_valid``); an invalid one searches nothing."""
        return self.cleaned_data.get("q", "") if self.is_valid() else ""


class BillingKeyDeleteForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=DELETE_REASON_MAX, strip=True,
                             help_text=_("Kept with the key and in the audit log."))
