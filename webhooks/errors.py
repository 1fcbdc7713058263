"""Why an attempt failed: one vocabulary for the client (``webhooks.net``), the engine's retry
rule (``webhooks.services``) and the stored ``Attempt.error_kind``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ErrorKind(models.TextChoices):
    NONE = "", _("None")
    TIMEOUT = "timeout", _("Timeout")
    REFUSED = "refused", _("Connection refused")
    DNS = "dns", _("DNS")
    TLS = "tls", _("TLS")
    BLOCKED = "blocked", _("Blocked address")
    REDIRECT = "redirect", _("Redirect")
    HTTP_STATUS = "http_status", _("Non-2xx answer")
    CONNECTION = "connection", _("Connection error")


# Worth another try later: the network, not the receiver's answer or our own URL rules.
RETRYABLE = frozenset({ErrorKind.TIMEOUT, ErrorKind.REFUSED, ErrorKind.DNS, ErrorKind.TLS,
                       ErrorKind.CONNECTION})
