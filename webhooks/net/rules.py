"""What a webhook URL may look like, decided before any DNS lookup."""


from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import urlsplit

import idna

from ..errors import Reason

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH = 2000
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Attribute set by post() on the PreparedRequest so the (shared) adapter knows the
# per-call policy.
_ALLOWED_ATTR = "_webhook_allowed_networks"


class UnsafeURL(Exception):
    """A webhook URL that must not be used. ``kind`` is one of "scheme", "userinfo",
    "host", "port", "numeric", "dns", "blocked"; ``reason`` says why as a message code and
    its parameters (stored, and translated when shown); ``message`` is that reason in the
    active language, for an operator."""

    def __init__(self, kind: str, message: str | Reason) -> None:
        self.kind = kind
        self.reason = message if isinstance(message, Reason) else None
        self._text = None if isinstance(message, Reason) else message
        super().__init__(kind, message)

    @property
    def message(self) -> str:
        return str(self.reason) if self.reason is not None else self._text

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
        raise UnsafeURL("host", Reason("url.empty"))
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL("host", Reason("url.too_long", {"length": len(url), "max": MAX_URL_LENGTH}))
    if any(ch <= " " or ch == "\x7f" for ch in url):
        raise UnsafeURL("host", Reason("url.spaces"))
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UnsafeURL("host", Reason("url.unreadable")) from None

    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        reason = Reason("url.scheme", {"scheme": scheme}) if scheme else Reason("url.no_scheme")
        raise UnsafeURL("scheme", reason)
    if "@" in parts.netloc:
        raise UnsafeURL("userinfo", Reason("url.userinfo"))
    host = parts.hostname
    if not host:
        raise UnsafeURL("host", Reason("url.no_host"))
    try:
        explicit_port = parts.port
    except ValueError:
        raise UnsafeURL("port", Reason("url.port")) from None
    if explicit_port is not None and not 1 <= explicit_port <= 65535:
        raise UnsafeURL("port", Reason("url.port"))

    if ":" in host:  # was bracketed: an IPv6 literal
        if "%" in host:
            raise UnsafeURL("host", Reason("url.zone"))
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURL("host", Reason("url.bad_ipv6", {"host": host})) from None
    else:
        if not host.isascii():
            try:
                host = idna.encode(host, uts46=True).decode("ascii").lower()
            except (idna.IDNAError, UnicodeError, ValueError):
                raise UnsafeURL("host", Reason("url.bad_host", {"host": host})) from None
        _check_numeric(host)
        if len(host.rstrip(".")) > 253 or not _HOST_NAME.fullmatch(host):
            raise UnsafeURL("host", Reason("url.bad_host", {"host": host}))

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
        raise UnsafeURL("numeric", Reason("url.numeric", {"host": host}))
