from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


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


class LoginView(auth_views.LoginView):
    form_class = OperatorLoginForm
    redirect_authenticated_user = True
