"""Which addresses a webhook may reach: every resolved address must be public, or inside
``allowed_networks``; embedded IPv4 forms are unwrapped and named."""


from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence

from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES
from urllib3.util.connection import allowed_gai_family

from console.tenancy import cidr

from .rules import _PUBLIC_ONLY, IPAddress, IPNetwork, UnsafeURL, _split, _Target

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
