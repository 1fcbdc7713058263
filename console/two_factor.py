"""Two-factor login: an authenticator app (TOTP, RFC 6238) plus one-time recovery codes.

The pieces:

- ``TwoFactorDevice`` (a django-otp device) holds the shared key encrypted with
  ``console.crypto``; ``RecoveryCode`` holds SHA-256 hashes. Neither a key nor a
  recovery code is ever stored, logged or audited in clear: they are shown once, on
  the enrolment (or regeneration) page.
- Services here do every write in one transaction with its audit rows
  (``two_factor.enrol``, ``two_factor.recovery_codes``, ``two_factor.reset``).
- At login (``user_logged_in``) the session records what the operator still owes:
  ``verify`` (they have a device) or ``enrol`` (a merchant policy, or the staff
  setting, requires 2FA of them and they have none). ``TwoFactorMiddleware`` sends
  a session that owes something to that page and nowhere else; a session that owes
  nothing costs no query.
- A session that passed the second step is marked with ``django_otp.login`` (so
  ``request.user.is_verified()`` is true, which the Django admin needs when
  ``PGCONSOLE_STAFF_REQUIRE_2FA`` is on).
"""

import base64
import hashlib
import hmac
import math
import re
import secrets
import time
from urllib.parse import quote, urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.oath import TOTP

from .audit import Actor, audit_event, audit_record_many
from .crypto import decrypt_text, encrypt_text
from .models import Merchant, Operator, RecoveryCode, TwoFactorDevice
from .roles import Role

ISSUER = "PG Console"
STEP = 30  # seconds
DIGITS = 6
TOLERANCE = 1  # one step either side: the previous, the current and the next code
KEY_BYTES = 20
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_BYTES = 10  # 80 bits: 16 base32 characters
DEVICE_NAME = "Authenticator app"

# The session key holding what the operator still owes after their password.
SESSION_OWED = "pgconsole_two_factor_owed"
OWED_VERIFY = "verify"
OWED_ENROL = "enrol"

# Longest input we even look at: anything longer is refused before any work.
_MAX_INPUT = 64
_TOKEN_RE = re.compile(r"[0-9]{%d}" % DIGITS, re.ASCII)
_RECOVERY_RE = re.compile(r"[a-z2-7]{16}", re.ASCII)
_SEPARATORS_RE = re.compile(r"[\s\-]+")


# --- Keys and codes -------------------------------------------------------------------


def _device_key(device: TwoFactorDevice) -> bytes:
    return bytes.fromhex(decrypt_text(device.key_encrypted))


def _key_base32(key: bytes) -> str:
    return base64.b32encode(key).decode().rstrip("=")


def _otpauth_url(operator: Operator, key: bytes) -> str:
    """The key URI authenticator apps read from the QR code (Google's Key URI format)."""
    label = quote(f"{ISSUER}:{operator.email}", safe="@:")
    query = urlencode(
        {"secret": _key_base32(key), "issuer": ISSUER, "algorithm": "SHA1",
         "digits": DIGITS, "period": STEP},
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def qr_code_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images, and nothing is fetched)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def _normalize_token(token) -> str | None:
    """Six ASCII digits (spaces and hyphens dropped), or None for anything else."""
    if isinstance(token, int) and not isinstance(token, bool):
        token = f"{token:0{DIGITS}d}"
    if not isinstance(token, str) or len(token) > _MAX_INPUT:
        return None
    token = _SEPARATORS_RE.sub("", token)
    return token if _TOKEN_RE.fullmatch(token) else None


def _normalize_recovery_code(code) -> str | None:
    """16 base32 characters, lower case (spaces and hyphens dropped), or None."""
    if not isinstance(code, str) or len(code) > _MAX_INPUT:
        return None
    code = _SEPARATORS_RE.sub("", code).lower()
    return code if _RECOVERY_RE.fullmatch(code) else None


def _recovery_hash(normalized: str) -> str:
    return hashlib.sha256(normalized.encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().lower()
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _recovery_codes_replace(device: TwoFactorDevice) -> list[str]:
    """New codes for ``device`` (the old ones end); the clear codes are returned, never stored."""
    device.recovery_codes.all().delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, code_hash=_recovery_hash(_normalize_recovery_code(code)))
        for code in codes
    )
    return codes


# --- Verification -----------------------------------------------------------------------


def _copy_state(source: TwoFactorDevice, target: TwoFactorDevice) -> None:
    for name in ("last_t", "last_used_at", "throttling_failure_count",
                 "throttling_failure_timestamp", "confirmed"):
        setattr(target, name, getattr(source, name))


_STATE_FIELDS = ["last_t", "last_used_at", "throttling_failure_count", "throttling_failure_timestamp"]


def _attempt(device: TwoFactorDevice, check) -> bool:
    """One throttled attempt on ``device``: lock its row (two requests cannot spend the same
    code), refuse while throttled, run ``check(locked_device)`` (True, False, or None when
    there is nothing to try), then reset or bump the back-off and record the use.
    ``device`` gets the new state too."""
    with transaction.atomic():
        locked = TwoFactorDevice.objects.select_for_update().filter(pk=device.pk).first()
        if locked is None:  # reset or replaced meanwhile
            return False
        allowed, _info = locked.verify_is_allowed()
        matched = check(locked) if allowed else None  # None: not an attempt at all
        if matched is not None:
            if matched:
                locked.throttle_reset(commit=False)
                locked.set_last_used_timestamp(commit=False)
            else:
                locked.throttle_increment(commit=False)
            locked.save(update_fields=_STATE_FIELDS)
    _copy_state(locked, device)
    return bool(matched)


def totp_verify(device: TwoFactorDevice, token) -> bool:
    """Check a code from the authenticator app, as django-otp's ``TOTPDevice`` does.

    30-second steps, 6 digits, one step of tolerance either side; a code of a step at
    or before ``last_t`` is refused (no replay); failures throttle the device
    (exponential back-off, ``OTP_TOTP_THROTTLE_FACTOR``). A malformed token is refused
    without counting as a guess (it could never match).
    """
    normalized = _normalize_token(token)
    if normalized is None or device.pk is None:
        return False

    def check(locked: TwoFactorDevice) -> bool:
        totp = TOTP(_device_key(locked), step=STEP, digits=DIGITS)
        totp.time = time.time()
        now_t = totp.t()
        matched_t = None
        for t in range(now_t - TOLERANCE, now_t + TOLERANCE + 1):
            totp.drift = t - now_t
            expected = f"{totp.token():0{DIGITS}d}"
            # Every candidate is compared, in constant time, whatever matched before.
            if hmac.compare_digest(expected, normalized) and t > locked.last_t and matched_t is None:
                matched_t = t
        if matched_t is None:
            return False
        locked.last_t = matched_t
        return True

    return _attempt(device, check)


def recovery_code_use(device: TwoFactorDevice, code) -> bool:
    """Spend one unused recovery code of ``device``: True once, False ever after.

    Throttled with the device, like codes from the app; the codes are locked with it.
    """
    normalized = _normalize_recovery_code(code)
    if normalized is None or device.pk is None:
        return False
    wanted = _recovery_hash(normalized)

    def check(locked: TwoFactorDevice) -> bool | None:
        if not locked.confirmed:
            return None
        found = None
        for candidate in RecoveryCode.objects.select_for_update().filter(device=locked,
                                                                         used_at__isnull=True):
            if hmac.compare_digest(candidate.code_hash, wanted) and found is None:
                found = candidate
        if found is None:
            return False
        found.used_at = timezone.now()
        found.save(update_fields=["used_at"])
        return True

    return _attempt(device, check)


def throttle_wait_seconds(device: TwoFactorDevice) -> int:
    """Seconds until the device takes another attempt (0: it takes one now)."""
    allowed, info = device.verify_is_allowed()
    if allowed:
        return 0
    locked_until = (info or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def _throttled_error(seconds: int) -> ValidationError:
    return ValidationError(
        ngettext(
            "Too many attempts. Wait %(seconds)d second and try again.",
            "Too many attempts. Wait %(seconds)d seconds and try again.",
            seconds,
        ) % {"seconds": seconds},
        code="throttled",
    )


def _raise_if_throttled(device: TwoFactorDevice) -> None:
    try:
        device.refresh_from_db(fields=_STATE_FIELDS)
    except TwoFactorDevice.DoesNotExist:
        raise ValidationError(
            _("Two-factor login was turned off or set up again meanwhile. Start again."), code="gone"
        ) from None
    wait = throttle_wait_seconds(device)
    if wait:
        raise _throttled_error(wait)


def _token_format_error() -> ValidationError:
    return ValidationError(
        _("Enter the 6-digit code your authenticator app shows, e.g. 123456."), code="format"
    )


def _wrong_token_error() -> ValidationError:
    return ValidationError(
        _("That code is not right. Check that your device's clock is correct, wait for a new "
          "code and try again."),
        code="invalid",
    )


def code_check(*, device: TwoFactorDevice, token) -> None:
    """Accept a code from the app or raise ``ValidationError`` with a clear message.

    ``code`` on the error is ``format``, ``invalid`` or ``throttled``.
    """
    if _normalize_token(token) is None:
        raise _token_format_error()
    _raise_if_throttled(device)
    if not totp_verify(device, token):
        raise _wrong_token_error()


def recovery_code_check(*, device: TwoFactorDevice, code) -> int:
    """Spend a recovery code or raise ``ValidationError``; returns how many are left."""
    if _normalize_recovery_code(code) is None:
        raise ValidationError(
            _("Enter one of your recovery codes: 16 letters and digits, e.g. abcd-efgh-ijkl-mnop."),
            code="format",
        )
    _raise_if_throttled(device)
    if not recovery_code_use(device, code):
        raise ValidationError(
            _("That recovery code is not right, or it has been used already. Each code works once."),
            code="invalid",
        )
    return recovery_codes_left(device)


def recovery_codes_left(device: TwoFactorDevice) -> int:
    return device.recovery_codes.filter(used_at__isnull=True).count()


# --- Enrolment and reset ----------------------------------------------------------------


def confirmed_device(operator: Operator) -> TwoFactorDevice | None:
    if operator is None or not operator.is_authenticated:
        return None
    return TwoFactorDevice.objects.filter(user=operator, confirmed=True).first()


def pending_device(operator: Operator) -> TwoFactorDevice | None:
    return TwoFactorDevice.objects.filter(user=operator, confirmed=False).order_by("-pk").first()


def enrolment_key(device: TwoFactorDevice) -> tuple[str, str]:
    """The key of an enrolment in progress, as base32 text and as an otpauth:// URL."""
    key = _device_key(device)
    return _key_base32(key), _otpauth_url(device.user, key)


@transaction.atomic
def enrolment_start(operator: Operator) -> tuple[TwoFactorDevice, str, str]:
    """A new, unconfirmed device with a fresh key, replacing any other unconfirmed one.

    A confirmed device stays in use until the new one is confirmed. Returns the device,
    its key in base32 (for typing in) and the otpauth:// URL (for the QR code); neither
    is stored in clear.
    """
    TwoFactorDevice.objects.filter(user=operator, confirmed=False).delete()
    key = secrets.token_bytes(KEY_BYTES)
    device = TwoFactorDevice.objects.create(
        user=operator, name=DEVICE_NAME, confirmed=False, key_encrypted=encrypt_text(key.hex())
    )
    return device, _key_base32(key), _otpauth_url(operator, key)


def enrolment_confirm(*, actor: Actor, device: TwoFactorDevice, token) -> list[str]:
    """Confirm the device with a code from the app; returns its recovery codes (shown once).

    Any other device of the operator ends. Audited ``two_factor.enrol``.
    """
    if device.confirmed:
        raise ValidationError(_("This device is set up already."), code="invalid")
    if _normalize_token(token) is None:
        raise _token_format_error()
    _raise_if_throttled(device)
    with transaction.atomic():
        verified = totp_verify(device, token)  # locks the device row until commit
        if verified and device.confirmed:  # a concurrent request confirmed it first
            raise ValidationError(_("This device is set up already."), code="invalid")
        if verified:
            TwoFactorDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _recovery_codes_replace(device)
            _audit(actor=actor, operator=device.user, action="two_factor.enrol",
                   changed_fields=["two_factor_device", "recovery_codes"])
    if not verified:  # outside the transaction: the failed attempt stays counted
        raise _wrong_token_error()
    return codes


def recovery_codes_regenerate(*, actor: Actor, device: TwoFactorDevice, token) -> list[str]:
    """New recovery codes (the old ones end), against a current code from the app.

    Audited ``two_factor.recovery_codes``.
    """
    if not device.confirmed:
        raise ValidationError(_("Set up two-factor login first."), code="invalid")
    if _normalize_token(token) is None:
        raise _token_format_error()
    _raise_if_throttled(device)
    with transaction.atomic():
        verified = totp_verify(device, token)  # locks the device row until commit
        if verified:
            codes = _recovery_codes_replace(device)
            _audit(actor=actor, operator=device.user, action="two_factor.recovery_codes",
                   changed_fields=["recovery_codes"])
    if not verified:  # outside the transaction: the failed attempt stays counted
        raise _wrong_token_error()
    return codes


@transaction.atomic
def two_factor_reset(*, actor: Actor, operator: Operator) -> bool:
    """Remove the operator's devices and recovery codes. Audited ``two_factor.reset``.

    Returns False (and records nothing) when there was nothing to remove. The next
    login asks them to enrol again if a policy requires it.
    """
    devices = TwoFactorDevice.objects.filter(user=operator)
    had_confirmed = devices.filter(confirmed=True).exists()
    devices.delete()  # recovery codes go with them (cascade)
    if had_confirmed:
        _audit(actor=actor, operator=operator, action="two_factor.reset",
               changed_fields=["two_factor_device", "recovery_codes"])
    return had_confirmed


def two_factor_disable(*, actor: Actor, operator: Operator, password) -> None:
    """The operator turns two-factor login off, with their current password.

    Refused while a merchant (or the staff setting) requires it of them. Wrong passwords
    throttle the device like wrong codes, so this form cannot be used to guess one.
    """
    required_by = two_factor_required_by(operator)
    if required_by:
        raise ValidationError(
            _("You cannot turn two-factor login off: %(reason)s requires it.")
            % {"reason": required_by},
            code="required",
        )
    if not isinstance(password, str) or not password or len(password) > 4096:
        raise ValidationError(_("Enter your current password."), code="password")
    device = confirmed_device(operator)
    if device is None:
        return
    _raise_if_throttled(device)
    if not operator.check_password(password):
        with transaction.atomic():
            locked = TwoFactorDevice.objects.select_for_update().get(pk=device.pk)
            locked.throttle_increment(commit=False)
            locked.save(update_fields=_STATE_FIELDS)
        raise ValidationError(_("That password is not right."), code="password")
    two_factor_reset(actor=actor, operator=operator)


def _audit(*, actor: Actor, operator: Operator, action: str, changed_fields: list[str]) -> None:
    """One row per merchant the operator is a direct member of (their owners see it), or
    a single row without a merchant for someone who has none. Names only, no values."""
    merchants = list(Merchant.objects.filter(memberships__operator=operator).distinct())
    audit_record_many([
        audit_event(actor=actor, merchant=merchant, action=action, target=operator,
                    changed_fields=changed_fields)
        for merchant in (merchants or [None])
    ])


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


@receiver(user_logged_in, dispatch_uid="console.two_factor.on_login")
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


# Pages a session that owes a step may still reach.
EXEMPT_VIEWS = frozenset({
    "two_factor:verify", "two_factor:recover", "two_factor:enrol",
    "logout", "set_language", "healthz",
    # The REST API authenticates with tokens, never with the session.
    "rest_get_token", "rest_users_pg", "rest_tier", "openapi",
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


def admin_has_permission(original):
    """Wrap ``AdminSite.has_permission``: with ``PGCONSOLE_STAFF_REQUIRE_2FA``, staff need a
    session that passed two-factor login as well."""

    def has_permission(request):
        if not original(request):
            return False
        if not settings.PGCONSOLE_STAFF_REQUIRE_2FA:
            return True
        is_verified = getattr(request.user, "is_verified", None)
        return bool(is_verified and is_verified())

    return has_permission
