"""Forms of the Payments page: the filters, and the cancel of one payment."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.tenancy.forms import WholeNumberField
from payments.domain.inputs import MAX_AMOUNT
from payments.models import PaymentCancellation, PayMethod, Status
from payments.selectors.payments import PaymentFilters, SearchBy


class PaymentFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    pay_method = forms.ChoiceField(label=_("Payment method"), required=False)
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    search_by = forms.ChoiceField(label=_("Search in"), required=False, choices=SearchBy.choices)
    q = forms.CharField(label=_("Search"), required=False, max_length=254, strip=True)

    def __init__(self, *args, channels: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *Status.choices]
        self.fields["pay_method"].choices = [("", _("Any method")), *PayMethod.choices]
        self.fields["channel"].choices = [("", _("Any channel")), *channels]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> PaymentFilters:
        """The valid filters (call after ``is_valid``); an unbound form filters nothing."""
        if not self.is_bound:
            return PaymentFilters()
        data = {k: v for k, v in self.cleaned_data.items() if v}
        return PaymentFilters(**data)


REASON_MAX = PaymentCancellation._meta.get_field("reason").max_length


class CancelForm(forms.Form):
    amount = WholeNumberField(
        label=_("Amount to cancel (won)"), required=False, min_value=1, max_value=MAX_AMOUNT,
        help_text=_("Leave empty to cancel everything that is left."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=REASON_MAX, strip=True)
