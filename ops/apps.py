from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the console: health, system checks, the demo seed, log filters, the local mail
    backend and outbox, the ping task."""

    name = "ops"

    def ready(self):
        from . import (
            checks,  # noqa: F401  (system checks)
            tasks,  # noqa: F401  (Celery tasks)
        )
