"""Webhook endpoints, signing secrets and the one delivery engine.

Tests and real notifications both become a ``Delivery``; after commit only its id
goes to Celery. ``deliver`` claims the delivery with a lease (so two workers never
send it at once), signs it with Standard Webhooks headers, sends it through
``webhooks.net`` and records an ``Attempt``. Retries are scheduled in the database
and picked up by ``dispatch_due`` (celery beat), never as long countdowns.
"""

import base64
import email.utils
import logging
import random
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from console.tenancy.audit import Actor, SYSTEM, audit_record, changed_fields, snapshot
from console.tenancy.crypto import decrypt_text, encrypt_text
from console.models import Merchant

from . import net, payloads
from .errors import RETRYABLE
from .models import (
    event_attempts,
    Attempt, ContentType, Delivery, Mode, PayloadVersion, WebhookEndpoint, WebhookSecret,
)
from console.tenancy.selectors import lock_merchant

logger = logging.getLogger(__name__)

ENDPOINT_FIELDS = ("url", "content_type", "version", "enabled")
MAX_ACTIVE_SECRETS = 2
DISPATCH_GRACE_SECONDS = 2


def allowed_networks() -> list[str]:
    return [n.strip() for n in settings.WEBHOOK_ALLOWED_NETWORKS if n and n.strip()]


# --- Endpoints and secrets ----------------------------------------------------


def _new_secret_value() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _add_secret(endpoint: WebhookEndpoint) -> WebhookSecret:
    value = _new_secret_value()
    return WebhookSecret.objects.create(
        endpoint=endpoint, secret_encrypted=encrypt_text(value), hint=value[6:12]
    )


def _endpoint_for_update(merchant: Merchant, mode: str) -> tuple[WebhookEndpoint, bool]:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(merchant=merchant, mode=mode).first()
    if endpoint is not None:
        return endpoint, False
    endpoint = WebhookEndpoint.objects.create(merchant=merchant, mode=mode, url="")
    _add_secret(endpoint)
    return endpoint, True


@transaction.atomic
def endpoint_save(
    *, actor: Actor, merchant: Merchant, mode: str, url: str, content_type: str, version: str,
    enabled: bool = True,
) -> WebhookEndpoint:
    """Save one mode's endpoint. The URL must be safe to call (checked here and at every send)."""
    errors = {}
    if mode not in Mode.values:
        errors["mode"] = _("Choose live or test.")
    url = (url or "").strip()
    if url:
        try:
            net.check_url(url, allowed_networks=allowed_networks())
        except net.UnsafeURL as exc:
            errors["url"] = str(exc)
    if content_type not in ContentType.values:
        errors["content_type"] = _("Choose JSON or form.")
    if version not in PayloadVersion.values:
        errors["version"] = _("Choose V1 or V2.")
    elif version == PayloadVersion.V2 and content_type == ContentType.FORM:
        errors["content_type"] = _("V2 payloads are sent as JSON only.")
    if errors:
        raise ValidationError(errors)
    endpoint, created = _endpoint_for_update(merchant, mode)
    before = snapshot(endpoint, ENDPOINT_FIELDS)
    endpoint.url, endpoint.content_type, endpoint.version = url, content_type, version
    if enabled and not endpoint.enabled:
        endpoint.disabled_reason = ""
    endpoint.enabled = enabled
    changed = changed_fields(endpoint, before, ENDPOINT_FIELDS)
    if changed or created:
        endpoint.save()
        audit_record(actor=actor, merchant=merchant, action="webhook_endpoint.update", target=endpoint,
                     changed_fields=changed or ["url"])
    return endpoint


@transaction.atomic
def endpoint_ensure(*, merchant: Merchant, mode: str) -> WebhookEndpoint:
    """The endpoint row of a mode, made (with its first secret) if missing."""
    endpoint, _created = _endpoint_for_update(merchant, mode)
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
    audit_record(actor=actor, merchant=merchant, action="merchant.webhook_same_as_agency",
                 target=merchant, changed_fields=["webhook_same_as_agency"])
    return merchant


def active_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[WebhookSecret]:
    now = now or timezone.now()
    return list(endpoint.secrets.active(now))


@transaction.atomic
def secret_reveal(*, actor: Actor, endpoint: WebhookEndpoint, secret_id: int) -> str:
    secret = endpoint.secrets.filter(pk=secret_id).first()
    if secret is None or not secret.is_active():
        raise ValidationError(_("This secret has expired."))
    audit_record(actor=actor, merchant=endpoint.merchant, action="webhook_secret.reveal",
                 target=secret, changed_fields=[])
    return decrypt_text(secret.secret_encrypted)


@transaction.atomic
def secret_rotate(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookSecret:
    """A new secret signs from now on, alongside the current one for the grace period."""
    now = timezone.now()
    WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
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
    audit_record(actor=actor, merchant=endpoint.merchant, action="webhook_secret.rotate",
                 target=new, changed_fields=["secret"])
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
    secret.expires_at = now
    secret.save(update_fields=["expires_at"])
    audit_record(actor=actor, merchant=endpoint.merchant, action="webhook_secret.expire",
                 target=secret, changed_fields=["expires_at"])


# --- Creating deliveries -------------------------------------------------------


def _enqueue(delivery_ids: list[int]) -> bool:
    """Hand the ids to Celery. If the broker is down, the rows stay due and
    ``dispatch_due`` sends them once it is back."""
    from .tasks import deliver

    try:
        for delivery_id in delivery_ids:
            deliver.apply_async(args=[delivery_id], queue=settings.WEBHOOK_QUEUE, retry=False)
    except Exception as exc:  # kombu raises several kinds; none may lose the delivery
        logger.warning("broker unavailable, %d deliveries stay queued: %s", len(delivery_ids),
                       type(exc).__name__)
        return False
    Delivery.objects.filter(pk__in=delivery_ids).update(enqueued_at=timezone.now())
    return True


def _create_delivery(*, merchant, endpoint, trigger, status, imp_uid, merchant_uid,
                     cancellation_id=None, max_attempts) -> Delivery:
    body, event = payloads.build(
        version=endpoint.version, content_type=endpoint.content_type, store_id=merchant.code,
        imp_uid=imp_uid, merchant_uid=merchant_uid, status=status, cancellation_id=cancellation_id,
    )
    return Delivery.objects.create(
        merchant=merchant, endpoint=endpoint, mode=endpoint.mode, trigger=trigger, event=event,
        url=endpoint.url, content_type=endpoint.content_type, version=endpoint.version, body=body,
        max_attempts=max_attempts, next_attempt_at=timezone.now(),
    )


def _after_commit_enqueue(delivery: Delivery) -> dict:
    outcome = {"enqueued": None}

    def enqueue():
        outcome["enqueued"] = _enqueue([delivery.pk])

    transaction.on_commit(enqueue)
    return outcome


def delivery_send_test(*, actor: Actor, merchant: Merchant, mode: str) -> tuple[Delivery, bool]:
    """Send a sample event to the saved URL: one attempt, which the operator can resend.
    Returns the delivery and whether the broker took it (if not, it stays queued)."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.filter(merchant=merchant, mode=mode).first()
        if endpoint is None or not endpoint.url:
            raise ValidationError(_("Save an Endpoint URL first."))
        imp_uid, merchant_uid = payloads.sample_ids()
        delivery = _create_delivery(merchant=merchant, endpoint=endpoint, trigger=Delivery.Trigger.TEST,
                                    status="paid", imp_uid=imp_uid, merchant_uid=merchant_uid,
                                    max_attempts=1)
        audit_record(actor=actor, merchant=merchant, action="webhook.send_test", target=delivery,
                     changed_fields=[])
        outcome = _after_commit_enqueue(delivery)
    return delivery, bool(outcome["enqueued"])


def endpoint_for_notification(*, merchant: Merchant, mode: str) -> WebhookEndpoint | None:
    """The endpoint that receives a merchant's events: a sub-merchant's own when it uses one."""
    if merchant.parent_id and merchant.webhook_same_as_agency:
        owner_id = merchant.parent_id
    else:
        owner_id = merchant.pk
    return WebhookEndpoint.objects.filter(merchant_id=owner_id, mode=mode).first()


def notify_event(
    *, merchant: Merchant, mode: str, imp_uid: str, merchant_uid: str, status: str,
    cancellation_id: str | None = None, actor: Actor = SYSTEM,
) -> Delivery | None:
    """Notify the merchant's endpoint of a payment event; retried on failure."""
    if status not in payloads.V2_TYPES:
        raise ValidationError({"status": _("Unknown status: %(status)s") % {"status": status}})
    if mode not in Mode.values:
        raise ValidationError({"mode": _("Choose live or test.")})
    if not imp_uid or not merchant_uid:
        raise ValidationError(_("imp_uid and merchant_uid are required."))
    with transaction.atomic():
        endpoint = endpoint_for_notification(merchant=merchant, mode=mode)
        if endpoint is None or not endpoint.url or not endpoint.enabled:
            logger.info("no enabled %s webhook endpoint for %s; event not sent", mode, merchant.code)
            return None
        if endpoint.version == PayloadVersion.V1 and status not in payloads.V1_STATUSES:
            status_v1 = "cancelled" if "cancel" in status else status
            status = status_v1 if status_v1 in payloads.V1_STATUSES else "ready"
        delivery = _create_delivery(merchant=merchant, endpoint=endpoint, trigger=Delivery.Trigger.EVENT,
                                    status=status, imp_uid=imp_uid, merchant_uid=merchant_uid,
                                    cancellation_id=cancellation_id, max_attempts=event_attempts())
        audit_record(actor=actor, merchant=merchant, action="webhook.notify", target=delivery,
                     changed_fields=[])
        _after_commit_enqueue(delivery)
    return delivery


def delivery_resend(*, actor: Actor, delivery: Delivery) -> tuple[Delivery, bool]:
    """Send the same message again (same webhook-id and body): one more attempt."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if not delivery.is_final:
            raise ValidationError(_("This delivery is still being sent."))
        delivery.status = Delivery.Status.PENDING
        delivery.max_attempts = delivery.attempt_count + 1
        delivery.next_attempt_at = timezone.now()
        delivery.completed_at = None
        delivery.enqueued_at = None
        delivery.save(update_fields=["status", "max_attempts", "next_attempt_at", "completed_at",
                                     "enqueued_at"])
        audit_record(actor=actor, merchant=delivery.merchant, action="webhook.resend", target=delivery,
                     changed_fields=[])
        outcome = _after_commit_enqueue(delivery)
    return delivery, bool(outcome["enqueued"])


# --- The engine ---------------------------------------------------------------


def sign(*, message_id: str, timestamp: datetime, body: str, secret_values: list[str]) -> str:
    """Standard Webhooks signature(s): one `v1,…` per active secret, space-separated."""
    return " ".join(Webhook(value).sign(message_id, timestamp, body) for value in secret_values)


def _retry_delay(attempt_number: int, retry_after: str | None) -> timedelta | None:
    """Seconds until the next try after attempt ``attempt_number`` failed, or None for no more."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if attempt_number > len(schedule):
        return None
    base = schedule[attempt_number - 1] * settings.WEBHOOK_RETRY_UNIT_SECONDS
    delay = base * random.uniform(0.8, 1.2)
    honoured = _parse_retry_after(retry_after)
    if honoured is not None:
        delay = min(max(honoured, 1.0), settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS)
    return timedelta(seconds=delay)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


# What a send needs from the delivery row, returned by the claim itself.
_CLAIM_COLUMNS = ("id", "merchant_id", "endpoint_id", "message_id", "mode", "trigger", "url",
                  "content_type", "version", "body", "attempt_count", "max_attempts")


def _claim(delivery_id: int) -> tuple[Delivery, str] | None:
    """Take the delivery for one send, or None if it is not due or another worker holds it.

    One conditional UPDATE … RETURNING (PostgreSQL, and SQLite 3.35+) both takes the lease and
    loads the row, so a send costs no extra read.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    ops, qn = connection.ops, connection.ops.quote_name
    at = ops.adapt_datetimefield_value(now)
    sql = (
        f"UPDATE {qn(Delivery._meta.db_table)} SET {qn('locked_until')} = %s, {qn('lock_token')} = %s "
        f"WHERE {qn('id')} = %s AND {qn('status')} IN (%s, %s) AND {qn('next_attempt_at')} <= %s "
        f"AND ({qn('locked_until')} IS NULL OR {qn('locked_until')} < %s) "
        f"RETURNING {', '.join(qn(c) for c in _CLAIM_COLUMNS)}"
    )
    lease_end = ops.adapt_datetimefield_value(now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS))
    with connection.cursor() as cursor:  # one statement: atomic on its own
        cursor.execute(sql, [lease_end, token, delivery_id, Delivery.Status.PENDING,
                             Delivery.Status.RETRYING, at, at])
        row = cursor.fetchone()
    if row is None:
        return None
    delivery = Delivery(**dict(zip(_CLAIM_COLUMNS, row)), lock_token=token)
    delivery._state.adding = False
    return delivery, token


def deliver(delivery_id: int) -> Attempt | None:
    """Make one attempt of a delivery, if it is due and no other worker is on it."""
    claimed = _claim(delivery_id)
    if claimed is None:
        return None
    delivery, token = claimed
    now = timezone.now()
    secrets_ = list(
        WebhookSecret.objects.filter(endpoint_id=delivery.endpoint_id).active(now)
        .select_related("endpoint")
    )
    endpoint = secrets_[0].endpoint if secrets_ else WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    delivery.endpoint = endpoint
    if delivery.trigger == Delivery.Trigger.EVENT and not endpoint.enabled:
        Delivery.objects.filter(pk=delivery.pk, lock_token=token).update(
            status=Delivery.Status.FAILED, completed_at=now, next_attempt_at=None, locked_until=None,
            lock_token="", last_error=_("The endpoint is disabled; nothing was sent."),
        )
        return None
    secret_values = [decrypt_text(s.secret_encrypted) for s in secrets_]
    headers = {
        "Content-Type": ContentType(delivery.content_type).label,
        "User-Agent": settings.WEBHOOK_USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": sign(message_id=delivery.message_id, timestamp=now, body=delivery.body,
                                  secret_values=secret_values),
    }
    result = net.post(
        delivery.url, body=delivery.body.encode(), headers=headers,
        allowed_networks=allowed_networks(), connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT,
        read_timeout=settings.WEBHOOK_READ_TIMEOUT, max_body=settings.WEBHOOK_MAX_RESPONSE_BYTES,
    )
    return _record(delivery, token, now, headers, result)


@transaction.atomic
def _record(delivery: Delivery, token: str, started: datetime, headers: dict, result) -> Attempt:
    """Store the attempt and the delivery's new state. The lease (token) makes this worker the
    only writer, so no row lock or re-read is needed."""
    number = delivery.attempt_count + 1
    attempt = Attempt.objects.create(
        delivery=delivery, number=number, started_at=started, duration_ms=result.duration_ms,
        request_headers=headers, request_body=delivery.body, response_status=result.status,
        response_headers=result.headers, response_body=result.body,
        response_truncated=result.truncated, error_kind=result.error_kind,
        error_message=result.error_message[:300],
    )
    now = timezone.now()
    changes = {"attempt_count": number, "last_status_code": result.status,
               "last_error": result.error_message[:300], "locked_until": None, "lock_token": ""}
    if result.ok:
        changes.update(status=Delivery.Status.SUCCEEDED, completed_at=now, next_attempt_at=None)
    else:
        retryable = result.error_kind in RETRYABLE or (
            result.status is not None and (result.status >= 500 or result.status == 429)
        )
        delay = _retry_delay(number, result.headers.get("Retry-After") or result.headers.get("retry-after"))
        if retryable and number < delivery.max_attempts and delay is not None:
            # dispatch_due queues it when the time comes
            changes.update(status=Delivery.Status.RETRYING, next_attempt_at=now + delay, enqueued_at=None)
        else:
            changes.update(status=Delivery.Status.FAILED, completed_at=now, next_attempt_at=None)
        if result.status == 410:
            _disable_gone(delivery.endpoint)
    Delivery.objects.filter(pk=delivery.pk, lock_token=token).update(**changes)
    return attempt


def _disable_gone(endpoint: WebhookEndpoint) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = _("The receiver answered 410 Gone, so the endpoint was disabled.")
    endpoint.save(update_fields=["enabled", "disabled_reason", "updated_at"])
    audit_record(actor=SYSTEM, merchant=endpoint.merchant, action="webhook_endpoint.disabled_gone",
                 target=endpoint, changed_fields=["enabled"])


def dispatch_due(limit: int = 1000) -> int:
    """Queue deliveries that are due and not in anyone's hands: retries whose time came,
    sends the broker never took, and sends whose worker died (lease expired)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    # A delivery created a moment ago is being queued by its own request; give it a grace.
    settled = now - timedelta(seconds=DISPATCH_GRACE_SECONDS)
    ids = list(
        Delivery.objects.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING], next_attempt_at__lte=now,
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .filter(Q(enqueued_at__isnull=True, next_attempt_at__lte=settled) | Q(enqueued_at__lt=stale))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        _enqueue(ids)
    return len(ids)
