"""Logging filters: keep one-time links out of the logs, and refusals to one line.

The emailed invitation link (``/accounts/invitation/<token>/``) hands its token to the
session and redirects to ``/accounts/invitation/accept/``, so later requests never carry
it. Its first request is still logged wherever paths are logged: the development
server's access log, Django's 4xx lines ("Gone: /accounts/invitation/<token>/"),
django-axes, Celery's task results. Every handler in ``LOGGING`` carries this filter, so
the token is redacted before anything is written, also when it appears percent-encoded
(a ``?next=`` parameter).

Card numbers too: the sandbox takes card data (key-in payments, billing keys), and a
merchant may send it where a path or a message carries it (a query string, an error). Any
run of 13 to 19 digits, alone or in groups split by spaces or dashes, is masked as PortOne
masks a card number (``941000******0000``) before it is written. A run glued to a letter,
an underscore or a decimal point (``imp_…``, ``1733….42``: ids, the Payments page's cursors)
is not a card number and stays.
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


# 13 digits or more: one run, or groups of 4 to 6 split by a space, a dash or their
# URL-encoded forms (4-4-4-4, 4-6-5, 4-6-4).
_SEPARATOR = r"(?:[ +-]|%20|%2[dD])"
_CARD = re.compile(rf"(?<![\w.])(?:[0-9]{{13,}}|[0-9]{{4}}(?:{_SEPARATOR}[0-9]{{4,6}}){{2,4}})(?![\w]|\.[0-9])")
_ENCODED_SEPARATOR = re.compile(r"%20|%2[dD]")


def _mask_card(match: re.Match) -> str:
    digits = re.sub(r"[^0-9]", "", _ENCODED_SEPARATOR.sub("", match.group()))
    if len(digits) < 13:  # three groups of four: not a card number
        return match.group()
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def redact(text: str) -> str:
    text = _INVITATION.sub(r"\1[redacted]", text)
    text = _INVITATION_ENCODED.sub(r"\1[redacted]", text)
    return _CARD.sub(_mask_card, text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
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
