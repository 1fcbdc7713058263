from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = _("Console")

    def ready(self):
        # Registered here because they live in the areas, not in console/ itself:
        from console.accounts import tasks as _accounts_tasks  # noqa: F401  (Celery tasks)
        from console.ops import checks as _checks  # noqa: F401  (system checks)
        from console.ops import tasks as _ops_tasks  # noqa: F401  (Celery tasks)
        from console.two_factor import policy as _policy  # noqa: F401  (the user_logged_in receiver)

