from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The kernel: tenancy, the merchant and operator models, the audit trail, encryption at
    rest and the REST door. It imports no other app of the project: the apps above it register
    what it needs (audit actions, encrypted columns, their admin) in their own ``ready()``."""

    name = "console"
    verbose_name = _("Console")
