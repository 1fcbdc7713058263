"""Form helpers shared by the console's apps."""

from django import forms
from django.utils.translation import gettext_lazy as _

from console.models import Merchant
from console.tenancy.forms import ServiceErrorsMixin
from console.tenancy.roles import Role

# --- Accounts page -------------------------------------------------------------


class InviteForm(ServiceErrorsMixin, forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in roles]
        self.fields["role"].initial = roles[-1].value if roles else None  # the weakest role


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class InvitationAcceptForm(ServiceErrorsMixin, forms.Form):
    """A new operator's name and password. Password rules are checked by the service."""

    full_name = forms.CharField(label=_("Your name"), max_length=120, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    password1 = forms.CharField(label=_("Password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("Password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    service_fields = {"password": "password1"}

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class SubMerchantForm(ServiceErrorsMixin, forms.Form):
    """The sub-merchant's profile. The service validates (tier code format and uniqueness)."""

    name = forms.CharField(label=_("Name"), max_length=100)
    tier_code = forms.CharField(
        label=_("Tier code"), max_length=3, min_length=3,
        help_text=_("Exactly 3 uppercase letters or digits, unique under this agency, e.g. A01. "
                    "Sent as the Tier header of REST API calls."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "font-monospace text-uppercase"}),
    )
    service_url = forms.URLField(label=_("Service URL"), max_length=200, required=False,
                                 assume_scheme="https")
    contact_name = forms.CharField(label=_("Contact name"), max_length=60, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False,
                                    widget=forms.TextInput(attrs={"type": "tel"}))
    webhook_same_as_agency = forms.BooleanField(
        label=_("Webhook same as the main store"), required=False,
        help_text=_("Notify the agency's webhook endpoint instead of one of its own."),
    )

    @classmethod
    def for_merchant(cls, merchant: Merchant, data=None):
        return cls(data, initial={f: getattr(merchant, f) for f in cls.base_fields})


class TwoFactorPolicyForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor login for owners and admins"), required=False
    )
