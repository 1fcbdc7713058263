"""The delivery engine: ``deliver`` claims a delivery with a lease (so two workers never
send it at once), signs it with Standard Webhooks headers, sends it through
``webhooks.net`` and records an ``Attempt``. Retries are scheduled in the database and
picked up by ``dispatch_due`` (celery beat), never as long countdowns.

One payment's webhooks to one URL go out in order (``Delivery.sequence_key``): the claim
itself refuses a delivery while an earlier one of its key is pending or retrying, in the
same single UPDATE that takes the lease, so the rule holds across any number of worker
processes without a lock held over a send. When a delivery ends (delivered, or given up
after its last attempt), the next of its line is queued after the commit
(``_release_next``); ``dispatch_due`` leaves waiting ones alone until then, and picks up the
released one if the broker did not take it."""

import email.utils
import logging
import random
import time
import uuid
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_noop
from standardwebhooks import Webhook

from console.tenancy.audit import SYSTEM, audit_record
from console.tenancy.crypto import decrypt_text
from console.tenancy.inputs import ascii_digits, ascii_int, storable
from console.tenancy.locks import lock_rows
from webhooks.audit import AuditAction

from .. import net
from ..errors import RETRYABLE, ErrorKind, Reason
from ..models import (
    Attempt,
    ContentType,
    Delivery,
    WebhookEndpoint,
    WebhookSecret,
)
from .deliveries import _enqueue
from .endpoints import allowed_networks, secrets_ensure_active

logger = logging.getLogger(__name__)

DISPATCH_GRACE_SECONDS = 2


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
    """The seconds a receiver's Retry-After asks for, or None when it says nothing readable.

    The header is the receiver's text: anything it sends is ignored or read, never raised on.
    Seconds are ASCII digits only (``str.isdigit`` also takes "²", which ``float`` refuses).
    """
    if not value:
        return None
    value = value.strip()
    if ascii_digits(value):  # delay-seconds; a huge one is capped by the caller
        seconds = ascii_int(value, max_digits=18)
        return float("inf") if seconds is None else float(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            return None
        return max(0.0, (when - timezone.now()).total_seconds())
    except Exception:  # an unreadable date (ValueError, OverflowError, …): ignored
        return None


# What a send needs from the delivery row, returned by the claim itself.
_CLAIM_COLUMNS = ("id", "merchant_id", "endpoint_id", "message_id", "mode", "trigger", "url",
                  "to_notice_url", "content_type", "version", "body", "attempt_count", "max_attempts",
                  "sequence_key")
_UNFINISHED = (Delivery.Status.PENDING, Delivery.Status.RETRYING)


def _claim(delivery_id: int) -> tuple[Delivery, str] | None:
    """Take the delivery for one send, or None if it is not due, another worker holds it, or
    an earlier delivery of its line (``sequence_key``) is not finished yet.

    One conditional UPDATE … RETURNING (PostgreSQL, and SQLite 3.35+) both takes the lease and
    loads the row, so a send costs no extra read. The line's condition is in the same
    statement: an earlier delivery stays pending or retrying while it is being sent, so no
    two workers can hold two deliveries of one line, and none takes a later one first.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    ops, qn = connection.ops, connection.ops.quote_name
    at = ops.adapt_datetimefield_value(now)
    table = qn(Delivery._meta.db_table)
    sql = (
        f"UPDATE {table} SET {qn('locked_until')} = %s, {qn('lock_token')} = %s "
        f"WHERE {qn('id')} = %s AND {qn('status')} IN (%s, %s) AND {qn('next_attempt_at')} <= %s "
        f"AND ({qn('locked_until')} IS NULL OR {qn('locked_until')} < %s) "
        f"AND ({table}.{qn('sequence_key')} = '' OR NOT EXISTS (SELECT 1 FROM {table} AS {qn('earlier')} "
        f"WHERE {qn('earlier')}.{qn('sequence_key')} = {table}.{qn('sequence_key')} "
        f"AND {qn('earlier')}.{qn('id')} < {table}.{qn('id')} AND {qn('earlier')}.{qn('status')} IN (%s, %s))) "
        f"RETURNING {', '.join(qn(c) for c in _CLAIM_COLUMNS)}"
    )
    lease_end = ops.adapt_datetimefield_value(now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS))
    with connection.cursor() as cursor:  # one statement: atomic on its own
        cursor.execute(sql, [lease_end, token, delivery_id, *_UNFINISHED, at, at, *_UNFINISHED])
        row = cursor.fetchone()
    if row is None:
        return None
    delivery = Delivery(**dict(zip(_CLAIM_COLUMNS, row, strict=True)), lock_token=token)
    delivery._state.adding = False
    return delivery, token


def deliver(delivery_id: int) -> Attempt | None:
    """Make one attempt of a delivery, if it is due and no other worker is on it.

    The send ends within ``WEBHOOK_SEND_DEADLINE``, well inside the lease; should Celery's
    soft time limit interrupt the task anyway, the send counts as a timed-out attempt, and
    anywhere else the lease simply runs out and ``dispatch_due`` queues the delivery again.
    """
    try:
        return _deliver(delivery_id)
    except SoftTimeLimitExceeded:
        logger.warning("delivery %s stopped by the soft time limit; it is retried after its lease",
                       delivery_id)
        return None


def _deliver(delivery_id: int) -> Attempt | None:
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
    # A disabled endpoint stops its own events; a payment's notice_url is the shop's choice for
    # that payment and goes out regardless (see deliveries.payment_event_record).
    if delivery.trigger == Delivery.Trigger.EVENT and not endpoint.enabled and not delivery.to_notice_url:
        _fail_unsent(delivery, token, now, Reason("engine.endpoint_disabled"))
        return None
    # Every attempt to the endpoint goes to its URL as it is now: an operator who fixed the URL
    # sees the next retry (or a resend) reach the fixed one. A notice_url keeps its own.
    if not delivery.to_notice_url:
        if not endpoint.url:
            _fail_unsent(delivery, token, now, Reason("engine.endpoint_no_url"))
            return None
        delivery.url = endpoint.url
    if not secrets_:  # never send unsigned: see secrets_ensure_active
        secrets_ = secrets_ensure_active(endpoint.pk)
    secret_values = [decrypt_text(s.secret_encrypted) for s in secrets_]
    headers = {
        "Content-Type": ContentType(delivery.content_type).label,
        "User-Agent": settings.WEBHOOK_USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": sign(message_id=delivery.message_id, timestamp=now, body=delivery.body,
                                  secret_values=secret_values),
    }
    started = time.monotonic()
    try:
        result = net.post(
            delivery.url, body=delivery.body.encode(), headers=headers,
            allowed_networks=allowed_networks(), connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT,
            read_timeout=settings.WEBHOOK_READ_TIMEOUT, max_body=settings.WEBHOOK_MAX_RESPONSE_BYTES,
            max_headers=settings.WEBHOOK_MAX_RESPONSE_HEADER_BYTES,
            deadline=settings.WEBHOOK_SEND_DEADLINE, dns_timeout=settings.WEBHOOK_DNS_TIMEOUT,
        )
    except SoftTimeLimitExceeded:
        seconds = round(time.monotonic() - started, 1)
        result = net.SendResult(duration_ms=int(seconds * 1000)).fail(
            ErrorKind.TIMEOUT, Reason("send.worker_limit", {"seconds": seconds}))
    except Exception as exc:  # an answer some library chokes on is still a failed attempt, recorded
        logger.exception("delivery %s: the send raised; recorded as a failed attempt", delivery.message_id)
        result = net.SendResult(duration_ms=int((time.monotonic() - started) * 1000)).fail(
            ErrorKind.CONNECTION, Reason("send.failed", {"error": f"{type(exc).__name__}: {exc}"}))
    return _record(delivery, token, now, headers, result)


def _fail_unsent(delivery: Delivery, token: str, now: datetime, why: Reason) -> None:
    """End a delivery that cannot be sent at all (no attempt is made), while holding its lease;
    the next of its payment's line goes then (``_release_next``)."""
    with transaction.atomic():
        if Delivery.objects.filter(pk=delivery.pk, lock_token=token).update(
            status=Delivery.Status.FAILED, completed_at=now, next_attempt_at=None, locked_until=None,
            lock_token="", last_error=why.english(), last_error_params=why.as_json(),
        ):
            _release_next(delivery)


def _record(delivery: Delivery, token: str, started: datetime, headers: dict, result) -> Attempt | None:
    """Store the attempt and the delivery's new state, only while this worker still holds the
    lease (``token``): the conditional UPDATE comes first and takes the row, the attempt is
    inserted in the same transaction, and a lost lease (it ran out and another worker took
    the delivery) records nothing: the holder records its own attempt."""
    # The receiver's answer as it came, but for what the database cannot store (a NUL).
    result.headers, result.body = storable(result.headers), storable(result.body)
    result.error_message, result.error_params = storable(result.error_message), storable(result.error_params)
    number = delivery.attempt_count + 1
    now = timezone.now()
    changes = {"attempt_count": number, "url": delivery.url, "last_status_code": result.status,
               "last_error": result.error_message[:300], "last_error_params": result.error_params,
               "locked_until": None, "lock_token": ""}
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
    with transaction.atomic():
        if not Delivery.objects.filter(pk=delivery.pk, lock_token=token).update(**changes):
            logger.warning("lost the lease on %s during the send; attempt %d not recorded",
                           delivery.message_id, number)
            return None
        attempt = Attempt.objects.create(
            delivery=delivery, number=number, url=delivery.url, started_at=started, duration_ms=result.duration_ms,
            request_headers=headers, request_body=delivery.body, response_status=result.status,
            response_headers=result.headers, response_headers_truncated=result.headers_truncated,
            response_body=result.body, response_truncated=result.truncated,
            error_kind=result.error_kind, error_message=result.error_message[:300],
            error_params=result.error_params,
        )
        if result.status == 410 and not delivery.to_notice_url:  # a notice_url is not the endpoint
            _disable_gone(delivery.endpoint)
        if changes["status"] in (Delivery.Status.SUCCEEDED, Delivery.Status.FAILED):
            _release_next(delivery)
    return attempt


def _release_next(delivery: Delivery) -> None:
    """The delivery ended (delivered or given up): queue the next of its line after the
    commit. It is marked not queued first, so that ``dispatch_due`` sends it should the
    broker refuse it."""
    if not delivery.sequence_key:
        return
    following = (Delivery.objects.filter(sequence_key=delivery.sequence_key, id__gt=delivery.pk,
                                         status__in=_UNFINISHED)
                 .order_by("id").values_list("pk", flat=True).first())
    if following is None:
        return
    Delivery.objects.filter(pk=following).update(enqueued_at=None)
    transaction.on_commit(lambda: _enqueue([following]))


def _disable_gone(endpoint: WebhookEndpoint) -> None:
    endpoint = lock_rows(WebhookEndpoint.objects).get(pk=endpoint.pk)
    if not endpoint.enabled:
        return
    endpoint.enabled = False
    # Stored in English (a msgid); WebhookEndpoint.disabled_reason_text translates it when shown.
    endpoint.disabled_reason = gettext_noop("The receiver answered 410 Gone, so the endpoint was disabled.")
    endpoint.save(update_fields=["enabled", "disabled_reason", "updated_at"])
    audit_record(actor=SYSTEM, merchant=endpoint.merchant,
                 action=AuditAction.WEBHOOK_ENDPOINT_DISABLED_GONE, target=endpoint,
                 changes={"enabled": (True, False)})


def dispatch_due(limit: int = 1000) -> int:
    """Queue deliveries that are due and not in anyone's hands: retries whose time came,
    sends the broker never took, and sends whose worker died (lease expired). A delivery
    waiting for an earlier one of its payment is left for ``_release_next``."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    # A delivery created a moment ago is being queued by its own request; give it a grace.
    settled = now - timedelta(seconds=DISPATCH_GRACE_SECONDS)
    waiting = Delivery.objects.filter(sequence_key=OuterRef("sequence_key"), id__lt=OuterRef("id"),
                                      status__in=_UNFINISHED)
    ids = list(
        Delivery.objects.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING], next_attempt_at__lte=now,
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .filter(Q(sequence_key="") | ~Exists(waiting))  # a later event of a line waits its turn
        .filter(Q(enqueued_at__isnull=True, next_attempt_at__lte=settled) | Q(enqueued_at__lt=stale))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        _enqueue(ids)
    return len(ids)
