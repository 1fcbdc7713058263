from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from console.tenancy import crypto


class ConsoleConfig(AppConfig):
    """The kernel: tenancy, the merchant and operator models, the audit trail, encryption at
    rest and the REST door. It imports no other app of the project: the apps above it register
    what it needs (audit actions, encrypted columns) in their own ``ready()``, and their admin
    in their own ``admin.py``."""

    name = "console"
    verbose_name = _("Console")

    def ready(self):
        crypto.register_encrypted(self.get_model("ApiToken"), "token_encrypted")
        crypto.register_encrypted(self.get_model("TwoFactorDevice"), "key_encrypted")
