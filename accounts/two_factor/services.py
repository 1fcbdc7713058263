"""Two-factor login: enrolment (a key shown once, as a QR code), the login step's checks,
recovery codes, turning it off and staff reset.

The key is kept encrypted and recovery codes as hashes (``console.models.two_factor``, where
a device checks a code). Nothing is ever stored, logged or audited in clear: a key or codes
are shown once, on the enrolment (or regeneration) page. Each write is one transaction with
its audit rows (``two_factor.enrol``, ``two_factor.recovery_codes``, ``two_factor.reset``).
"""

import base64
import math
import secrets
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.audit import AuditAction
from console.models import Merchant, Operator, RecoveryCode, TwoFactorDevice
from console.models.two_factor import (
    DIGITS,
    STATE_FIELDS,
    STEP,
    device_key,
    normalize_recovery_code,
    normalize_token,
    recovery_code_use,
    recovery_hash,
    totp_verify,
)
from console.tenancy.audit import Actor, audit_event, audit_record_many
from console.tenancy.crypto import encrypt_text
from console.tenancy.locks import lock_rows

from .policy import two_factor_required_by

ISSUER = "PG Console"
KEY_BYTES = 20
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_BYTES = 10  # 80 bits: 16 base32 characters
DEVICE_NAME = "Authenticator app"




# --- Keys and codes -------------------------------------------------------------------


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


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().lower()
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _recovery_codes_replace(device: TwoFactorDevice) -> list[str]:
    """New codes for ``device`` (the old ones end); the clear codes are returned, never stored."""
    device.recovery_codes.all().delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, code_hash=recovery_hash(normalize_recovery_code(code)))
        for code in codes
    )
    return codes


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
        device.refresh_from_db(fields=STATE_FIELDS)
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
    if normalize_token(token) is None:
        raise _token_format_error()
    _raise_if_throttled(device)
    if not totp_verify(device, token):
        raise _wrong_token_error()


def recovery_code_check(*, device: TwoFactorDevice, code) -> int:
    """Spend a recovery code or raise ``ValidationError``; returns how many are left."""
    if normalize_recovery_code(code) is None:
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
    key = device_key(device)
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

    def confirm() -> list[str]:
        if device.confirmed:  # a concurrent request confirmed it first
            raise ValidationError(_("This device is set up already."), code="invalid")
        TwoFactorDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(device)
        _audit(actor=actor, operator=device.user, action=AuditAction.TWO_FACTOR_ENROL,
               changed_fields=["two_factor_device", "recovery_codes"])
        return codes

    return _with_current_code(device, token, confirm)


def recovery_codes_regenerate(*, actor: Actor, device: TwoFactorDevice, token) -> list[str]:
    """New recovery codes (the old ones end), against a current code from the app.

    Audited ``two_factor.recovery_codes``.
    """
    if not device.confirmed:
        raise ValidationError(_("Set up two-factor login first."), code="invalid")

    def regenerate() -> list[str]:
        codes = _recovery_codes_replace(device)
        _audit(actor=actor, operator=device.user, action=AuditAction.TWO_FACTOR_RECOVERY_CODES,
               changed_fields=["recovery_codes"])
        return codes

    return _with_current_code(device, token, regenerate)


def _with_current_code(device: TwoFactorDevice, token, change):
    """Check a current code from the app, then run ``change()`` in the same transaction (the
    device row stays locked). A wrong code is raised after the transaction, so the failed
    attempt stays counted."""
    if normalize_token(token) is None:
        raise _token_format_error()
    _raise_if_throttled(device)
    with transaction.atomic():
        verified = totp_verify(device, token)  # locks the device row until commit
        result = change() if verified else None
    if not verified:
        raise _wrong_token_error()
    return result


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
        _audit(actor=actor, operator=operator, action=AuditAction.TWO_FACTOR_RESET,
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
            locked = lock_rows(TwoFactorDevice.objects).get(pk=device.pk)
            locked.throttle_increment(commit=False)
            locked.save(update_fields=STATE_FIELDS)
        raise ValidationError(_("That password is not right."), code="password")
    two_factor_reset(actor=actor, operator=operator)


def _audit(
    *, actor: Actor, operator: Operator, action: AuditAction, changed_fields: list[str]
) -> None:
    """One row per merchant the operator is a direct member of (their owners see it), or
    a single row without a merchant for someone who has none. Names only, no values."""
    merchants = list(Merchant.objects.filter(memberships__operator=operator).distinct())
    audit_record_many([
        audit_event(actor=actor, merchant=merchant, action=action, target=operator,
                    changed_fields=changed_fields)
        for merchant in (merchants or [None])
    ])
