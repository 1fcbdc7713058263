"""Form helpers shared by the console's apps."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.tenancy.audit_actions import label as action_label


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(label=_("Actor"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    bookkeeping = forms.BooleanField(label=_("Include the system's own bookkeeping"),
                                     required=False)

    def __init__(self, *args, actors, actions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", _("Anyone")), ("system", _("System"))] + [
            (a, a) for a in actors
        ]
        self.fields["action"].choices = [("", _("Any action"))] + sorted(
            ((a, action_label(a)) for a in actions), key=lambda choice: choice[1].casefold()
        )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
