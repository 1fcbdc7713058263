"""Two-factor login pages: the operator's own settings, enrolment, and the login step.

Thin: each view reads the form, calls one service of ``accounts.two_factor`` and renders
or redirects. Bad input answers 400 with the service's message (429 while throttled),
never 500. Pages that show a key or recovery codes are never cached.

Recovery codes are shown once, after a redirect (post/redirect/get): enrolment and
"Regenerate recovery codes" keep the new codes in the session, encrypted, and redirect to
the settings page, whose first GET takes them out and shows them. A reload shows the
settings, not the codes, and makes no new ones.
"""


from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from console.tenancy import shown_once
from console.tenancy.audit import Actor

from . import policy, services

_STATUS = {"throttled": 429, "required": 403}


def _status(exc: ValidationError) -> int:
    return _STATUS.get(getattr(exc, "code", None), 400)


def _next(request) -> str:
    return policy.safe_next(request, request.POST.get("next") or request.GET.get("next"))


def _to(name: str, next_url: str = "") -> HttpResponseRedirect:
    url = reverse(name)
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return HttpResponseRedirect(url)


def _unverified_with_device(request, device) -> bool:
    """The operator has a device but this session has not passed it (e.g. it began before
    they set it up): such a session must verify before changing two-factor settings."""
    return device is not None and not request.user.is_verified()


# --- Recovery codes, shown once -----------------------------------------------------------

# Recovery codes just made, until the settings page is loaded once.
SHOWN_CODES = "two_factor.shown_codes"


def _keep_codes(request, codes, *, continue_url, regenerated=False) -> HttpResponseRedirect:
    """Keep the new codes for the next GET of the settings page, and redirect there."""
    shown_once.keep(request, SHOWN_CODES, {
        "user": request.user.pk, "codes": list(codes), "continue_url": continue_url,
        "regenerated": regenerated})
    return _to("two_factor:settings")


def _take_codes(request) -> dict | None:
    """The codes kept for this operator, taken out of the session: shown once, never again."""
    data = shown_once.take(request, SHOWN_CODES)
    return data if data and data.get("user") == request.user.pk else None


def _codes_page(request, codes, *, continue_url, regenerated=False):
    context = {
        "codes": codes,
        "codes_text": "\n".join(codes),
        "continue_url": continue_url,
        "regenerated": regenerated,
    }
    return render(request, "two_factor/recovery_codes.html", context)


# --- The operator's settings page ------------------------------------------------------


def _settings_page(request, *, errors=None, status=200):
    device = services.confirmed_device(request.user)
    context = {
        "device": device,
        "codes_left": services.recovery_codes_left(device) if device else 0,
        "required_by": policy.two_factor_required_by(request.user),
        "session_unverified": _unverified_with_device(request, device),
        "errors": errors or {},
    }
    return render(request, "two_factor/settings.html", context, status=status)


@never_cache
@login_required
def settings_view(request):
    """The settings; right after enrolment or "Regenerate recovery codes", the new codes once."""
    kept = _take_codes(request) if request.method == "GET" else None
    if kept is not None:
        return _codes_page(request, kept["codes"], continue_url=kept["continue_url"],
                           regenerated=kept["regenerated"])
    return _settings_page(request)


@never_cache
@login_required
@require_POST
def recovery_codes_view(request):
    device = services.confirmed_device(request.user)
    if device is None:
        messages.error(request, _("Two-factor login is off: there are no recovery codes."))
        return _to("two_factor:settings")
    try:
        codes = services.recovery_codes_regenerate(
            actor=Actor.from_request(request), device=device, token=request.POST.get("code")
        )
    except ValidationError as exc:
        return _settings_page(request, errors={"regenerate": exc.messages}, status=_status(exc))
    return _keep_codes(request, codes, continue_url=reverse("two_factor:settings"), regenerated=True)


@never_cache
@login_required
@require_POST
def disable_view(request):
    device = services.confirmed_device(request.user)
    if device is None:
        messages.info(request, _("Two-factor login is already off."))
        return _to("two_factor:settings")
    if _unverified_with_device(request, device):
        return _to("two_factor:verify", reverse("two_factor:settings"))
    try:
        services.two_factor_disable(
            actor=Actor.from_request(request), operator=request.user,
            password=request.POST.get("password"),
        )
    except ValidationError as exc:
        return _settings_page(request, errors={"disable": exc.messages}, status=_status(exc))
    messages.success(request, _("Two-factor login is off. Your recovery codes no longer work."))
    return _to("two_factor:settings")


# --- Enrolment ---------------------------------------------------------------------------


def _enrol_page(request, *, device, next_url, error=None, status=200):
    key_base32, otpauth_url = services.enrolment_key(device)
    context = {
        "key": key_base32,
        "key_groups": " ".join(key_base32[i:i + 4] for i in range(0, len(key_base32), 4)),
        "qr": services.qr_code_data_uri(otpauth_url),
        "next": next_url,
        "error": error,
        "forced": policy.session_owed(request) == policy.OWED_ENROL,
        "replacing": services.confirmed_device(request.user) is not None,
    }
    return render(request, "two_factor/enrol.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enrol_view(request):
    next_url = _next(request)
    if policy.session_owed(request) == policy.OWED_VERIFY or _unverified_with_device(
        request, services.confirmed_device(request.user)
    ):
        return _to("two_factor:verify", reverse("two_factor:enrol"))
    if policy.session_owed(request) == policy.OWED_ENROL and not policy.two_factor_required(request.user):
        policy.session_set_owed(request, None)  # the policy was lifted since they logged in
    if request.method == "GET":
        device, _key, _url = services.enrolment_start(request.user)
        return _enrol_page(request, device=device, next_url=next_url)

    device = services.pending_device(request.user)
    if device is None:
        device, _key, _url = services.enrolment_start(request.user)
        return _enrol_page(
            request, device=device, next_url=next_url, status=400,
            error=_("This set-up expired. Scan the new QR code and enter the code it gives."),
        )
    try:
        codes = services.enrolment_confirm(
            actor=Actor.from_request(request), device=device, token=request.POST.get("code")
        )
    except ValidationError as exc:
        if getattr(exc, "code", None) == "gone":
            device, _key, _url = services.enrolment_start(request.user)
        return _enrol_page(request, device=device, next_url=next_url, error=" ".join(exc.messages),
                           status=_status(exc))
    policy.session_verified(request, device)
    return _keep_codes(request, codes, continue_url=next_url or reverse("two_factor:settings"))


# --- The login step --------------------------------------------------------------------


def _done(request, next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


def _nothing_to_verify(request, next_url: str) -> HttpResponseRedirect | None:
    """Where to go when the verify page has nothing to ask (None: ask for a code)."""
    device = services.confirmed_device(request.user)
    if device is None:
        # Reset meanwhile: enrol if a policy requires it, otherwise carry on.
        owed = policy.OWED_ENROL if policy.two_factor_required(request.user) else None
        policy.session_set_owed(request, owed)
        return _to("two_factor:enrol", next_url) if owed else _done(request, next_url)
    if not policy.session_owed(request) and request.user.is_verified():
        return _done(request, next_url)
    return None


def _login_step(request, *, template, field, check):
    next_url = _next(request)
    elsewhere = _nothing_to_verify(request, next_url)
    if elsewhere is not None:
        return elsewhere
    device = services.confirmed_device(request.user)
    context = {"next": next_url, "error": None}
    if request.method == "GET":
        return render(request, template, context)
    try:
        left = check(device, request.POST.get(field))
    except ValidationError as exc:
        context["error"] = " ".join(exc.messages)
        return render(request, template, context, status=_status(exc))
    policy.session_verified(request, device)
    if left is not None:
        level = messages.WARNING if left <= 3 else messages.INFO
        messages.add_message(request, level, ngettext(
            "You used a recovery code: %(left)d is left. Make new ones on the Two-factor login page.",
            "You used a recovery code: %(left)d are left. Make new ones on the Two-factor login page "
            "if you are running low.",
            left,
        ) % {"left": left})
    return _done(request, next_url)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify_view(request):
    def check(device, token):
        services.code_check(device=device, token=token)
        return None

    return _login_step(request, template="two_factor/verify.html", field="code", check=check)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def recover_view(request):
    def check(device, code):
        return services.recovery_code_check(device=device, code=code)

    return _login_step(request, template="two_factor/recover.html", field="recovery_code", check=check)
