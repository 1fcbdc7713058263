"""Creating deliveries: a test, a real event, a resend. After commit only the id goes to
Celery; if the broker refuses it, the row stays due and ``engine.dispatch_due`` sends it."""

import enum
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from console.models import Merchant
from console.tenancy.audit import SYSTEM, Actor, audit_record
from console.tenancy.locks import lock_rows
from webhooks.audit import AuditAction

from .. import payloads
from ..models import (
    Delivery,
    Mode,
    PayloadVersion,
    WebhookEndpoint,
    event_attempts,
)
from .endpoints import endpoint_for_signing

logger = logging.getLogger(__name__)

def _enqueue(delivery_ids: list[int]) -> bool:
    """Hand the ids to Celery. If the broker is down, the rows stay due and
    ``dispatch_due`` sends them once it is back."""
    from ..tasks import deliver

    try:
        for delivery_id in delivery_ids:
            deliver.apply_async(args=[delivery_id], queue=settings.WEBHOOK_QUEUE, retry=False)
    except Exception as exc:  # kombu raises several kinds; none may lose the delivery
        logger.warning("broker unavailable, %d deliveries stay queued: %s", len(delivery_ids),
                       type(exc).__name__)
        return False
    Delivery.objects.filter(pk__in=delivery_ids).update(enqueued_at=timezone.now())
    return True


def _create_deliveries(*, merchant, endpoint, trigger, status, imp_uid, merchant_uid,
                       cancellation_id=None, billing_key=None, max_attempts, notice_urls=(),
                       in_order=False) -> list[Delivery]:
    """One message, built once: to the endpoint's URL, or to each of ``notice_urls``. A
    payment's event (``in_order``) is sent to each URL after that payment's earlier events to
    the same URL (``Delivery.sequence_key``, ``engine._claim``)."""
    body, event = payloads.build(
        version=endpoint.version, content_type=endpoint.content_type, store_id=merchant.code,
        imp_uid=imp_uid, merchant_uid=merchant_uid, status=status, cancellation_id=cancellation_id,
        billing_key=billing_key,
    )
    deliveries = []
    for notice_url in (notice_urls or [""]):
        deliveries.append(Delivery.objects.create(
            merchant=merchant, endpoint=endpoint, mode=endpoint.mode, trigger=trigger, event=event,
            url=notice_url or endpoint.url, to_notice_url=bool(notice_url),
            imp_uid=imp_uid if trigger == Delivery.Trigger.EVENT else "",
            content_type=endpoint.content_type, version=endpoint.version, body=body,
            max_attempts=max_attempts, next_attempt_at=timezone.now(),
            sequence_key=sequence_key(imp_uid, notice_url or f"endpoint {endpoint.pk}") if in_order else "",
        ))
    return deliveries


def sequence_key(imp_uid: str, destination: str) -> str:
    """The line one payment's webhooks to one destination wait in (a notice_url, or the
    endpoint, whose URL may change between two events): a hash, so that an index holds it."""
    return hashlib.sha256(f"{imp_uid}\n{destination}".encode()).hexdigest()[:40]


# delivery_send_test, notify_event and delivery_resend hand the delivery to the broker when
# their transaction commits, and report whether the broker took it. Inside a caller's
# transaction that commit would come later (or never), and "enqueued" would be a guess, so
# they open the outermost block themselves: ``durable=True`` raises RuntimeError if called
# inside another atomic block.
def _after_commit_enqueue(*deliveries: Delivery) -> dict:
    outcome = {"enqueued": None}

    def enqueue():
        outcome["enqueued"] = _enqueue([delivery.pk for delivery in deliveries])

    transaction.on_commit(enqueue)
    return outcome


def delivery_send_test(*, actor: Actor, merchant: Merchant, mode: str) -> tuple[Delivery, bool]:
    """Send a sample event to the saved URL: one attempt, which the operator can resend.
    Returns the delivery and whether the broker took it (if not, it stays queued)."""
    with transaction.atomic(durable=True):
        endpoint = WebhookEndpoint.objects.filter(merchant=merchant, mode=mode).first()
        if endpoint is None or not endpoint.url:
            raise ValidationError(_("Save an Endpoint URL first."))
        imp_uid, merchant_uid = payloads.sample_ids()
        [delivery] = _create_deliveries(merchant=merchant, endpoint=endpoint, trigger=Delivery.Trigger.TEST,
                                        status="paid", imp_uid=imp_uid, merchant_uid=merchant_uid,
                                        max_attempts=1)
        audit_record(actor=actor, merchant=merchant, action=AuditAction.WEBHOOK_SEND_TEST,
                     target=delivery)
        outcome = _after_commit_enqueue(delivery)
    return delivery, bool(outcome["enqueued"])


def _uses_agency_webhook(merchant: Merchant) -> bool:
    return bool(merchant.parent_id and merchant.webhook_same_as_agency)


def endpoint_for_notification(*, merchant: Merchant, mode: str) -> WebhookEndpoint | None:
    """The endpoint that receives a merchant's events: a sub-merchant's own when it uses one."""
    owner_id = merchant.parent_id if _uses_agency_webhook(merchant) else merchant.pk
    return WebhookEndpoint.objects.filter(merchant_id=owner_id, mode=mode).first()


def notify_event(
    *, merchant: Merchant, mode: str, imp_uid: str, merchant_uid: str, status: str,
    cancellation_id: str | None = None, actor: Actor = SYSTEM,
) -> Delivery | None:
    """Notify the merchant's endpoint of a payment event; retried on failure. For the admin
    and the command line: it opens the outermost transaction itself."""
    with transaction.atomic(durable=True):
        deliveries = payment_event_record(merchant=merchant, mode=mode, imp_uid=imp_uid,
                                          merchant_uid=merchant_uid, status=status,
                                          cancellation_id=cancellation_id, actor=actor)
    return deliveries[0] if deliveries else None


def payment_event_record(
    *, merchant: Merchant, mode: str, imp_uid: str, merchant_uid: str, status: str,
    cancellation_id: str | None = None, notice_urls: Sequence[str] = (), actor: Actor = SYSTEM,
    billing_key: str | None = None, v2_only: bool = False,
) -> list[Delivery]:
    """The webhooks a payment's change causes, written in the caller's transaction (an
    outbox): the delivery rows commit with the payment's new state or not at all, so a
    process that dies after the commit loses nothing (``dispatch_due`` sends what the
    broker never got). They go to the broker after the commit. Must run inside an atomic
    block, the one that changes the payment.

    Without ``notice_urls``: one delivery to the merchant's endpoint (its agency's when it
    uses the agency's webhook), none if that has no URL or is disabled.

    With ``notice_urls`` (the payment's ``notice_url``, checked when the window opened): one
    delivery to each of them *instead of* the endpoint, as PortOne does. They are the
    endpoint's messages in all but the URL: signed with its secrets, in its content type and
    payload version; a merchant with no endpoint row gets one (no URL, a new secret, shown on
    the Webhooks page) so that nothing goes out unsigned. They go out even when the endpoint
    is disabled or has no URL: the console's switch is about the console's URL, and the shop
    named these for this payment (PortOne sends to notice_url whatever the console says). A
    410 from a notice_url fails that delivery and leaves the endpoint alone. The URLs are
    checked again at every send (``webhooks.net``), so one that now resolves to a private
    address is refused then; a resend goes to the same URL.

    One payment's webhooks to one URL are delivered in the order they were written (a
    ``partial_cancelled`` never before its ``paid``): see ``engine._claim``. ``v2_only``: an
    event a V1 endpoint is not told (it has been told already in V1's words)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("payment_event_record runs inside the transaction that changes the payment")
    if status not in payloads.V2_TYPES:
        raise ValidationError({"status": _("Unknown status: %(status)s") % {"status": status}})
    if mode not in Mode.values:
        raise ValidationError({"mode": _("Choose live or test.")})
    if not imp_uid or not merchant_uid:
        raise ValidationError(_("imp_uid and merchant_uid are required."))
    notice_urls = list(dict.fromkeys(url for url in notice_urls if url))  # each once, in order
    endpoint = endpoint_for_notification(merchant=merchant, mode=mode)
    if notice_urls and endpoint is None:
        owner = merchant.parent if _uses_agency_webhook(merchant) else merchant
        endpoint = endpoint_for_signing(merchant=owner, mode=mode)
    elif not notice_urls and (endpoint is None or not endpoint.url or not endpoint.enabled):
        logger.info("no enabled %s webhook endpoint for %s; event not sent", mode, merchant.code)
        return []
    if endpoint.version == PayloadVersion.V1:
        if v2_only:
            return []
        if status not in payloads.V1_STATUSES:
            status = payloads.V1_STATUS_OF.get(status, "ready")
    deliveries = _create_deliveries(merchant=merchant, endpoint=endpoint, trigger=Delivery.Trigger.EVENT,
                                    status=status, imp_uid=imp_uid, merchant_uid=merchant_uid,
                                    cancellation_id=cancellation_id, billing_key=billing_key,
                                    max_attempts=event_attempts(), notice_urls=notice_urls, in_order=True)
    for delivery in deliveries:
        audit_record(actor=actor, merchant=merchant, action=AuditAction.WEBHOOK_NOTIFY, target=delivery)
    _after_commit_enqueue(*deliveries)
    return deliveries


class ResendOutcome(enum.Enum):
    QUEUED = "queued"  # this request queued one more attempt (or brought the next one forward)
    ALREADY_QUEUED = "already_queued"  # it was due already: nothing more to do
    SENDING = "sending"  # a worker is sending it right now
    ATTEMPTED = "attempted"  # an attempt was made since the operator's page showed it


@dataclass(frozen=True)
class Resend:
    delivery: Delivery
    outcome: ResendOutcome
    enqueued: bool = False  # whether the broker took it (when queued)


def _check_sendable(delivery: Delivery, endpoint: WebhookEndpoint) -> None:
    """Refuse a resend the engine could only fail: to an endpoint with no URL, or an event to a
    disabled endpoint (a notice_url goes to its own URL regardless)."""
    if delivery.to_notice_url:
        return
    if not endpoint.url:
        raise ValidationError(_("The endpoint has no URL now. Save an Endpoint URL first."))
    if delivery.trigger == Delivery.Trigger.EVENT and not endpoint.enabled:
        raise ValidationError(_("The endpoint is disabled. Turn on Send notifications first."))


def _reopen(delivery: Delivery, now) -> None:
    """Make a final delivery due again with one more attempt (same webhook-id and body)."""
    delivery.status = Delivery.Status.PENDING
    delivery.max_attempts = delivery.attempt_count + 1
    delivery.next_attempt_at = now
    delivery.completed_at = None
    delivery.enqueued_at = None
    delivery.save(update_fields=["status", "max_attempts", "next_attempt_at", "completed_at", "enqueued_at"])


def delivery_resend(*, actor: Actor, delivery: Delivery, seen_attempts: int | None = None) -> Resend:
    """Send the same message again (same webhook-id and body), to the endpoint's URL as it is
    now (a notice_url delivery to its own URL).

    A final delivery gets one more attempt. One still Retrying has its next attempt brought
    forward to now ("send now"): the schedule goes on from there only if that attempt fails
    too, so a send-now that succeeds leaves no retry behind. ``seen_attempts`` is the attempt
    count the operator's page showed: if an attempt was made since (a double click, a second
    tab, the schedule), or the next one is already due or under way, nothing more is queued.
    One request, one attempt at most."""
    with transaction.atomic(durable=True):
        delivery = lock_rows(Delivery.objects.select_related("endpoint")).get(pk=delivery.pk)
        now = timezone.now()
        if seen_attempts is not None and delivery.attempt_count > seen_attempts:
            return Resend(delivery, ResendOutcome.ATTEMPTED)
        if delivery.locked_until and delivery.locked_until > now:
            return Resend(delivery, ResendOutcome.SENDING)
        if not delivery.is_final and delivery.next_attempt_at and delivery.next_attempt_at <= now:
            return Resend(delivery, ResendOutcome.ALREADY_QUEUED)
        _check_sendable(delivery, delivery.endpoint)
        if delivery.is_final:
            _reopen(delivery, now)
            changes = None
        else:  # Retrying (or Pending later): its next attempt, now
            changes = {"next_attempt_at": (delivery.next_attempt_at, now)}
            delivery.next_attempt_at = now
            delivery.enqueued_at = None
            delivery.save(update_fields=["next_attempt_at", "enqueued_at"])
        audit_record(actor=actor, merchant=delivery.merchant, action=AuditAction.WEBHOOK_RESEND,
                     target=delivery, changes=changes)
        outcome = _after_commit_enqueue(delivery)
    return Resend(delivery, ResendOutcome.QUEUED, bool(outcome["enqueued"]))


# At most this many failed deliveries are resent by one recover; the confirmation says so.
RECOVER_MAX = 100


@dataclass(frozen=True)
class Recovered:
    count: int  # resent by this recover
    left: int  # failed since then and not resent (more than RECOVER_MAX)
    enqueued: bool  # whether the broker took the task that queues them


def recover_check(*, endpoint: WebhookEndpoint) -> None:
    """Refuse a recover the engine could only fail (the confirmation page asks it first)."""
    if not endpoint.url:
        raise ValidationError(_("The endpoint has no URL now. Save an Endpoint URL first."))
    if not endpoint.enabled:
        raise ValidationError(_("The endpoint is disabled. Turn on Send notifications first."))


def deliveries_recover(*, actor: Actor, endpoint: WebhookEndpoint, since: datetime) -> Recovered:
    """Resend every failed payment notification of ``endpoint`` made since ``since`` (Svix's
    "recover"), oldest first, at most ``RECOVER_MAX``: each gets one more attempt, to the
    endpoint's URL as it is now. Tests and deliveries to a payment's notice_url are left out
    (they are resent one by one). All of them change in one transaction with one audit row;
    after commit one task (``webhooks.deliveries_dispatch``) hands their ids to the workers,
    and if the broker is down they stay due for ``dispatch_due``."""
    from ..selectors import recoverable_deliveries

    with transaction.atomic(durable=True):
        endpoint = lock_rows(WebhookEndpoint.objects).get(pk=endpoint.pk)
        recover_check(endpoint=endpoint)
        found = recoverable_deliveries(endpoint=endpoint, since=since)
        ids = list(found.order_by("created_at", "id").values_list("pk", flat=True)[:RECOVER_MAX])
        now = timezone.now()
        deliveries = list(lock_rows(Delivery.objects.filter(pk__in=ids, status=Delivery.Status.FAILED)))
        for delivery in deliveries:
            _reopen(delivery, now)
        left = found.count()  # after the reopening: what is still failed since then
        outcome = {"enqueued": not deliveries}

        def enqueue():
            outcome["enqueued"] = _enqueue_dispatch([d.pk for d in deliveries])

        if deliveries:  # nothing resent, nothing changed: no row
            audit_record(actor=actor, merchant=endpoint.merchant, action=AuditAction.WEBHOOK_RECOVER,
                         target=endpoint, changes={"since": (None, since), "resent": (None, len(deliveries))})
            transaction.on_commit(enqueue)
    return Recovered(count=len(deliveries), left=left, enqueued=bool(outcome["enqueued"]))


def _enqueue_dispatch(delivery_ids: list[int]) -> bool:
    from ..tasks import deliveries_dispatch

    try:
        deliveries_dispatch.apply_async(args=[delivery_ids], queue=settings.WEBHOOK_QUEUE, retry=False)
    except Exception as exc:  # kombu raises several kinds; the rows stay due for dispatch_due
        logger.warning("broker unavailable, %d recovered deliveries stay queued: %s", len(delivery_ids),
                       type(exc).__name__)
        return False
    return True


def deliveries_dispatch(*, delivery_ids: Sequence[int]) -> int:
    """Hand these deliveries to the workers, those still due and not yet handed over (the
    task behind a recover). Returns how many went."""
    ids = list(Delivery.objects.filter(
        pk__in=list(delivery_ids)[:RECOVER_MAX], status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING],
        enqueued_at__isnull=True,
    ).values_list("pk", flat=True))
    if ids:
        _enqueue(ids)
    return len(ids)


def sub_merchant_deliveries_to_agency(*, sub_merchant: Merchant) -> int:
    """Before a sub-merchant is deleted. What it sent through its agency's endpoint is in the
    agency's delivery log, so those deliveries move to the agency (body, attempts and
    webhook-id unchanged) instead of going with it; its own endpoint's go with it. Returns
    how many moved."""
    if sub_merchant.parent_id is None:
        return 0
    return (Delivery.objects.filter(merchant=sub_merchant, endpoint__merchant_id=sub_merchant.parent_id)
            .update(merchant_id=sub_merchant.parent_id))
