"""Reading CIDR blocks, in one place: the whitelist's rules (strictly, with messages that
say what was meant), and the network lists of settings (``TRUSTED_PROXIES``,
``WEBHOOK_ALLOWED_NETWORKS``), where host bits are forgiven."""

import ipaddress
from functools import lru_cache

from django.utils.translation import gettext as _

from .inputs import ascii_int

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class CIDRError(ValueError):
    pass


def parse_cidr(text: str, *, bare_address: bool = False) -> Network:
    """One CIDR block, strictly: an address, a slash and a prefix length, no host bits. With
    ``bare_address``, an address without a prefix is read as that one address (its /32 or
    /128); the caller tells the operator so."""
    value = (text or "").strip()
    if not value:
        raise CIDRError(_("Enter a CIDR block, e.g. 203.0.113.0/24."))
    address, slash, prefix = value.partition("/")
    if "%" in address:
        raise CIDRError(_("“%(value)s” is not an IP address or CIDR block.") % {"value": value})
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise CIDRError(_("“%(value)s” is not an IP address or CIDR block.") % {"value": value}) from None
    if not slash:
        single = 32 if ip.version == 4 else 128
        if bare_address:
            return ipaddress.ip_network(f"{ip}/{single}")
        raise CIDRError(_("A bare address is not a CIDR block: write %(cidr)s for this one address.")
                        % {"cidr": f"{ip}/{single}"})
    max_prefix = 32 if ip.version == 4 else 128
    length = ascii_int(prefix, max_digits=3)
    if length is None or (len(prefix) > 1 and prefix.startswith("0")) or length > max_prefix:
        raise CIDRError(_("The prefix length must be a number from 0 to %(max)d for an IPv%(v)d block.")
                        % {"max": max_prefix, "v": ip.version})
    network = ipaddress.ip_network(f"{ip}/{length}", strict=False)
    if network.network_address != ip:
        raise CIDRError(_("Host bits are set in %(value)s: did you mean %(cidr)s?")
                        % {"value": value, "cidr": network.with_prefixlen})
    return network


@lru_cache(maxsize=32)
def networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    """A setting's list of networks (blank items skipped; an address alone is its /32 or
    /128). Raises ``ValueError`` for an item that is not a network."""
    parsed = []
    for item in spec:
        if not str(item).strip():
            continue
        try:
            parsed.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not a valid CIDR range") from None
    return tuple(parsed)


def contains(nets: tuple[Network, ...], address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address.version == net.version and address in net for net in nets)
