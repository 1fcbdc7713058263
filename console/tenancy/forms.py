"""Form helpers shared by the console's apps."""

from django import forms
from django.core.exceptions import ValidationError


class ServiceErrorsMixin:
    """Services validate; forms only collect. This puts a service's ValidationError next to
    the fields it names (unknown names become form-wide errors). ``service_fields`` maps a
    service's field name to the form's where they differ."""

    service_fields: dict[str, str] = {}

    def add_service_errors(self: forms.Form, error: ValidationError) -> None:
        errors = error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}
        for field, messages in errors.items():
            field = self.service_fields.get(field, field)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
