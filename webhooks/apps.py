from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from console.tenancy import audit_actions, crypto

from .audit import AuditAction


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        audit_actions.register(AuditAction)
        crypto.register_encrypted(self.get_model("WebhookSecret"), "secret_encrypted")
