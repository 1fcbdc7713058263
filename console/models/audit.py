"""The audit trail's rows."""

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from console.tenancy import audit_actions

from .merchants import Merchant

CHANGE_DISPLAY_CHARS = 60  # a longer value is cut on the page, and shown whole in a title


@dataclass(frozen=True)
class AuditChange:
    """One changed field of an event, ready to show; ``secret`` when only the name is known."""

    field: str
    label: str = ""  # the field as operators read it (its verbose name), else the field
    old: str = ""
    new: str = ""
    secret: bool = False
    full: str = ""  # "old → new" in full when either side was cut, else ""


def _display(value, choices: dict | None = None) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if choices and isinstance(value, (str, int)) and value in choices:
        return str(choices[value])  # a code shown by its label (module, mode, status)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_display(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_display(item)}" for key, item in value.items())
    return str(value)


class AuditEvent(models.Model):
    """One administrative change: which fields changed and, for fields that are not secret,
    their old and new values. Never holds a secret value (only the secret's name)."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_email = models.CharField(_("actor email"), max_length=254, blank=True)
    merchant = models.ForeignKey(
        Merchant,
        verbose_name=_("merchant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    # A code an app registers (``console.tenancy.audit_actions``); its label comes from there.
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=200, blank=True)
    # The names of every changed field, secrets included.
    changed_fields = models.JSONField(_("changed fields"), default=list, blank=True)
    # {field: {"old": value, "new": value}} for the fields that are not secret.
    changes = models.JSONField(_("old and new values"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="audit_merchant_time")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.target_repr}"

    def action_label(self) -> str:
        """The action as operators read it (a code no app registers shows as it is)."""
        return audit_actions.label(self.action)

    def _field_words(self, name: str) -> tuple[str, dict]:
        """A changed field's label and its values' labels, from the target's own model: the
        field's verbose name and choices, or what the model's ``audit_labels`` names (a value
        that is no field, as a cancel's remaining amount). The kernel lists no app's fields."""
        try:
            model = apps.get_model(self.target_type)
        except (LookupError, ValueError):
            return name, {}
        extra = getattr(model, "audit_labels", {})
        if name in extra:
            return capfirst(str(extra[name])), {}
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return name, {}
        label = str(getattr(field, "verbose_name", name))
        choices = dict(field.flatchoices) if getattr(field, "choices", None) else {}
        return (label if "_" in label else capfirst(label)), choices

    def change_list(self) -> list[AuditChange]:
        """Every changed field in name order: old and new values where recorded, else (a
        secret, or a row from before values were kept) only that it changed. Fields and coded
        values read as their labels (``mode: live`` as "Mode: Live"), in the reader's language."""
        items = []
        for name in sorted(set(self.changed_fields or []) | set(self.changes or {})):
            label, choices = self._field_words(name)
            values = (self.changes or {}).get(name)
            if not isinstance(values, dict):
                items.append(AuditChange(field=name, label=label, secret=True))
                continue
            old, new = _display(values.get("old"), choices), _display(values.get("new"), choices)
            short_old = Truncator(old).chars(CHANGE_DISPLAY_CHARS)
            short_new = Truncator(new).chars(CHANGE_DISPLAY_CHARS)
            full = f"{old} → {new}" if (short_old, short_new) != (old, new) else ""
            items.append(AuditChange(field=name, label=label, old=short_old, new=short_new, full=full))
        return items
