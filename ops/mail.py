"""Local mail: what the console sends is kept on this machine, readable (local settings only).

``LocalMailBackend`` writes each message to its own file in ``var/mail/``: the headers
decoded, the body as UTF-8 text exactly as the template made it, so the invitation link
stays whole on its own line and Korean stays Korean (Django's console backend prints the
MIME form instead: quoted-printable, links broken by ``=`` soft breaks, ``=EB=8B=98``).
``read_messages`` reads them back for the outbox page (``ops/outbox.py``).

The folder is this user's only (0700, files 0600), like the rest of ``var/``: the mail
holds one-time links.
"""

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

log = logging.getLogger(__name__)

SUFFIX = ".txt"


def mail_dir() -> Path:
    return Path(getattr(settings, "PGCONSOLE_MAIL_DIR", Path(settings.VAR_DIR) / "mail"))


def _one_line(value) -> str:
    """A header value on one line (a newline would start a header of its own)."""
    return " ".join(str(value).split())


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def render_message(message, when: datetime) -> str:
    """One message as text: decoded headers, a blank line, the body (and any text parts)."""
    headers = {
        "Date": when.strftime("%Y-%m-%d %H:%M:%S %z"),
        "From": message.from_email or settings.DEFAULT_FROM_EMAIL,
        "To": ", ".join(message.to),
        "Cc": ", ".join(message.cc),
        "Bcc": ", ".join(message.bcc),
        "Reply-To": ", ".join(message.reply_to),
        "Subject": message.subject,
    }
    lines = [f"{name}: {_one_line(value)}" for name, value in headers.items() if value]
    lines += [f"{name}: {_one_line(value)}" for name, value in (message.extra_headers or {}).items()
              if name not in headers]
    for attachment in message.attachments:
        filename = getattr(attachment, "filename", None) or (
            attachment.get_filename() if hasattr(attachment, "get_filename") else None)
        lines.append(f"X-Attachment: {_one_line(filename or 'unnamed')}")
    body = (message.body or "").replace("\r\n", "\n")
    for alternative in getattr(message, "alternatives", []):
        content, mimetype = alternative[0], alternative[1]
        if isinstance(content, str):
            text = content.replace("\r\n", "\n")
            body += f"\n\n----- {mimetype} -----\n{text}"
    return "\n".join(lines) + "\n\n" + body.rstrip("\n") + "\n"


class LocalMailBackend(BaseEmailBackend):
    """Keeps each message in its own file in ``directory`` (default: ``PGCONSOLE_MAIL_DIR``)."""

    def __init__(self, fail_silently=False, *, directory=None, **kwargs):
        super().__init__(**kwargs)
        self.fail_silently = fail_silently
        self.directory = Path(directory) if directory else mail_dir()

    def send_messages(self, email_messages):
        count = 0
        for message in email_messages:
            try:
                message.message()  # the same header checks as a real send
                path = self._write(message)
            except Exception:
                if not self.fail_silently:
                    raise
                continue
            count += 1
            log.info("Mail to %s kept in %s (listed at /local/outbox/)", ", ".join(message.to), path)
        return count

    def _write(self, message) -> Path:
        when = timezone.localtime()
        _private_dir(self.directory)
        path = self.directory / f"{when:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(4)}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(render_message(message, when))
        return path


@dataclass
class KeptMessage:
    name: str
    headers: dict[str, str]
    body: str

    @property
    def subject(self) -> str:
        return self.headers.get("Subject", "")

    @property
    def to(self) -> str:
        return self.headers.get("To", "")

    @property
    def date(self) -> str:
        return self.headers.get("Date", "")


def parse_message(name: str, text: str) -> KeptMessage:
    head, _sep, body = text.partition("\n\n")
    headers = {}
    for line in head.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            headers[key] = value
    return KeptMessage(name=name, headers=headers, body=body)


def read_messages(directory: Path | None = None, limit: int = 50) -> list[KeptMessage]:
    """The newest ``limit`` messages kept, newest first."""
    directory = directory or mail_dir()
    if not directory.is_dir():
        return []
    names = sorted((p.name for p in directory.iterdir() if p.suffix == SUFFIX), reverse=True)[:limit]
    return [parse_message(name, (directory / name).read_text(encoding="utf-8")) for name in names]
