"""The REST door's check on every call: is this address on the merchant's IP whitelist? (The
rules are edited on the Whitelist page: ``api_keys.services.whitelist``.)

``CompiledWhitelist`` answers in O(log n) whatever the rule count. Each process keeps one
compiled copy per merchant, keyed on ``Merchant.updated_at``, which the call has read with the
merchant anyway (no extra query). Every write to a whitelist rule, however made (the Whitelist
page, the admin, the ORM, SQL), bumps its merchant's ``updated_at`` in the same transaction: a
database trigger does it (migration ``console.0010``), so no code path can forget. A change to
the rules therefore holds from the next call in every process.
"""

import bisect
import ipaddress

from console.models import Merchant


class CompiledWhitelist:
    """Rules as sorted integer ranges: membership by binary search, whatever the rule count."""

    def __init__(self, cidrs):
        self._ranges = {4: [], 6: []}
        for cidr in cidrs:
            network = ipaddress.ip_network(cidr)
            self._ranges[network.version].append(
                (int(network.network_address), int(network.broadcast_address)))
        self._starts = {}
        for version, ranges in self._ranges.items():
            ranges.sort()
            merged = []
            for start, end in ranges:
                if merged and start <= merged[-1][1] + 1:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
                else:
                    merged.append((start, end))
            self._ranges[version] = merged
            self._starts[version] = [start for start, _end in merged]

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        value = int(ip)
        starts = self._starts[ip.version]
        i = bisect.bisect_right(starts, value) - 1
        return i >= 0 and value <= self._ranges[ip.version][i][1]


_compiled: dict[int, tuple[object, CompiledWhitelist]] = {}


def whitelist_allows(merchant: Merchant, address: str | None) -> bool:
    """Is a REST call from ``address`` allowed for this merchant? (True when the list is off.)"""
    if not merchant.whitelist_enabled:
        return True
    if not address:
        return False
    cached = _compiled.get(merchant.pk)
    if cached is None or cached[0] != merchant.updated_at:  # the rules changed (or first call)
        rules = merchant.whitelist_rules.values_list("cidr", flat=True)
        cached = (merchant.updated_at, CompiledWhitelist(rules))
        _compiled[merchant.pk] = cached
    return cached[1].allows(address)
