from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from console.tenancy import audit_actions, crypto

from .audit import AuditAction


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "pgchannels"  # the app label stays clear of the unrelated PyPI "channels"
    verbose_name = _("PG channels")

    def ready(self) -> None:
        audit_actions.register(AuditAction)
        crypto.register_encrypted(self.get_model("Channel"), "credentials_encrypted")
        crypto.register_encrypted(self.get_model("SharedTestCredential"), "credentials_encrypted")
