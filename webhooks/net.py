"""Outbound network safety for webhooks: URL checks and a pinned, bounded POST.

A webhook URL is typed in by a merchant, and the console then sends requests to it
from inside our network. Without care, that is a server-side request forgery
(SSRF) hole: ``http://169.254.169.254/`` (cloud metadata), ``http://localhost:6379``,
``http://10.0.0.5/admin``, or a public host name whose DNS answer points at any of
those. This module decides which destinations are acceptable and sends the request
in a way that cannot be redirected elsewhere after the check.

Why not just use ``requests-hardened``?
    ``requests_hardened`` (already a dependency) gets the important technique right:
    an ``HTTPAdapter`` that resolves the host itself at send time, refuses private
    addresses and *pins* the connection to the address it checked (the ``Host``
    header, TLS SNI and certificate host name keep the original name), so a second
    DNS answer (DNS rebinding) cannot slip in between check and connect. But its
    policy does not fit us:

    * it only checks the *first* address ``getaddrinfo`` returns, while a name with
      one public and one private address must be refused outright (we check every
      address and connect to the first one, which was checked);
    * it can only open loopback (``allow_loopback``), while deployments need to
      open arbitrary CIDR ranges (``allowed_networks``, e.g. ``127.0.0.0/8`` and
      ``::1/128`` in local development, or a private range in a test lab);
    * its errors are exceptions, while the console needs categorised, plain-English
      reasons to show to an operator (``UnsafeURL.kind``/``message``,
      ``SendResult.error_kind``/``error_message``).

    So we reuse its technique (``build_connection_pool_key_attributes`` override,
    see ``requests_hardened/ip_filter_adapter.py``) and its list of extra blocked
    ranges (``EXTRA_BLOCKED_NET_RANGES``: 6to4 relay, NAT64, 6to4, ORCHIDv2, ...),
    with our own policy on top.

Policy (both at save time, ``check_url``, and again at send time inside the adapter):

* only ``http``/``https``; no user info; a host is required; a valid port; at most
  2000 characters;
* unusual numeric spellings of addresses (``2130706433``, ``0x7f000001``,
  ``127.1``, ``0177.0.0.1``, ``127.0.0.01`` ...) are refused before any DNS, because
  resolvers and parsers disagree about what they mean;
* every resolved address must be public (``is_global``) and outside the extra
  ranges; IPv4-mapped, IPv4-compatible, 6to4 and NAT64 IPv6 forms are unwrapped so
  that an embedded private IPv4 is named in the message;
* an address inside one of ``allowed_networks`` is allowed regardless.

``post()`` never follows redirects, reads at most ``max_body`` bytes of the answer,
never raises for network problems, and disables proxies from the environment,
``.netrc`` credentials and cookies (one session is shared by many merchants).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.client import HTTPException, IncompleteRead, RemoteDisconnected
from http.cookiejar import DefaultCookiePolicy
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import idna
import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES
from urllib3.util.connection import allowed_gai_family

from console.tenancy import cidr

from .errors import ErrorKind

__all__ = [
    "MAX_URL_LENGTH",
    "PinnedAddressAdapter",
    "SendResult",
    "UnsafeURL",
    "check_url",
    "make_session",
    "post",
]

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


# ------------------------------------------------------------------ address policy


def _networks(allowed_networks: Sequence[str]) -> tuple[IPNetwork, ...]:
    if isinstance(allowed_networks, str):  # a lone "127.0.0.0/8" is a common slip
        allowed_networks = (allowed_networks,)
    try:
        return cidr.networks(tuple(allowed_networks))
    except ValueError as exc:
        raise ValueError(f"allowed_networks: {exc}") from None


def _is_allowed(ip: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    candidates = [ip]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    return any(c in net for c in candidates for net in networks)


_V4_UNSPECIFIED = ipaddress.IPv4Network("0.0.0.0/8")
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_METADATA = ipaddress.IPv4Address("169.254.169.254")
_EXTRA_RANGE_NAMES = {
    "192.88.99.0/24": "the 6to4 relay anycast range",
    "100.64.0.0/10": "the carrier-grade NAT (CG-NAT) range",
    "5f00::/16": "the IPv6 segment routing range",
    "64:ff9b::/96": "the NAT64 translation range",
    "2001:20::/28": "the ORCHIDv2 range",
    "192.0.0.0/24": "the IETF protocol assignments range",
    "64:ff9b:1::/48": "the local-use NAT64 translation range",
    "2002::/16": "the 6to4 range",
    "3fff::/20": "the IPv6 documentation range",
}


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """IPv4 address carried inside an IPv6 transition form, with the form's name."""
    if ip.ipv4_mapped is not None:
        return "an IPv4-mapped IPv6 address for", ip.ipv4_mapped
    if ip.sixtofour is not None:
        return "a 6to4 IPv6 address embedding", ip.sixtofour
    if ip in _NAT64:
        return "a NAT64 IPv6 address embedding", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    value = int(ip)
    if 1 < value < 2**32:  # ::a.b.c.d, the deprecated IPv4-compatible form
        return "an IPv4-compatible IPv6 address embedding", ipaddress.IPv4Address(value)
    return None


def _category(ip: IPAddress) -> str | None:
    """Why an address is refused, as a noun phrase; None when it is public."""
    if ip.version == 6:
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            form, v4 = embedded
            inner = _category(v4)
            if inner is not None:
                return f"{form} {v4}, {inner}"
            if ip.ipv4_mapped is not None:
                return None  # ::ffff:a.b.c.d is just a.b.c.d
            # Other forms with a public IPv4 fall through: they are blocked by the
            # range checks below (they go through a translator we do not control).
    if ip.is_unspecified or (ip.version == 4 and ip in _V4_UNSPECIFIED):
        return "an unspecified address (0.0.0.0/8 or ::, which can mean this machine)"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        if ip == _METADATA:
            return (
                "a link-local address (169.254.0.0/16, including the cloud metadata "
                "address 169.254.169.254)"
            )
        return "a link-local address"
    if ip.version == 4 and ip in _CGNAT:
        return "a carrier-grade NAT (CG-NAT) address"
    if ip.is_multicast:
        return "a multicast address"
    if any(ip in net for net in _PRIVATE) or (ip.version == 6 and ip.is_site_local):
        return "a private network address"
    for net in EXTRA_BLOCKED_NET_RANGES:
        if ip.version == net.version and ip in net:
            name = _EXTRA_RANGE_NAMES.get(str(net), "a blocked special-purpose range")
            return f"an address in {name} ({net})"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a special-purpose address that is not publicly routable"
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, family=allowed_gai_family(), type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeURL(
            "dns", f"{host} could not be resolved ({exc.strerror or exc})."
        ) from exc
    except (UnicodeError, OSError) as exc:
        raise UnsafeURL("dns", f"{host} could not be resolved ({exc}).") from exc
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(sockaddr[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeURL("dns", f"{host} could not be resolved (no IPv4 or IPv6 address).")
    return addresses


def _check_target(target: _Target, networks: tuple[IPNetwork, ...]) -> list[IPAddress]:
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else _resolve(target.host, target.port)
    for ip in addresses:  # every address, not just the first
        if _is_allowed(ip, networks):
            continue
        why = _category(ip)
        if why is None:
            continue
        if literal is not None:
            subject = f"{ip} is"
        elif len(addresses) > 1:
            subject = f"{target.host} resolves to {ip} (one of its {len(addresses)} addresses),"
        else:
            subject = f"{target.host} resolves to {ip},"
        raise UnsafeURL("blocked", f"{subject} {why}. {_PUBLIC_ONLY}")
    return addresses


def check_url(url: str, *, allowed_networks: Sequence[str] = ()) -> list[IPAddress]:
    """Validate a webhook URL at save time.

    Returns the resolved addresses (all allowed); raises ``UnsafeURL`` otherwise.
    """
    return _check_target(_split(url), _networks(allowed_networks))


# -------------------------------------------------------------------- sending


class PinnedAddressAdapter(HTTPAdapter):
    """Checks the URL at send time and connects to the address it checked.

    The connection pool key gets the checked IP as its host, so urllib3 connects
    to that IP and never resolves the name again; the ``Host`` header, TLS SNI and
    the certificate host name check keep using the original name. The policy
    (``allowed_networks``) comes from the request, set by ``post()``; a request sent
    through this adapter by other means gets the strict policy (no exceptions).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_retries", 0)
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        target = _split(request.url)
        if (host_params.get("host") or "").lower() != target.host:
            raise UnsafeURL("host", "The URL's host could not be read consistently.")
        networks = _networks(getattr(request, _ALLOWED_ATTR, ()))
        addresses = _check_target(target, networks)
        pinned = addresses[0]

        # Copy the headers before changing them: the mapping may be shared.
        request.headers = CaseInsensitiveDict(request.headers or {})
        host_header = f"[{target.host}]" if ":" in target.host else target.host
        if target.explicit_port not in (None, _DEFAULT_PORTS[target.scheme]):
            host_header += f":{target.explicit_port}"
        request.headers["Host"] = host_header

        if target.scheme == "https":
            # Verify the certificate against, and send SNI for, the original name.
            pool_kwargs["assert_hostname"] = target.host
            pool_kwargs["server_hostname"] = target.host

        host_params["host"] = f"[{pinned}]" if pinned.version == 6 else str(pinned)
        host_params["port"] = target.port
        request.pinned_address = pinned  # informational
        return host_params, pool_kwargs

    def get_connection(self, url, proxies=None):  # pragma: no cover - deprecated path
        raise NotImplementedError("Use get_connection_with_tls_context (requests >= 2.32.2).")


def make_session() -> requests.Session:
    """A session with the pinning adapter for http:// and https://.

    Reuse it per worker thread (keep-alive). Environment proxies, ``.netrc`` and
    cookies are disabled: deliveries for different merchants share the session.
    """
    session = requests.Session()
    session.trust_env = False
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = PinnedAddressAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_local = threading.local()


def _thread_session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = make_session()
    return session


@dataclass
class SendResult:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    truncated: bool = False
    duration_ms: int = 0
    error_kind: str = ""
    error_message: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error_kind


def _seconds(value: float) -> str:
    return f"{value:g} second" + ("" if value == 1 else "s")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (causes, contexts, urllib3 reasons)."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(current.args)
        stack.extend((getattr(current, "reason", None), current.__context__, current.__cause__))


def _classify(exc: BaseException, connect_timeout: float, read_timeout: float) -> tuple[str, str]:
    if isinstance(exc, UnsafeURL):
        return (ErrorKind.DNS if exc.kind == "dns" else ErrorKind.BLOCKED), exc.message
    chain = list(_chain(exc))
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return ErrorKind.REFUSED, "The receiver refused the connection (nothing listens on that port?)."
    # NewConnectionError subclasses ConnectTimeoutError in urllib3: not a timeout.
    if isinstance(exc, requests.ConnectTimeout) or any(
        isinstance(e, urllib3.exceptions.ConnectTimeoutError)
        and not isinstance(e, urllib3.exceptions.NewConnectionError)
        for e in chain
    ):
        return ErrorKind.TIMEOUT, (
            f"The receiver did not accept the connection within {_seconds(connect_timeout)}."
        )
    if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
        return ErrorKind.TIMEOUT, f"The receiver did not answer within {_seconds(read_timeout)}."
    if isinstance(exc, requests.exceptions.SSLError) or any(
        isinstance(e, urllib3.exceptions.SSLError) for e in chain
    ):
        import ssl

        detail = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
        reason = getattr(detail, "verify_message", None) or getattr(detail, "reason", None)
        suffix = f": {reason}" if reason else ""
        return ErrorKind.TLS, f"The secure (TLS) connection to the receiver failed{suffix}."
    if any(isinstance(e, socket.gaierror) for e in chain):
        return ErrorKind.DNS, "The receiver's host name could not be resolved."
    if any(
        isinstance(e, (ConnectionResetError, RemoteDisconnected, IncompleteRead, BrokenPipeError))
        for e in chain
    ):
        return ErrorKind.CONNECTION, "The receiver closed the connection before the answer was complete."
    wrappers = ("requests", "urllib3")
    root = next((e for e in reversed(chain) if not type(e).__module__.startswith(wrappers)), exc)
    return ErrorKind.CONNECTION, f"The connection to the receiver failed ({type(root).__name__}: {root})."


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    allowed_networks: Sequence[str] = (),
    connect_timeout: float = 5.0,
    read_timeout: float = 15.0,
    max_body: int = 65536,
    session: requests.Session | None = None,
) -> SendResult:
    """POST ``body`` to ``url`` after checking it again, connected to the checked address.

    Never follows redirects, reads at most ``max_body`` bytes of the answer and never
    raises for network problems: they become ``error_kind``/``error_message``.
    """
    networks = _networks(allowed_networks)  # a bad CIDR is a configuration error: raise
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        _split(url)  # syntax first: requests would otherwise turn user:pw@ into auth
    except UnsafeURL as exc:
        kind, message = _classify(exc, connect_timeout, read_timeout)
        return SendResult(duration_ms=elapsed(), error_kind=kind, error_message=message)

    session = session if session is not None else _thread_session()
    if not isinstance(session.get_adapter(url), PinnedAddressAdapter):
        raise TypeError("post() needs a session from make_session() (pinning adapter).")
    try:
        prepared = session.prepare_request(
            requests.Request("POST", url, data=body, headers=dict(headers))
        )
    except requests.exceptions.InvalidURL as exc:
        return SendResult(
            duration_ms=elapsed(),
            error_kind=ErrorKind.BLOCKED,
            error_message=f"The URL could not be used ({exc}).",
        )
    setattr(prepared, _ALLOWED_ATTR, tuple(str(n) for n in networks))

    response = None
    try:
        response = session.send(
            prepared,
            allow_redirects=False,
            stream=True,
            timeout=(connect_timeout, read_timeout),
        )
        data = response.raw.read(max_body + 1, decode_content=True)
    except (
        UnsafeURL,
        requests.RequestException,
        urllib3.exceptions.HTTPError,
        HTTPException,
        OSError,
    ) as exc:
        kind, message = _classify(exc, connect_timeout, read_timeout)
        status = response.status_code if response is not None else None
        resp_headers = dict(response.headers) if response is not None else {}
        if response is not None:
            response.close()
        return SendResult(
            status=status,
            headers=resp_headers,
            duration_ms=elapsed(),
            error_kind=kind,
            error_message=message,
        )
    duration_ms = elapsed()
    response.close()  # drops the connection if the body was not read to the end

    status = response.status_code
    result = SendResult(
        status=status,
        headers={str(k): str(v) for k, v in response.headers.items()},
        body=data[:max_body].decode("utf-8", errors="replace"),
        truncated=len(data) > max_body,
        duration_ms=duration_ms,
    )
    if 300 <= status < 400:
        location = response.headers.get("Location")
        target = f" to {location}" if location else " without a Location"
        result.error_kind = ErrorKind.REDIRECT
        result.error_message = (
            f"Redirects are not followed: the receiver answered {status}{target}."
        )
    elif not 200 <= status < 300:
        result.error_kind = ErrorKind.HTTP_STATUS
        result.error_message = f"The receiver answered {status}."
    return result
