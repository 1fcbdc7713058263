"""The API keys' audit actions: keys and the IP whitelist.

Registered with the kernel's vocabulary (``console.tenancy.audit_actions``) by
``ApiKeysConfig.ready()``. The codes are stored in the rows: a code never changes once used.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    API_KEY_CREATE = "api_key.create", _("API key created")
    API_KEY_REISSUE = "api_key.reissue", _("API key reissued")
    API_KEY_REVOKE = "api_key.revoke", _("API key revoked")
    WHITELIST_UPDATE = "whitelist.update", _("IP whitelist changed")
