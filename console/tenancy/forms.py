"""Form helpers shared by the console's apps."""

from django import forms
from django.core.exceptions import ValidationError

from .inputs import ascii_int
from .stale import FIELD as STALE_FIELD
from .stale import StaleEdit, change_text, stale_message


class WholeNumberField(forms.IntegerField):
    """An ``IntegerField`` that reads ASCII digits only (``inputs.ascii_int``): Django's reads
    ``٣`` as 3."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = ascii_int(str(value).strip(), max_digits=20)
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class ServiceErrorsMixin:
    """Services validate; forms only collect. This puts a service's ValidationError next to
    the fields it names (unknown names become form-wide errors). ``service_fields`` maps a
    service's field name to the form's where they differ. A ``StaleEdit`` goes to the form's
    ``add_stale_error`` when it has one (``StaleEditMixin``)."""

    service_fields: dict[str, str] = {}

    def add_service_errors(self: forms.Form, error: ValidationError) -> None:
        if isinstance(error, StaleEdit) and hasattr(self, "add_stale_error"):
            self.add_stale_error(error)
            return
        errors = error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}
        for field, messages in errors.items():
            field = self.service_fields.get(field, field)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


def _choice_labels(field: forms.Field) -> dict[str, str]:
    labels = {}
    for value, label in getattr(field, "choices", ()):
        if isinstance(label, (list, tuple)):  # an optgroup
            labels.update({str(v): str(lbl) for v, lbl in label})
        else:
            labels[str(value)] = str(label)
    return labels


class VersionField(forms.CharField):
    """The hidden version of a stale-edit form: the page's, never the operator's input, so it
    is no change of theirs (``has_changed``)."""

    widget = forms.HiddenInput

    def has_changed(self, initial, data) -> bool:
        return False


class StaleEditMixin:
    """An edit form that knows which version it was filled in from (``console.tenancy.stale``).

    Adds the hidden field (render it with ``{{ form.edit_version }}``; give its initial value,
    the service's version of the object, in ``initial``), keeps it out of ``cleaned_data``
    (read it as ``expected_version``), and shows a ``StaleEdit``: the changes in words at the
    top, the fields the operator left as they were refreshed to what is stored now, the new
    version carried for a second Save. ``stale_lead`` says what was changed, with
    ``%(changes)s`` at its end."""

    stale_lead: str = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[STALE_FIELD] = VersionField(required=False)
        self.expected_version: str | None = None
        self.stale = False  # refused as stale: the page answers 409 Conflict

    def clean(self):
        cleaned = super().clean()
        self.expected_version = self.cleaned_data.pop(STALE_FIELD, "") or None
        return cleaned

    def _stale_label(self, name: str) -> str:
        field = self.fields.get(name)
        label = str(field.label) if field is not None and field.label else name
        return label.removesuffix(" *")

    def _stale_shown(self, name: str, value) -> str:
        labels = _choice_labels(self.fields[name]) if name in self.fields else {}
        if isinstance(value, (list, tuple)):
            return ", ".join(labels.get(str(v), str(v)) for v in value)
        return labels.get(str(value), str(value)) if value not in (None, "") else ""

    def add_stale_error(self, error: StaleEdit) -> None:
        data = self.data.copy()
        for name, value in error.refresh.items():
            key = self.add_prefix(name)
            if isinstance(value, bool):
                data.pop(key, None)
                if value:
                    data[key] = "on"
            elif isinstance(value, (list, tuple)) and hasattr(data, "setlist"):
                data.setlist(key, [str(v) for v in value])
            else:
                data[key] = value if isinstance(value, (list, tuple)) else str(value or "")
        data[self.add_prefix(STALE_FIELD)] = error.version
        self.data = data
        self.stale = True
        texts = [change_text(self._stale_label(c.field), c, self._stale_shown(c.field, c.value))
                 for c in error.changes]
        self.add_error(None, stale_message(str(self.stale_lead), texts))
