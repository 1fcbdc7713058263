"""The IP whitelist (the console's "Other settings"): CIDR rules that guard the REST API.

``parse_cidr`` decides whether one rule is written as RFC 4632 asks, with a message that
says what was probably meant. ``whitelist_save`` validates all rules together and
replaces them in one transaction. ``CompiledWhitelist`` answers "is this address
allowed?" in O(log n) for the API's hot path.
"""

import bisect
import ipaddress
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .audit import Actor, audit_record
from .models import Merchant, WhitelistRule

MAX_RULES = 100


class CIDRError(ValueError):
    pass


def parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """One CIDR block, strictly: an address, a slash and a prefix length, no host bits."""
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
        raise CIDRError(_("A bare address is not a CIDR block: write %(cidr)s for this one address.")
                        % {"cidr": f"{ip}/{single}"})
    max_prefix = 32 if ip.version == 4 else 128
    if not prefix.isdigit() or not prefix.isascii() or (len(prefix) > 1 and prefix.startswith("0")) \
            or int(prefix) > max_prefix:
        raise CIDRError(_("The prefix length must be a number from 0 to %(max)d for an IPv%(v)d block.")
                        % {"max": max_prefix, "v": ip.version})
    network = ipaddress.ip_network(f"{ip}/{int(prefix)}", strict=False)
    if network.network_address != ip:
        raise CIDRError(_("Host bits are set in %(value)s: did you mean %(cidr)s?")
                        % {"value": value, "cidr": network.with_prefixlen})
    return network


@dataclass
class WhitelistResult:
    rules: list[tuple[str, str]]
    warnings: list[str] = field(default_factory=list)


def whitelist_validate(rows: list[tuple[str, str]]) -> WhitelistResult:
    """Validate the rules as submitted (CIDR, memo). Errors are keyed by row index."""
    errors: dict[str, list[str]] = {}
    kept: list[tuple[int, ipaddress._BaseNetwork, str]] = []
    seen: dict[ipaddress._BaseNetwork, int] = {}
    for index, (cidr, memo) in enumerate(rows):
        cidr, memo = (cidr or "").strip(), (memo or "").strip()
        if not cidr and not memo:
            continue  # an empty row is not a rule
        if len(memo) > 100:
            errors[f"memo-{index}"] = [_("The memo is too long: at most 100 characters.")]
        try:
            network = parse_cidr(cidr)
        except CIDRError as exc:
            errors[f"cidr-{index}"] = [str(exc)]
            continue
        if network in seen:
            errors[f"cidr-{index}"] = [_("This block is already rule %(n)d.") % {"n": seen[network] + 1}]
            continue
        seen[network] = index
        kept.append((index, network, memo))
    if len(kept) > MAX_RULES:
        errors["__all__"] = [_("A whitelist holds at most %(max)d rules; this one has %(n)d.")
                             % {"max": MAX_RULES, "n": len(kept)}]
    if errors:
        raise ValidationError(errors)
    warnings = []
    for index, network, _memo in kept:
        for other_index, other, _other_memo in kept:
            if other is not network and other.version == network.version and network.subnet_of(other):
                warnings.append(_("Rule %(n)d (%(cidr)s) is already inside rule %(m)d (%(other)s).") % {
                    "n": index + 1, "cidr": network.with_prefixlen, "m": other_index + 1,
                    "other": other.with_prefixlen})
                break
    return WhitelistResult(rules=[(n.with_prefixlen, memo) for _i, n, memo in kept], warnings=warnings)


@transaction.atomic
def whitelist_save(
    *, actor: Actor, merchant: Merchant, enabled: bool, rows: list[tuple[str, str]],
    confirm_empty: bool = False,
) -> WhitelistResult:
    """Replace the merchant's rules and switch, all together or not at all."""
    result = whitelist_validate(rows)
    if enabled and not result.rules and not confirm_empty:
        raise ValidationError({"enabled": [_(
            "With the whitelist on and no rule, every REST API call will be refused. "
            "Add a rule, or confirm that this is what you want.")]})
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    before = list(merchant.whitelist_rules.values_list("cidr", "memo"))
    changed = []
    if before != result.rules:
        merchant.whitelist_rules.all().delete()
        WhitelistRule.objects.bulk_create([
            WhitelistRule(merchant=merchant, cidr=cidr, memo=memo, position=i)
            for i, (cidr, memo) in enumerate(result.rules)
        ])
        changed.append("rules")
    if merchant.whitelist_enabled != enabled:
        merchant.whitelist_enabled = enabled
        changed.append("enabled")
    if changed:
        # updated_at also tells every process that its compiled copy is stale
        merchant.save(update_fields=["whitelist_enabled", "updated_at"])
        audit_record(actor=actor, merchant=merchant, action="whitelist.update", target=merchant,
                     changed_fields=changed)
    return result


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
    if cached is None or cached[0] != merchant.updated_at:
        rules = merchant.whitelist_rules.values_list("cidr", flat=True)
        cached = (merchant.updated_at, CompiledWhitelist(rules))
        _compiled[merchant.pk] = cached
    return cached[1].allows(address)
