"""The pinned, bounded POST of a webhook, and why an attempt failed."""


from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.client import HTTPException, IncompleteRead, LineTooLong, RemoteDisconnected
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from ..errors import ErrorKind, Reason, storable
from .addresses import DEFAULT_DNS_TIMEOUT, _check_target, _networks
from .deadline import POOL_CLASSES, Deadline
from .rules import _ALLOWED_ATTR, _DEFAULT_PORTS, IPAddress, UnsafeURL, _split

DEFAULT_DEADLINE = 30.0  # seconds a whole send may take: DNS, connect, TLS, headers and body
DEFAULT_MAX_HEADERS = 32 * 1024  # bytes of response headers kept
_READ_CHUNK = 16 * 1024

# Set by post() on the PreparedRequest: the host, port and addresses it resolved and checked,
# so the adapter pins the very address that was checked without a second lookup.
_CHECKED_ATTR = "_webhook_checked_addresses"

# -------------------------------------------------------------------- sending


class PinnedAddressAdapter(HTTPAdapter):
    """Checks the URL at send time and connects to the address it checked.

    The connection pool key gets the checked IP as its host, so urllib3 connects
    to that IP and never resolves the name again; the ``Host`` header, TLS SNI and
    the certificate host name check keep using the original name. The policy
    (``allowed_networks``) comes from the request, set by ``post()``; a request sent
    through this adapter by other means gets the strict policy (no exceptions).
    Its connections answer to the send's ``Deadline`` (``webhooks.net.deadline``).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_retries", 0)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        target = _split(request.url)
        if (host_params.get("host") or "").lower() != target.host:
            raise UnsafeURL("host", Reason("url.inconsistent"))
        checked = getattr(request, _CHECKED_ATTR, None)
        if checked is not None and checked[0] == (target.host, target.port):
            addresses = checked[1]
        else:
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
    error_message: str = ""  # in English; error_params renders it in the reader's language
    error_params: dict = field(default_factory=dict)  # Reason.as_json(), or {} for plain text
    headers_truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error_kind

    def fail(self, kind: str, why: Reason | str) -> SendResult:
        self.error_kind = kind
        self.error_message = why.english() if isinstance(why, Reason) else storable(why)
        self.error_params = why.as_json() if isinstance(why, Reason) else {}
        return self


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


def _diagnose(exc: BaseException, connect_timeout: float, read_timeout: float) -> tuple[str, Reason | str]:
    """The kind of a failed send and why, from the exception it raised."""
    if isinstance(exc, UnsafeURL):
        return (ErrorKind.DNS if exc.kind == "dns" else ErrorKind.BLOCKED), (exc.reason or exc.message)
    chain = list(_chain(exc))
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return ErrorKind.REFUSED, Reason("send.refused")
    # NewConnectionError subclasses ConnectTimeoutError in urllib3: not a timeout.
    if isinstance(exc, requests.ConnectTimeout) or any(
        isinstance(e, urllib3.exceptions.ConnectTimeoutError)
        and not isinstance(e, urllib3.exceptions.NewConnectionError)
        for e in chain
    ):
        return ErrorKind.TIMEOUT, Reason("send.connect_timeout", {"seconds": connect_timeout})
    if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
        return ErrorKind.TIMEOUT, Reason("send.read_timeout", {"seconds": read_timeout})
    if isinstance(exc, requests.exceptions.SSLError) or any(
        isinstance(e, urllib3.exceptions.SSLError) for e in chain
    ):
        detail = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
        reason = getattr(detail, "verify_message", None) or getattr(detail, "reason", None)
        if reason:
            return ErrorKind.TLS, Reason("send.tls_reason", {"reason": reason})
        return ErrorKind.TLS, Reason("send.tls")
    if any(isinstance(e, socket.gaierror) for e in chain):
        return ErrorKind.DNS, Reason("dns.receiver")
    # http.client allows 100 header lines of 64 KiB at most; more is refused while reading.
    too_long = next((e for e in chain if isinstance(e, LineTooLong) or (
        type(e) is HTTPException and "headers" in str(e))), None)
    if too_long is not None:
        return ErrorKind.HEADERS, Reason("send.headers_unreadable", {"error": too_long})
    if any(
        isinstance(e, (ConnectionResetError, RemoteDisconnected, IncompleteRead, BrokenPipeError))
        for e in chain
    ):
        return ErrorKind.CONNECTION, Reason("send.closed")
    wrappers = ("requests", "urllib3")
    root = next((e for e in reversed(chain) if not type(e).__module__.startswith(wrappers)), exc)
    return ErrorKind.CONNECTION, Reason("send.failed", {"error": f"{type(root).__name__}: {root}"})


def _classify(exc: BaseException, connect_timeout: float, read_timeout: float) -> tuple[str, str]:
    """The kind of a failed send and why, in English."""
    kind, why = _diagnose(exc, connect_timeout, read_timeout)
    return kind, why.english() if isinstance(why, Reason) else why


def _capped_headers(response: requests.Response, max_headers: int) -> tuple[dict[str, str], bool]:
    """The response headers, at most ``max_headers`` bytes of them (``name: value`` lines), as
    text a database stores; whether some were cut."""
    kept: dict[str, str] = {}
    used = 0
    for name, value in response.headers.items():
        name, value = str(name), str(value)
        size = len(name) + len(value) + 4
        if used + size > max_headers:
            return kept, True
        kept[storable(name)] = storable(value)
        used += size
    return kept, False


def _read_body(response: requests.Response, max_body: int, clock: Deadline) -> bytes:
    """At most ``max_body`` + 1 bytes of the body, read as they come, checking the deadline."""
    chunks: list[bytes] = []
    size = 0
    while size <= max_body:
        if clock.passed():
            raise TimeoutError("send deadline")
        chunk = response.raw.read1(min(_READ_CHUNK, max_body + 1 - size), decode_content=True)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    allowed_networks: Sequence[str] = (),
    connect_timeout: float = 5.0,
    read_timeout: float = 15.0,
    max_body: int = 65536,
    max_headers: int = DEFAULT_MAX_HEADERS,
    deadline: float = DEFAULT_DEADLINE,
    dns_timeout: float = DEFAULT_DNS_TIMEOUT,
    session: requests.Session | None = None,
) -> SendResult:
    """POST ``body`` to ``url`` after checking it again, connected to the checked address.

    Never follows redirects, keeps at most ``max_body`` bytes of the answer and
    ``max_headers`` bytes of its headers, ends within ``deadline`` seconds whatever the
    receiver does (DNS within ``dns_timeout`` of them), and never raises for network
    problems: they become ``error_kind``/``error_message``/``error_params``.
    """
    networks = _networks(allowed_networks)  # a bad CIDR is a configuration error: raise
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = _split(url)  # syntax first: requests would otherwise turn user:pw@ into auth
    except UnsafeURL as exc:
        return SendResult(duration_ms=elapsed()).fail(*_diagnose(exc, connect_timeout, read_timeout))

    session = session if session is not None else _thread_session()
    if not isinstance(session.get_adapter(url), PinnedAddressAdapter):
        raise TypeError("post() needs a session from make_session() (pinning adapter).")
    try:
        prepared = session.prepare_request(
            requests.Request("POST", url, data=body, headers=dict(headers))
        )
    except requests.exceptions.InvalidURL as exc:
        return SendResult(duration_ms=elapsed()).fail(
            ErrorKind.BLOCKED, Reason("url.unusable", {"error": exc}))
    setattr(prepared, _ALLOWED_ATTR, tuple(str(n) for n in networks))

    response = None
    with Deadline(deadline) as clock:
        try:
            addresses: list[IPAddress] = _check_target(
                target, networks, min(dns_timeout, clock.remaining()))
            setattr(prepared, _CHECKED_ATTR, ((target.host, target.port), addresses))
            response = session.send(
                prepared,
                allow_redirects=False,
                stream=True,
                timeout=(min(connect_timeout, clock.remaining()), min(read_timeout, clock.remaining())),
            )
            data = _read_body(response, max_body, clock)
        except (
            UnsafeURL,
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            HTTPException,
            OSError,
        ) as exc:
            result = SendResult(duration_ms=elapsed())
            if response is not None:
                result.status = response.status_code
                result.headers, result.headers_truncated = _capped_headers(response, max_headers)
                response.close()
            if clock.passed() and not isinstance(exc, UnsafeURL):
                return result.fail(ErrorKind.TIMEOUT, Reason("send.deadline", {"seconds": deadline}))
            return result.fail(*_diagnose(exc, connect_timeout, read_timeout))
        except BaseException:  # e.g. the worker's soft time limit: do not keep the connection
            if response is not None:
                response.close()
            raise
        timed_out = clock.expired  # cut while reading a body that ends at the connection's close
        response.close()  # drops the connection if the body was not read to the end
    result = SendResult(status=response.status_code, duration_ms=elapsed(),
                        body=storable(data[:max_body].decode("utf-8", errors="replace")),
                        truncated=len(data) > max_body)
    result.headers, result.headers_truncated = _capped_headers(response, max_headers)
    status = result.status
    if timed_out:
        return result.fail(ErrorKind.TIMEOUT, Reason("send.deadline", {"seconds": deadline}))
    if 300 <= status < 400:
        location = response.headers.get("Location")
        if location:
            return result.fail(ErrorKind.REDIRECT, Reason("send.redirect", {"status": status, "location": location}))
        return result.fail(ErrorKind.REDIRECT, Reason("send.redirect_nowhere", {"status": status}))
    if not 200 <= status < 300:
        return result.fail(ErrorKind.HTTP_STATUS, Reason("send.status", {"status": status}))
    if result.headers_truncated:
        # A 2xx whose headers exceed what any web server sends is not a webhook answer.
        return result.fail(ErrorKind.HEADERS, Reason("send.headers_too_large", {"kib": max_headers // 1024}))
    return result
