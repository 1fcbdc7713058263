from django.apps import AppConfig

from console.tenancy import audit_actions

from .audit import AuditAction


class AccountsConfig(AppConfig):
    """Login, members and roles, invitations, sub-merchants and two-factor login. Its models
    (operators, merchants, memberships, invitations, two-factor devices) are the kernel's
    (``console.models``); this app holds their pages, services and admin."""

    name = "accounts"

    def ready(self):
        from . import tasks  # noqa: F401  (Celery tasks, for the web process that queues them)
        from .two_factor import policy  # noqa: F401  (the user_logged_in receiver)

        audit_actions.register(AuditAction)
