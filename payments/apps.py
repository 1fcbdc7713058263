from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from console.tenancy import audit_actions

from .audit import AuditAction


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        audit_actions.register(AuditAction)
