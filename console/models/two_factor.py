"""Two-factor login devices (django-otp), their recovery codes, and how a device checks a code.

The check lives with the device (as django-otp's own ``TOTPDevice`` does): a code from the
app (``totp_verify``) or a recovery code (``recovery_code_use``), each one throttled attempt
under the device's row lock. Enrolment, reset and the policy are ``accounts.two_factor``'s.
"""

import hmac
import re
import time

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from console.tenancy.crypto import decrypt_text
from console.tenancy.hashing import sha256_hex
from console.tenancy.locks import lock_rows

STEP = 30  # seconds
DIGITS = 6
TOLERANCE = 1  # one step either side: the previous, the current and the next code
# Longest input we even look at: anything longer is refused before any work.
_MAX_INPUT = 64
_TOKEN_RE = re.compile(rf"[0-9]{{{DIGITS}}}", re.ASCII)
_RECOVERY_RE = re.compile(r"[a-z2-7]{16}", re.ASCII)
_SEPARATORS_RE = re.compile(r"[\s\-]+")



class TwoFactorDevice(TimestampMixin, ThrottlingMixin, Device):
    """An operator's authenticator app (TOTP, RFC 6238), for django-otp.

    The shared key is kept encrypted (``console.crypto``), never in clear. An
    unconfirmed device is an enrolment in progress; at most one confirmed
    device per operator.
    """

    key_encrypted = models.TextField(editable=False)
    last_t = models.BigIntegerField(
        default=-1, editable=False,
        help_text="The time step of the last code accepted: a code is never accepted twice.",
    )

    class Meta(Device.Meta):
        verbose_name = _("two-factor device")
        verbose_name_plural = _("two-factor devices")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(confirmed=True), name="two_factor_one_confirmed_device"
            ),
        ]

    def verify_token(self, token) -> bool:
        return totp_verify(self, token)

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)


class RecoveryCode(models.Model):
    """A one-time recovery code of a two-factor device, stored only as a hash."""

    device = models.ForeignKey(TwoFactorDevice, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["device", "code_hash"], name="recovery_code_unique")
        ]

    def __str__(self):
        return f"recovery code of {self.device.user}"


# --- Checking codes -------------------------------------------------------------------


def device_key(device: TwoFactorDevice) -> bytes:
    return bytes.fromhex(decrypt_text(device.key_encrypted))


def normalize_token(token) -> str | None:
    """Six ASCII digits (spaces and hyphens dropped), or None for anything else."""
    if isinstance(token, int) and not isinstance(token, bool):
        token = f"{token:0{DIGITS}d}"
    if not isinstance(token, str) or len(token) > _MAX_INPUT:
        return None
    token = _SEPARATORS_RE.sub("", token)
    return token if _TOKEN_RE.fullmatch(token) else None


def normalize_recovery_code(code) -> str | None:
    """16 base32 characters, lower case (spaces and hyphens dropped), or None."""
    if not isinstance(code, str) or len(code) > _MAX_INPUT:
        return None
    code = _SEPARATORS_RE.sub("", code).lower()
    return code if _RECOVERY_RE.fullmatch(code) else None


def recovery_hash(normalized: str) -> str:
    return sha256_hex(normalized)


def _copy_state(source: TwoFactorDevice, target: TwoFactorDevice) -> None:
    for name in ("last_t", "last_used_at", "throttling_failure_count",
                 "throttling_failure_timestamp", "confirmed"):
        setattr(target, name, getattr(source, name))


STATE_FIELDS = ["last_t", "last_used_at", "throttling_failure_count", "throttling_failure_timestamp"]


def _attempt(device: TwoFactorDevice, check) -> bool:
    """One throttled attempt on ``device``: lock its row (two requests cannot spend the same
    code), refuse while throttled, run ``check(locked_device)`` (True, False, or None when
    there is nothing to try), then reset or bump the back-off and record the use.
    ``device`` gets the new state too."""
    with transaction.atomic():
        locked = lock_rows(TwoFactorDevice.objects.filter(pk=device.pk)).first()
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
            locked.save(update_fields=STATE_FIELDS)
    _copy_state(locked, device)
    return bool(matched)


def totp_verify(device: TwoFactorDevice, token) -> bool:
    """Check a code from the authenticator app, as django-otp's ``TOTPDevice`` does.

    30-second steps, 6 digits, one step of tolerance either side; a code of a step at
    or before ``last_t`` is refused (no replay); failures throttle the device
    (exponential back-off, ``OTP_TOTP_THROTTLE_FACTOR``). A malformed token is refused
    without counting as a guess (it could never match).
    """
    normalized = normalize_token(token)
    if normalized is None or device.pk is None:
        return False

    def check(locked: TwoFactorDevice) -> bool:
        totp = TOTP(device_key(locked), step=STEP, digits=DIGITS)
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
    normalized = normalize_recovery_code(code)
    if normalized is None or device.pk is None:
        return False
    wanted = recovery_hash(normalized)

    def check(locked: TwoFactorDevice) -> bool | None:
        if not locked.confirmed:
            return None
        found = None
        for candidate in lock_rows(RecoveryCode.objects.filter(device=locked, used_at__isnull=True)):
            if hmac.compare_digest(candidate.code_hash, wanted) and found is None:
                found = candidate
        if found is None:
            return False
        found.used_at = timezone.now()
        found.save(update_fields=["used_at"])
        return True

    return _attempt(device, check)


