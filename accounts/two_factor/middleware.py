"""``TwoFactorMiddleware``: a session that owes a second step (see ``policy``) reaches that
step's pages and nothing else. A session owing nothing costs no query here.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse

from .policy import OWED_ENROL, OWED_VERIFY, SESSION_OWED, session_owed

# Pages a session that owes a step may still reach.
EXEMPT_VIEWS = frozenset({
    "two_factor:verify", "two_factor:recover", "two_factor:enrol",
    "logout", "set_language", "healthz",
    # The REST API authenticates with tokens, never with the session.
    "rest_get_token", "rest_users_pg", "rest_tier", "rest_not_found", "openapi",
})


class TwoFactorMiddleware:
    """Send a session that owes a second step (see ``_on_login``) to that step.

    Goes after ``django_otp.middleware.OTPMiddleware``. Decides from the session
    alone: a session owing nothing costs nothing here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        owed = session_owed(request)
        if not owed:
            return None
        if owed not in (OWED_VERIFY, OWED_ENROL):
            request.session.pop(SESSION_OWED, None)
            return None
        match = request.resolver_match
        if match is not None and match.view_name in EXEMPT_VIEWS:
            return None
        if request.path_info.startswith(settings.STATIC_URL or "/static/"):
            return None
        if not request.user.is_authenticated:  # a stale flag (the login ended)
            request.session.pop(SESSION_OWED, None)
            return None
        target = reverse("two_factor:verify" if owed == OWED_VERIFY else "two_factor:enrol")
        if request.method in ("GET", "HEAD"):
            target += "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):
            from django_htmx.http import HttpResponseClientRedirect

            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)
