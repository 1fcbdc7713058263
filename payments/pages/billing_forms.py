"""Forms of the Billing keys and Schedules pages: their searches, and the reason for deleting a
billing key. Limits come from the models."""

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.models import CUSTOMER_UID_MAX, MERCHANT_UID_MAX, BillingKey
from payments.selectors.billing import ScheduleView

DELETE_REASON_MAX = BillingKey._meta.get_field("delete_reason").max_length


class BillingKeySearchForm(forms.Form):
    q = forms.CharField(label=_("customer_uid starts with"), required=False, max_length=CUSTOMER_UID_MAX,
                        strip=True)

    def query(self) -> str:
        """The search (call after ``is_valid``); an invalid one searches nothing."""
        return self.cleaned_data.get("q", "") if self.is_valid() else ""


class ScheduleSearchForm(forms.Form):
    view = forms.CharField(required=False, max_length=20)
    q = forms.CharField(label=_("merchant_uid or customer_uid (exact)"), required=False,
                        max_length=max(CUSTOMER_UID_MAX, MERCHANT_UID_MAX), strip=True)

    def values(self) -> tuple[str, str]:
        """(tab, search): an unknown tab is the first one (due); an invalid search, none."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        view = data.get("view") or self.data.get("view")
        return (view if view in ScheduleView.ALL else ScheduleView.DUE), data.get("q", "")


class BillingKeyDeleteForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=DELETE_REASON_MAX, strip=True,
                             help_text=_("Kept with the key and in the audit log."))
