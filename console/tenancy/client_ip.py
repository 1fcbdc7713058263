"""The client's address, decided in one place.

The connecting address (REMOTE_ADDR) counts. ``X-Forwarded-For`` is trusted
only when the connection itself comes from a proxy listed in the
``TRUSTED_PROXIES`` setting (a CIDR list); then the right-most address that is
not itself a trusted proxy is the client.
"""

import ipaddress

from django.conf import settings

from . import cidr


def _parse(value: str) -> ipaddress._BaseAddress | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request) -> str | None:
    remote = _parse(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    networks = cidr.networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not networks or not cidr.contains(networks, remote):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
        addr = _parse(hop)
        if addr is None:
            break
        if not cidr.contains(networks, addr):
            return str(addr)
    return str(remote)
