"""The pinned, bounded POST of a webhook, and why an attempt failed."""


from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.client import HTTPException, IncompleteRead, RemoteDisconnected
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from ..errors import ErrorKind
from .addresses import _check_target, _networks
from .rules import _ALLOWED_ATTR, _DEFAULT_PORTS, UnsafeURL, _split

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
