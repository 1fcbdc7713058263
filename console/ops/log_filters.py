"""Logging filters: keep one-time links out of the logs, and refusals to one line.

The emailed invitation link (``/accounts/invitation/<token>/``) hands its token to the
session and redirects to ``/accounts/invitation/accept/``, so later requests never carry
it. Its first request is still logged wherever paths are logged: the development
server's access log, Django's 4xx lines ("Gone: /accounts/invitation/<token>/"),
django-axes, Celery's task results. Every handler in ``LOGGING`` carries this filter, so
the token is redacted before anything is written, also when it appears percent-encoded
(a ``?next=`` parameter).
"""

import logging
import re

from django.core.exceptions import PermissionDenied
from django.http import Http404

# The token is whatever follows the prefix up to the next separator; "accept/" is the
# token-free step and stays readable.
_INVITATION = re.compile(r"(/accounts/invitation/)(?!accept/)[^/\s\"'?#]+")
_INVITATION_ENCODED = re.compile(
    r"(%2Faccounts%2Finvitation%2F)(?!accept%2F)(?:(?!%2F)[^/\s\"'?#&])+", re.IGNORECASE
)


def redact(text: str) -> str:
    text = _INVITATION.sub(r"\1[redacted]", text)
    return _INVITATION_ENCODED.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        if "/accounts/invitation/" in message or "%2faccounts%2finvitation%2f" in message.lower():
            redacted = redact(message)
            if redacted != message:
                record.msg, record.args = redacted, ()
        return True


class RefusalsWithoutTraceback(logging.Filter):
    """On ``django.request``: a 403 (PermissionDenied) or 404 (Http404) stays one line.

    Django logs "Forbidden (Permission denied): /path" with the exception attached, so every
    role refusal by the one door (``console.tenancy.access``) wrote a full traceback: noise
    that buries real errors. The refusal is the answer working as meant; the line says what
    and where. Errors (5xx) and every other exception keep their traceback."""

    REFUSALS = (PermissionDenied, Http404)

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, self.REFUSALS) and getattr(record, "status_code", 0) < 500:
            record.exc_info, record.exc_text = None, None
        return True
