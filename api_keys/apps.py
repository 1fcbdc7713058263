from django.apps import AppConfig

from console.tenancy import audit_actions

from .audit import AuditAction


class ApiKeysConfig(AppConfig):
    """REST API keys and the IP whitelist: their services, pages and admin, and
    ``POST /users/getToken``. The models (``ApiKey``, ``ApiToken``, ``WhitelistRule``) are the
    kernel's: the REST door reads them on every call."""

    name = "api_keys"

    def ready(self):
        audit_actions.register(AuditAction)
