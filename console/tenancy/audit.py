"""The audit trail: one row for every administrative change.

Services call ``audit_record`` inside the same transaction as the change, so a
change without its row (or a row without its change) cannot be committed.
The action is a member of an app's ``AuditAction`` (``<app>/audit.py``), registered with the
audit vocabulary (``console.tenancy.audit_actions``). A row names every
field that changed (``changed_fields``); for a field that is not secret it also keeps
the old and the new value (``changes``). A secret (credentials, signing secrets, API
secrets, tokens, passwords, recovery codes, TOTP keys) is passed by name only, in
``changed_fields``: ``audit_event`` refuses a secret-looking name in ``changes``.
"""

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, models

from console.models import ApiKey, AuditEvent, Merchant, Operator
from console.tenancy import audit_actions
from console.tenancy.client_ip import client_ip

__all__ = [
    "SYSTEM", "Actor", "audit_changes", "audit_event", "audit_record",
    "audit_record_many", "changed_fields", "json_safe", "snapshot",
]

# Names that must never carry a value into a row (checked on ``changes``' keys).
SECRET_NAME = re.compile(r"secret|credential|token|password|recovery|totp|key_encrypted|hash",
                         re.IGNORECASE)


@dataclass(frozen=True)
class Actor:
    """Who is making a change, and from where: an operator, a REST API key (a merchant's
    server), or neither (the system). The row keeps the actor's name as text
    (``actor_email``), so it still reads right once the operator or key is gone."""

    user: Operator | None = None
    ip: str | None = None
    api_key: ApiKey | None = None

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = request.user if request.user.is_authenticated else None
        return cls(user=user, ip=client_ip(request))

    @property
    def label(self) -> str:
        """The actor as a row names it: the operator's email, "API key <key> (<name>)", or ""
        for the system."""
        if self.user is not None:
            return self.user.email
        if self.api_key is not None:
            return f"API key {self.api_key.key} ({self.api_key.name})"[:254]
        return ""


SYSTEM = Actor()


def json_safe(value: Any) -> Any:
    """A value as the row stores it: choices by their value, model instances by their
    ``str``, dates, decimals and the like as text, lists and dicts item by item."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [json_safe(item) for item in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    return str(value)  # model instances, dates and times, decimals, UUIDs


def _label(target: models.Model) -> str:
    """The target as its row names it. Models whose ``str`` holds a translated word (a role,
    a status, a mode) give ``audit_label()`` instead, so the row reads the same whichever
    language the actor used and whichever the reader uses."""
    label = getattr(target, "audit_label", None)
    return label() if callable(label) else str(target)


def _values(changes: Mapping[str, tuple[Any, Any]]) -> dict[str, dict[str, Any]]:
    values = {}
    for name, (old, new) in changes.items():
        if SECRET_NAME.search(name):
            raise ValueError(f"{name!r} looks secret: pass it in changed_fields, without values")
        values[name] = {"old": json_safe(old), "new": json_safe(new)}
    return values


def _registered(action: enum.Enum | str) -> str:
    """The action's code; one no app registers is a ValueError."""
    code = action.value if isinstance(action, enum.Enum) else action
    if not audit_actions.is_registered(code):
        raise ValueError(f"{code!r} is not a registered audit action")
    return code


def audit_event(
    *,
    actor: Actor,
    merchant: Merchant | None,
    action: enum.Enum | str,
    target: models.Model,
    changed_fields: Iterable[str] = (),
    changes: Mapping[str, tuple[Any, Any]] | None = None,
) -> AuditEvent:
    """An unsaved event; ``audit_record`` saves one, ``audit_record_many`` several.

    ``changes`` maps each non-secret field to its ``(old, new)`` values (``None`` for
    a side that does not exist, as at a create or a delete); ``changed_fields`` names
    the fields recorded without values (secrets). The row's ``changed_fields`` holds both.
    """
    values = _values(changes or {})
    return AuditEvent(
        actor=actor.user,
        actor_email=actor.label,
        merchant=merchant,
        action=_registered(action),
        target_type=target._meta.label_lower,
        target_id=str(target.pk or ""),
        target_repr=_label(target)[:200],
        changed_fields=sorted(set(changed_fields) | set(values)),
        changes=values,
        ip_address=actor.ip,
    )


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("audit rows must be written inside the transaction of the change")


def audit_record(**fields) -> AuditEvent:
    """Save one event, inside the change's transaction. Takes ``audit_event``'s arguments."""
    _require_transaction()
    event = audit_event(**fields)
    event.save()
    return event


def audit_record_many(events: list[AuditEvent]) -> None:
    _require_transaction()
    AuditEvent.objects.bulk_create(events, batch_size=500)


def changed_fields(instance: models.Model, before: dict, fields: Iterable[str]) -> list[str]:
    return [name for name in fields if before.get(name) != getattr(instance, name)]


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict:
    return {name: getattr(instance, name) for name in fields}


def audit_changes(
    instance: models.Model, before: dict, fields: Iterable[str]
) -> dict[str, tuple[Any, Any]]:
    """``{field: (old, new)}`` for the fields of a ``snapshot`` that differ now. Only for
    fields that are not secret: their values go into the row."""
    return {
        name: (before.get(name), getattr(instance, name))
        for name in changed_fields(instance, before, fields)
    }


