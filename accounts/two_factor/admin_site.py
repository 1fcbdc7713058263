"""The Django admin site of PG Console (``ConsoleAdminConfig.default_site``).

With ``PGCONSOLE_STAFF_REQUIRE_2FA`` (on by default in production) staff need a session
that passed two-factor login, as django-otp's ``OTPAdminSite`` requires. The second step
itself is the console's (``TwoFactorMiddleware`` sends the session there after the password),
so the admin keeps Django's own login form.
"""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class ConsoleAdminSite(OTPAdminSite):
    site_header = _("PG Console — platform staff")
    site_title = _("PG Console admin")
    login_form = AdminAuthenticationForm
    login_template = None

    def __init__(self, name="admin"):  # OTPAdminSite's own default is "otpadmin"
        super().__init__(name)

    def has_permission(self, request):
        if not settings.PGCONSOLE_STAFF_REQUIRE_2FA:
            return AdminSite.has_permission(self, request)
        return super().has_permission(request)

