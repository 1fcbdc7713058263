"""Who must use two-factor login, and what a session still owes after the password.

At login (``user_logged_in``) the session records what the operator still owes: ``verify``
(they have a device) or ``enrol`` (a merchant's rule, or the staff setting, requires it of
them and they have none). ``accounts.two_factor.middleware`` holds them to it. A session
that passed the second step is marked with ``django_otp.login``, so
``request.user.is_verified()`` is true, as the admin site needs.
"""


import django_otp
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models import Q
from django.dispatch import receiver
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from console.models import Merchant, Operator, TwoFactorDevice
from console.tenancy.roles import Role

# The session key holding what the operator still owes after their password.
SESSION_OWED = "pgconsole_two_factor_owed"
OWED_VERIFY = "verify"
OWED_ENROL = "enrol"

# --- Policy ---------------------------------------------------------------------------


_POLICY_ROLES = (Role.OWNER, Role.ADMIN)


def _policy_merchants(operator: Operator):
    """The merchants requiring 2FA on which the operator is an owner or admin. A
    sub-merchant's owners and admins are its agency's (its own members are managers or
    viewers), so a sub-merchant's policy reaches them through the agency membership."""
    return Merchant.objects.filter(require_two_factor=True).filter(
        Q(memberships__operator=operator, memberships__role__in=_POLICY_ROLES)
        | Q(parent__memberships__operator=operator, parent__memberships__role__in=_POLICY_ROLES)
    )


def two_factor_required(operator: Operator) -> bool:
    """Whether the operator must use two-factor login."""
    if operator.is_staff and settings.PGCONSOLE_STAFF_REQUIRE_2FA:
        return True
    return _policy_merchants(operator).exists()


def two_factor_required_by(operator: Operator) -> str:
    """Why two-factor login is required of the operator, in words ("" when it is not)."""
    names = sorted(set(_policy_merchants(operator).values_list("name", flat=True)))
    if names:
        return ngettext("the merchant %(names)s", "the merchants %(names)s", len(names)) % {
            "names": ", ".join(names)
        }
    if operator.is_staff and settings.PGCONSOLE_STAFF_REQUIRE_2FA:
        return _("the platform's policy for staff")
    return ""


# --- Sessions -------------------------------------------------------------------------


def owed_at_login(operator: Operator) -> str | None:
    if TwoFactorDevice.objects.filter(user=operator, confirmed=True).exists():
        return OWED_VERIFY
    if two_factor_required(operator):
        return OWED_ENROL
    return None


@receiver(user_logged_in, dispatch_uid="accounts.two_factor.on_login")
def _on_login(sender, request, user, **kwargs):
    """A password login is not a second factor: note what the session still owes."""
    session = getattr(request, "session", None)
    if session is None:
        return
    owed = owed_at_login(user)
    if owed is None:
        session.pop(SESSION_OWED, None)
        return
    session[SESSION_OWED] = owed
    if getattr(user, "otp_device", None) is None:
        # A verification carried over from an earlier login in this session does not count.
        session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)


def session_owed(request) -> str | None:
    session = getattr(request, "session", None)
    return session.get(SESSION_OWED) if session is not None else None


def session_set_owed(request, owed: str | None) -> None:
    if owed is None:
        request.session.pop(SESSION_OWED, None)
    else:
        request.session[SESSION_OWED] = owed


def session_verified(request, device: TwoFactorDevice) -> None:
    """The second step passed: mark the session verified, give it a new key, owe nothing."""
    django_otp.login(request, device)
    request.session.pop(SESSION_OWED, None)
    request.session.cycle_key()


def safe_next(request, candidate: str | None, default: str = "") -> str:
    """``candidate`` if it is a path on this site, else ``default``."""
    if candidate and len(candidate) <= 2000 and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default
