"""The Schedules page's search form. Limits come from the models."""

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.models import CUSTOMER_UID_MAX, MERCHANT_UID_MAX
from payments.selectors.billing import ScheduleView


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
