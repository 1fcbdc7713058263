"""Form helpers shared by the console's apps."""

from django import forms
from django.core.exceptions import ValidationError


class ServiceErrorsMixin:
    """Services validate; forms only collect. This puts a service's ValidationError next to
    the fields it names (unknown names become form-wide errors)."""

    def add_service_errors(self: forms.Form, error: ValidationError) -> None:
        errors = error.error_dict if hasattr(error, "error_dict") else {None: error.error_list}
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
