from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = _("Console")

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
        from . import two_factor  # noqa: F401  (connects the user_logged_in receiver)
