"""Forms of the accounts area: logging in, password reset, the Accounts page, invitations,
sub-merchants."""

import logging

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from console.models import Membership, Merchant
from console.tenancy.client_ip import client_ip
from console.tenancy.forms import ServiceErrorsMixin, StaleEditMixin
from console.tenancy.hashing import sha256_hex
from console.tenancy.roles import Role

log = logging.getLogger(__name__)
MEMO_MAX = Membership._meta.get_field("memo").max_length

# --- Logging in -------------------------------------------------------------------


def login_email(value) -> str:
    """An email address as logging in and its lock-out see it: trimmed, lower case. Accounts
    match case-insensitively, so failures with any casing must count against one name."""
    return (value or "").strip().lower()


def axes_username(request, credentials) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the name django-axes counts failures under, normalised as
    the login form does (the admin's login form, too, which does not normalise)."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        value = credentials.get(field)
    elif request is not None:
        value = getattr(request, "data", request.POST).get(field)
    else:
        value = None
    return login_email(value) if isinstance(value, str) else value


class OperatorLoginForm(AuthenticationForm):
    """Email + password. The error never says whether the account exists."""

    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("The email address or password is incorrect."),
        "inactive": _("The email address or password is incorrect."),
    }

    def clean_username(self) -> str:
        return login_email(self.cleaned_data["username"])


# --- Password reset ---------------------------------------------------------------


def _take_slot(name: str, slots: int, seconds: int) -> bool:
    """One of ``slots`` uses of ``name`` per ``seconds``, each slot freed ``seconds`` after it
    was taken. ``cache.add`` is atomic on Redis and on the database cache, so web processes
    share the count."""
    return any(cache.add(f"{name}:{i}", 1, timeout=seconds) for i in range(slots))


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, with its mail limited per client address and per email address.

    Over a limit the page answers exactly as it always does (whether or not the account
    exists), but no mail goes out, and a log line says why.
    """

    def save(self, *args, request=None, **kwargs):
        address = client_ip(request) if request is not None else None
        if not _take_slot(f"password-reset:address:{address}",
                          settings.PGCONSOLE_PASSWORD_RESET_ADDRESS_LIMIT, 60 * 60):
            log.warning("password reset from %s: no mail, more than %d requests from this "
                        "address in an hour", address, settings.PGCONSOLE_PASSWORD_RESET_ADDRESS_LIMIT)
            return
        email = login_email(self.cleaned_data["email"])
        minutes = settings.PGCONSOLE_PASSWORD_RESET_EMAIL_MINUTES
        if not _take_slot(f"password-reset:email:{sha256_hex(email)}", 1, minutes * 60):
            log.warning("password reset from %s: no mail, the same email address was asked for "
                        "less than %d minutes ago", address, minutes)
            return
        super().save(*args, request=request, **kwargs)


# --- Accounts page -------------------------------------------------------------


def _memo_field() -> forms.CharField:
    """The memo as typed: the service trims it and says what is wrong (too long, HTML), so the
    browser's limit is only a help."""
    return forms.CharField(
        label=_("Memo"), required=False, strip=False,
        widget=forms.TextInput(attrs={"maxlength": MEMO_MAX, "autocomplete": "off"}),
    )


class InviteForm(ServiceErrorsMixin, forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label=_("Role"))
    memo = _memo_field()

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["role"]
        field.choices = [(r.value, r.label) for r in roles]
        field.initial = roles[-1].value if roles else None  # the weakest role
        # Only the roles the inviter may give are offered; say so for any other.
        field.error_messages["invalid_choice"] = _(
            "Select a valid choice. The roles you can give here: %(roles)s."
        ) % {"roles": ", ".join(str(r.label) for r in roles)}


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class MemberMemoForm(forms.Form):
    memo = _memo_field()


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


class ChannelKeysField(forms.MultipleChoiceField):
    """Channels chosen by their keys, shown as checkboxes. Which may be taken is
    ``channels.services.channels_assign_set``'s to say, so every value passes here."""

    widget = forms.CheckboxSelectMultiple

    def valid_value(self, value) -> bool:
        return True


class SubMerchantForm(StaleEditMixin, ServiceErrorsMixin, forms.Form):
    """The sub-merchant's profile and channels. The services validate (tier code format and
    uniqueness, which channels it may be given)."""

    stale_lead = _("Someone changed this sub-merchant while you were editing: %(changes)s.")

    name = forms.CharField(label=_("Name"), max_length=100)
    channels = ChannelKeysField(
        label=_("Payment channels it uses"), required=False,
        help_text=_("This agency's live channels that no other sub-merchant uses. A channel "
                    "serves one sub-merchant at a time."),
    )
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

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].choices = [(c.channel_key, self.channel_label(c)) for c in channels]

    @staticmethod
    def channel_label(channel) -> str:
        label = _("%(channel)s (%(mode)s)") % {"channel": channel, "mode": channel.get_mode_display()}
        return label if channel.enabled else _("%(channel)s, disabled") % {"channel": label}

    @classmethod
    def for_merchant(cls, merchant: Merchant, data=None, *, channels=()):
        initial = {f: getattr(merchant, f) for f in cls.base_fields if f != "channels"}
        initial["channels"] = [c.channel_key for c in channels if c.assigned_to_id == merchant.pk]
        return cls(data, initial=initial, channels=channels)

    def service_values(self) -> dict:
        """``cleaned_data`` as the services take it (the channels by ``channel_keys``)."""
        values = dict(self.cleaned_data)
        values["channel_keys"] = values.pop("channels")
        return values


class TwoFactorPolicyForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor login for owners and admins"), required=False
    )
