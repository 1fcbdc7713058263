"""Webhook endpoints (one per merchant and mode) and their signing secrets."""

import base64
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from console.models import Merchant
from console.tenancy.audit import SYSTEM, Actor, audit_changes, audit_record, snapshot
from console.tenancy.crypto import decrypt_text, encrypt_text
from console.tenancy.locks import lock_rows
from console.tenancy.selectors import lock_merchant
from console.tenancy.stale import check_version, version_of
from webhooks.audit import AuditAction

from .. import net
from ..models import (
    ContentType,
    Mode,
    PayloadVersion,
    WebhookEndpoint,
    WebhookSecret,
)

logger = logging.getLogger(__name__)

ENDPOINT_FIELDS = ("url", "content_type", "version", "enabled")
MAX_ACTIVE_SECRETS = 2


def allowed_networks() -> list[str]:
    return [n.strip() for n in settings.WEBHOOK_ALLOWED_NETWORKS if n and n.strip()]


def _new_secret_value() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _add_secret(endpoint: WebhookEndpoint) -> WebhookSecret:
    value = _new_secret_value()
    return WebhookSecret.objects.create(
        endpoint=endpoint, secret_encrypted=encrypt_text(value), hint=value[6:12]
    )


def _endpoint_for_update(merchant: Merchant, mode: str) -> tuple[WebhookEndpoint, bool]:
    endpoint = lock_rows(WebhookEndpoint.objects.filter(merchant=merchant, mode=mode)).first()
    if endpoint is not None:
        return endpoint, False
    endpoint = WebhookEndpoint.objects.create(merchant=merchant, mode=mode, url="")
    _add_secret(endpoint)
    return endpoint, True


def endpoint_version(endpoint: WebhookEndpoint | None) -> str:
    """The version of one mode's settings the Webhooks page's form starts from (its hidden
    ``edit_version``); a mode with no endpoint yet shows a new endpoint's defaults."""
    endpoint = endpoint or WebhookEndpoint(url="")
    return version_of(snapshot(endpoint, ENDPOINT_FIELDS))


def endpoint_save(
    *, actor: Actor, merchant: Merchant, mode: str, url: str, content_type: str, version: str,
    enabled: bool = True, expected_version: str | None = None,
) -> WebhookEndpoint:
    """Save one mode's endpoint. The URL must be safe to call (checked here and at every send).

    The URL is checked, DNS included (within ``WEBHOOK_DNS_TIMEOUT``), before the transaction
    opens: no lock (SQLite's write lock, a row lock) is held while a resolver takes its time.
    With ``expected_version`` (the form's), settings changed since that version (another tab,
    or the endpoint disabled after a 410) are refused with ``StaleEdit``, and nothing is written.
    """
    errors = {}
    if mode not in Mode.values:
        errors["mode"] = _("Choose live or test.")
    url = (url or "").strip()
    if url:
        try:
            net.check_url(url, allowed_networks=allowed_networks(),
                          dns_timeout=settings.WEBHOOK_DNS_TIMEOUT)
        except net.UnsafeURL as exc:
            errors["url"] = exc.message  # rendered in the operator's language
    if content_type not in ContentType.values:
        errors["content_type"] = _("Choose JSON or form.")
    if version not in PayloadVersion.values:
        errors["version"] = _("Choose V1 or V2.")
    elif version == PayloadVersion.V2 and content_type == ContentType.FORM:
        errors["content_type"] = _("V2 payloads are sent as JSON only.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        endpoint, created = _endpoint_for_update(merchant, mode)
        before = snapshot(endpoint, ENDPOINT_FIELDS)
        check_version(expected=expected_version, current=before, submitted={
            "url": url, "content_type": content_type, "version": version, "enabled": enabled})
        endpoint.url, endpoint.content_type, endpoint.version = url, content_type, version
        if enabled and not endpoint.enabled:
            endpoint.disabled_reason = ""
        endpoint.enabled = enabled
        changes = audit_changes(endpoint, before, ENDPOINT_FIELDS)
        if changes or created:
            endpoint.save()
            audit_record(actor=actor, merchant=merchant, action=AuditAction.WEBHOOK_ENDPOINT_UPDATE,
                         target=endpoint, changes=changes or {"url": (None, endpoint.url)})
    return endpoint


@transaction.atomic
def endpoint_ensure(*, merchant: Merchant, mode: str) -> WebhookEndpoint:
    """The endpoint row of a mode, made (with its first secret) if missing."""
    endpoint, _created = _endpoint_for_update(merchant, mode)
    return endpoint


def endpoint_for_signing(*, merchant: Merchant, mode: str) -> WebhookEndpoint:
    """The endpoint whose secrets sign ``merchant``'s notifications in ``mode``, made if missing
    (no URL, its first secret, an audit row in the system's name): a payment's notice_url is
    signed even when the merchant never saved an Endpoint URL, with a secret the Webhooks page
    shows. Runs in the caller's transaction and takes no lock when the row exists; two first
    payments at once make one row (the loser of the insert reads the winner's)."""
    endpoint = WebhookEndpoint.objects.filter(merchant=merchant, mode=mode).first()
    if endpoint is not None:
        return endpoint
    try:
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.create(merchant=merchant, mode=mode, url="")
            _add_secret(endpoint)
            audit_record(actor=SYSTEM, merchant=merchant, action=AuditAction.WEBHOOK_ENDPOINT_UPDATE,
                         target=endpoint, changed_fields=["secret"])  # its name only, never the value
    except IntegrityError:
        endpoint = WebhookEndpoint.objects.get(merchant=merchant, mode=mode)
    return endpoint


@transaction.atomic
def sub_merchant_set_own_webhook(*, actor: Actor, merchant: Merchant, use_own: bool) -> Merchant:
    if merchant.parent_id is None:
        raise ValidationError(_("Only a sub-merchant can use its agency's webhook."))
    merchant = lock_merchant(merchant)
    if merchant.webhook_same_as_agency == (not use_own):
        return merchant
    merchant.webhook_same_as_agency = not use_own
    merchant.save(update_fields=["webhook_same_as_agency", "updated_at"])
    audit_record(actor=actor, merchant=merchant, action=AuditAction.MERCHANT_WEBHOOK_SAME_AS_AGENCY,
                 target=merchant, changes={"webhook_same_as_agency": (use_own, not use_own)})
    return merchant


def active_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[WebhookSecret]:
    now = now or timezone.now()
    return list(endpoint.secrets.active(now))


@transaction.atomic
def secrets_ensure_active(endpoint_id: int) -> list[WebhookSecret]:
    """The secrets that sign a send now, newest first: never none (the engine calls this only
    when it found none).

    An endpoint is made with a secret and its newest secret can never be expired, so none
    being active means the rows were removed or edited behind the console's back. Rather than
    send unsigned, or hold every payment notification until someone notices, a new secret is
    rotated in (audited as the system) and the delivery goes out signed with it: the
    merchant's receiver sees what it sees after any rotation, a new secret on the Webhooks
    page, and payments keep being notified meanwhile.
    """
    now = timezone.now()
    endpoint = lock_rows(WebhookEndpoint.objects.select_related("merchant")).get(pk=endpoint_id)
    current = list(endpoint.secrets.active(now))  # under the endpoint's lock: one worker makes it
    if current:
        return current
    new = _add_secret(endpoint)
    logger.warning("webhook endpoint %s had no active signing secret; made one", endpoint.pk)
    audit_record(actor=SYSTEM, merchant=endpoint.merchant, action=AuditAction.WEBHOOK_SECRET_ROTATE,
                 target=new, changed_fields=["secret"])  # its name only, never the value
    return [new]


@transaction.atomic
def secret_reveal(*, actor: Actor, endpoint: WebhookEndpoint, secret_id: int) -> str:
    secret = endpoint.secrets.filter(pk=secret_id).first()
    if secret is None or not secret.is_active():
        raise ValidationError(_("This secret has expired."))
    audit_record(actor=actor, merchant=endpoint.merchant, action=AuditAction.WEBHOOK_SECRET_REVEAL,
                 target=secret)
    return decrypt_text(secret.secret_encrypted)


@transaction.atomic
def secret_rotate(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookSecret:
    """A new secret signs from now on, alongside the current one for the grace period."""
    now = timezone.now()
    lock_rows(WebhookEndpoint.objects.filter(pk=endpoint.pk)).first()
    current = list(endpoint.secrets.active(now))
    grace = now + timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
    for secret in current:
        if secret.expires_at is None or secret.expires_at > grace:
            secret.expires_at = grace
            secret.save(update_fields=["expires_at"])
    # Keep at most two active: the new one and the newest old one.
    for older in current[MAX_ACTIVE_SECRETS - 1:]:
        older.expires_at = now
        older.save(update_fields=["expires_at"])
    new = _add_secret(endpoint)
    audit_record(actor=actor, merchant=endpoint.merchant, action=AuditAction.WEBHOOK_SECRET_ROTATE,
                 target=new, changed_fields=["secret"])  # its name only, never the value
    return new


@transaction.atomic
def secret_expire(*, actor: Actor, endpoint: WebhookEndpoint, secret_id: int) -> None:
    """Expire an old secret at once. The newest secret cannot be expired (rotate instead)."""
    now = timezone.now()
    active = list(endpoint.secrets.active(now))
    secret = next((s for s in active if s.pk == secret_id), None)
    if secret is None:
        raise ValidationError(_("This secret has already expired."))
    if secret == active[0]:
        raise ValidationError(_("The newest secret cannot be expired. Rotate to make a new one first."))
    old_expiry, secret.expires_at = secret.expires_at, now
    secret.save(update_fields=["expires_at"])
    audit_record(actor=actor, merchant=endpoint.merchant, action=AuditAction.WEBHOOK_SECRET_EXPIRE,
                 target=secret, changes={"expires_at": (old_expiry, now)})
