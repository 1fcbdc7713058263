"""Logging filters: keep one-time links out of the logs.

Django logs the path of every 4xx answer ("Bad Request: /accounts/invitation/<token>/"),
and django-axes logs the path of every login. An invitation path carries its token, so
the handler redacts it before anything is written.
"""

import logging
import re

_INVITATION = re.compile(r"(/accounts/invitation/)[^/\s\"'?#]+")


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        if "/accounts/invitation/" in message:
            record.msg, record.args = _INVITATION.sub(r"\1[redacted]", message), ()
        return True
