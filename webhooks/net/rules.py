"""What a webhook URL may look like, decided before any DNS lookup."""


from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import urlsplit

import idna

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2000
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PUBLIC_ONLY = "Webhooks can only go to public addresses."

# Attribute set by post() on the PreparedRequest so the (shared) adapter knows the
# per-call policy.
_ALLOWED_ATTR = "_webhook_allowed_networks"


class UnsafeURL(Exception):
    """A webhook URL that must not be used. ``kind`` is one of "scheme", "userinfo",
    "host", "port", "numeric", "dns", "blocked"; ``message`` is for an operator."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- parsing


class _Target(NamedTuple):
    scheme: str
    host: str  # lower case, ASCII (IDNA), no brackets
    port: int  # effective port
    explicit_port: int | None  # as written in the URL


_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
_HOST_NAME = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*\.?")


def _split(url: str) -> _Target:
    """Syntax rules (no DNS): scheme, user info, host, port, numeric spellings."""
    if not isinstance(url, str) or not url:
        raise UnsafeURL("host", "The webhook URL is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(
            "host",
            f"The URL is too long ({len(url)} characters); "
            f"webhook URLs can be at most {MAX_URL_LENGTH} characters.",
        )
    if any(ch <= " " or ch == "\x7f" for ch in url):
        raise UnsafeURL("host", "The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UnsafeURL("host", "The URL could not be read; check the host part.") from None

    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        if scheme:
            message = f'The URL uses "{scheme}"; webhooks can only use http:// or https://.'
        else:
            message = "The URL has no scheme; start it with https:// (or http://)."
        raise UnsafeURL("scheme", message)
    if "@" in parts.netloc:
        raise UnsafeURL(
            "userinfo",
            "The URL contains a user name or password before the host; "
            "put credentials in a header or the signing secret instead.",
        )
    host = parts.hostname
    if not host:
        raise UnsafeURL("host", "The URL has no host name.")
    try:
        explicit_port = parts.port
    except ValueError:
        raise UnsafeURL(
            "port", "The URL's port is not valid; it must be a number from 1 to 65535."
        ) from None
    if explicit_port is not None and not 1 <= explicit_port <= 65535:
        raise UnsafeURL(
            "port", "The URL's port is not valid; it must be a number from 1 to 65535."
        )

    if ":" in host:  # was bracketed: an IPv6 literal
        if "%" in host:
            raise UnsafeURL("host", "IPv6 addresses with a zone index are not allowed.")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURL("host", f"[{host}] is not a valid IPv6 address.") from None
    else:
        if not host.isascii():
            try:
                host = idna.encode(host, uts46=True).decode("ascii").lower()
            except (idna.IDNAError, UnicodeError, ValueError):
                raise UnsafeURL("host", f"{host} is not a valid host name.") from None
        _check_numeric(host)
        if len(host.rstrip(".")) > 253 or not _HOST_NAME.fullmatch(host):
            raise UnsafeURL("host", f"{host} is not a valid host name.")

    port = explicit_port if explicit_port is not None else _DEFAULT_PORTS[scheme]
    return _Target(scheme, host, port, explicit_port)


def _check_numeric(host: str) -> None:
    """Refuse address spellings other than a canonical dotted quad.

    A host whose last label is numeric (decimal, octal or 0x-hex) is an address to
    most parsers (WHATWG URL, inet_aton) and never a DNS name, so it must be a
    canonical dotted quad: ``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``,
    ``127.0.0.01`` or ``127.0.0.1.`` are all refused.
    """
    last = host.rstrip(".").rsplit(".", 1)[-1]
    if not _NUMERIC_LABEL.fullmatch(last):
        return
    try:
        canonical = str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        canonical = False
    if not canonical:
        raise UnsafeURL(
            "numeric",
            f'"{host}" is an unusual way of writing an address. Write the host name, '
            "or the address in the usual form (for example 203.0.113.10).",
        )
