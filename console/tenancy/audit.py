"""The audit trail: one row for every administrative change.

Services call ``audit_record`` inside the same transaction as the change, so a
change without its row (or a row without its change) cannot be committed.
A row names the fields that changed, never their values, so a secret can
never leak into it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, models

from console.models import AuditEvent, Merchant, Operator
from console.tenancy.client_ip import client_ip


@dataclass(frozen=True)
class Actor:
    """Who is making a change, and from where."""

    user: Operator | None = None
    ip: str | None = None

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = request.user if request.user.is_authenticated else None
        return cls(user=user, ip=client_ip(request))


SYSTEM = Actor()


def audit_event(
    *,
    actor: Actor,
    merchant: Merchant | None,
    action: str,
    target: models.Model,
    changed_fields: Iterable[str] = (),
) -> AuditEvent:
    """An unsaved event; ``audit_record`` saves one, ``audit_record_many`` several."""
    return AuditEvent(
        actor=actor.user,
        actor_email=actor.user.email if actor.user else "",
        merchant=merchant,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk or ""),
        target_repr=str(target)[:200],
        changed_fields=sorted(set(changed_fields)),
        ip_address=actor.ip,
    )


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("audit rows must be written inside the transaction of the change")


def audit_record(
    *,
    actor: Actor,
    merchant: Merchant | None,
    action: str,
    target: models.Model,
    changed_fields: Iterable[str] = (),
) -> AuditEvent:
    _require_transaction()
    event = audit_event(
        actor=actor, merchant=merchant, action=action, target=target, changed_fields=changed_fields
    )
    event.save()
    return event


def audit_record_many(events: list[AuditEvent]) -> None:
    _require_transaction()
    AuditEvent.objects.bulk_create(events, batch_size=500)


def changed_fields(instance: models.Model, before: dict, fields: Iterable[str]) -> list[str]:
    return [name for name in fields if before.get(name) != getattr(instance, name)]


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict:
    return {name: getattr(instance, name) for name in fields}


