"""A real SMTP server on loopback (aiosmtpd), for tests whose mail is sent by another process."""

import email
import email.policy
import re
import socket
import time
from contextlib import contextmanager

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, *, count: int = 1, timeout: float = 30) -> email.message.EmailMessage:
        """The count-th message to this address, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = [m for m in self.messages if to in m["X-Envelope-To"]]
            if len(mine) >= count:
                return mine[count - 1]
            time.sleep(0.05)
        raise TimeoutError(f"no message #{count} to {to} within {timeout}s; got {len(self.messages)}")


def body_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def invitation_link(message) -> str:
    match = re.search(r"https?://\S+/accounts/invitation/\S+/", body_text(message))
    assert match, body_text(message)
    return match.group(0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_receiver():
    """Yields (mailbox, EMAIL_URL) for a live SMTP server on 127.0.0.1."""
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
