"""Which addresses a webhook may reach: every resolved address must be public, or inside
``allowed_networks``; embedded IPv4 forms are unwrapped and named."""


from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Sequence

from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES
from urllib3.util.connection import allowed_gai_family

from console.tenancy import cidr

from ..errors import Reason
from .rules import IPAddress, IPNetwork, UnsafeURL, _split, _Target

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
_EXTRA_RANGE_CODES = {  # message codes in webhooks.errors.MESSAGES
    "192.88.99.0/24": "range.6to4_relay",
    "100.64.0.0/10": "range.cgnat",
    "5f00::/16": "range.srv6",
    "64:ff9b::/96": "range.nat64",
    "2001:20::/28": "range.orchid",
    "192.0.0.0/24": "range.ietf",
    "64:ff9b:1::/48": "range.nat64_local",
    "2002::/16": "range.6to4",
    "3fff::/20": "range.doc6",
}


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """IPv4 address carried inside an IPv6 transition form, with the form's message code."""
    if ip.ipv4_mapped is not None:
        return "why.mapped", ip.ipv4_mapped
    if ip.sixtofour is not None:
        return "why.6to4", ip.sixtofour
    if ip in _NAT64:
        return "why.nat64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    value = int(ip)
    if 1 < value < 2**32:  # ::a.b.c.d, the deprecated IPv4-compatible form
        return "why.compat", ipaddress.IPv4Address(value)
    return None


def _category(ip: IPAddress) -> Reason | None:
    """Why an address is refused (a noun phrase: "a loopback address"); None when it is public."""
    if ip.version == 6:
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            form, v4 = embedded
            inner = _category(v4)
            if inner is not None:
                return Reason(form, {"v4": v4, "inner": inner})
            if ip.ipv4_mapped is not None:
                return None  # ::ffff:a.b.c.d is just a.b.c.d
            # Other forms with a public IPv4 fall through: they are blocked by the
            # range checks below (they go through a translator we do not control).
    if ip.is_unspecified or (ip.version == 4 and ip in _V4_UNSPECIFIED):
        return Reason("why.unspecified")
    if ip.is_loopback:
        return Reason("why.loopback")
    if ip.is_link_local:
        return Reason("why.metadata" if ip == _METADATA else "why.link_local")
    if ip.version == 4 and ip in _CGNAT:
        return Reason("why.cgnat")
    if ip.is_multicast:
        return Reason("why.multicast")
    if any(ip in net for net in _PRIVATE) or (ip.version == 6 and ip.is_site_local):
        return Reason("why.private")
    for net in EXTRA_BLOCKED_NET_RANGES:
        if ip.version == net.version and ip in net:
            name = Reason(_EXTRA_RANGE_CODES.get(str(net), "range.other"))
            return Reason("why.range", {"range": name, "net": net})
    if ip.is_reserved:
        return Reason("why.reserved")
    if not ip.is_global:
        return Reason("why.not_global")
    return None


# ------------------------------------------------------------------ resolving, bounded

# A lookup has a deadline (``dns_timeout``): getaddrinfo cannot be interrupted, so it runs in
# a daemon thread and the caller stops waiting. A resolver that hangs keeps such threads until
# the system's own resolver timeout; past this many at once, new lookups fail at once instead
# of piling up threads.
DEFAULT_DNS_TIMEOUT = 5.0
_MAX_PENDING_LOOKUPS = 32
_lookup_slots = threading.BoundedSemaphore(_MAX_PENDING_LOOKUPS)


class _LookupTimeout(Exception):
    pass


def _getaddrinfo(host: str, port: int, timeout: float | None) -> list:
    def lookup() -> list:
        return socket.getaddrinfo(host, port, family=allowed_gai_family(), type=socket.SOCK_STREAM)

    if timeout is None:
        return lookup()
    ends = time.monotonic() + timeout
    if not _lookup_slots.acquire(timeout=max(timeout, 0.0)):
        raise _LookupTimeout
    outcome: dict = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["infos"] = lookup()
        except BaseException as exc:  # handed to the caller, if it still waits
            outcome["error"] = exc
        finally:
            _lookup_slots.release()
            done.set()

    try:
        threading.Thread(target=run, name=f"webhook-dns-{host}", daemon=True).start()
    except RuntimeError:  # no thread could be started
        _lookup_slots.release()
        raise _LookupTimeout from None
    if not done.wait(max(ends - time.monotonic(), 0.0)):
        raise _LookupTimeout
    if "error" in outcome:
        raise outcome["error"]
    return outcome["infos"]


def _resolve(host: str, port: int, timeout: float | None = DEFAULT_DNS_TIMEOUT) -> list[IPAddress]:
    try:
        infos = _getaddrinfo(host, port, timeout)
    except _LookupTimeout:
        seconds = float(f"{timeout:.2g}")
        raise UnsafeURL("dns", Reason("dns.timeout", {"host": host, "seconds": seconds})) from None
    except socket.gaierror as exc:
        raise UnsafeURL("dns", Reason("dns.failed", {"host": host, "error": exc.strerror or exc})) from exc
    except (UnicodeError, OSError) as exc:
        raise UnsafeURL("dns", Reason("dns.failed", {"host": host, "error": exc})) from exc
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(sockaddr[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeURL("dns", Reason("dns.no_address", {"host": host}))
    return addresses


def _check_target(
    target: _Target, networks: tuple[IPNetwork, ...], dns_timeout: float | None = DEFAULT_DNS_TIMEOUT
) -> list[IPAddress]:
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else _resolve(target.host, target.port, dns_timeout)
    for ip in addresses:  # every address, not just the first
        if _is_allowed(ip, networks):
            continue
        why = _category(ip)
        if why is None:
            continue
        if literal is not None:
            reason = Reason("blocked.literal", {"ip": ip, "why": why})
        elif len(addresses) > 1:
            reason = Reason("blocked.resolved_one_of",
                            {"host": target.host, "ip": ip, "count": len(addresses), "why": why})
        else:
            reason = Reason("blocked.resolved", {"host": target.host, "ip": ip, "why": why})
        raise UnsafeURL("blocked", reason)
    return addresses


def check_url(
    url: str, *, allowed_networks: Sequence[str] = (), dns_timeout: float | None = DEFAULT_DNS_TIMEOUT
) -> list[IPAddress]:
    """Validate a webhook URL at save time, resolving its host within ``dns_timeout`` seconds.

    Returns the resolved addresses (all allowed); raises ``UnsafeURL`` otherwise.
    """
    return _check_target(_split(url), _networks(allowed_networks), dns_timeout)


def check_url_form(url: str, *, allowed_networks: Sequence[str] = ()) -> None:
    """What ``check_url`` decides without a lookup: the URL's form (``rules``: scheme, no user
    info, host syntax, port, length, numeric spellings), and an address written in it against
    the policy. A host name is resolved at send time, where the pinned client checks every
    address it resolves to: a request that names many URLs costs no lookup. Raises ``UnsafeURL``."""
    target = _split(url)
    try:
        ipaddress.ip_address(target.host)
    except ValueError:
        return  # a name: resolved and checked when a webhook is sent to it
    _check_target(target, _networks(allowed_networks))
