"""The IP whitelist (the console's "Other settings"): CIDR rules that guard the REST API.

``whitelist_save`` validates all rules together (each with ``console.tenancy.cidr.parse_cidr``,
which says what was probably meant) and replaces them in one transaction. The check on the
API's hot path is ``console.rest.whitelist.whitelist_allows``: a change to the rules, made here
or anywhere else, holds from the next call in every process.
"""

import ipaddress
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from api_keys.audit import AuditAction
from console.models import Merchant, WhitelistRule
from console.tenancy.audit import Actor, audit_record
from console.tenancy.cidr import CIDRError, parse_cidr
from console.tenancy.selectors import lock_merchant
from console.tenancy.stale import check_version, version_of

MAX_RULES = 100
MEMO_MAX_LENGTH = WhitelistRule._meta.get_field("memo").max_length  # one limit: the model's
CIDR_MAX_LENGTH = WhitelistRule._meta.get_field("cidr").max_length
# Networks no call from the internet comes from (RFC 1918, shared address space, IPv6 ULA).
# The blocks that hold every address: a rule of these lets everyone in.
EVERYONE = ("0.0.0.0/0", "::/0")
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))


@dataclass
class WhitelistResult:
    rules: list[tuple[str, str]]
    warnings: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)  # saved as asked, but probably not meant


def whitelist_validate(rows: list[tuple[str, str]]) -> WhitelistResult:
    """Validate the rules as submitted (CIDR, memo). Errors are keyed by row index."""
    errors: dict[str, list[str]] = {}
    kept: list[tuple[int, ipaddress._BaseNetwork, str]] = []
    seen: dict[ipaddress._BaseNetwork, int] = {}
    bare: list[tuple[int, str, ipaddress._BaseNetwork]] = []  # an address written without a prefix
    for index, (cidr, memo) in enumerate(rows):
        cidr, memo = (cidr or "").strip(), (memo or "").strip()
        if not cidr and not memo:
            continue  # an empty row is not a rule
        if len(memo) > MEMO_MAX_LENGTH:
            errors[f"memo-{index}"] = [_("The memo is too long: at most %(max)d characters.")
                                       % {"max": MEMO_MAX_LENGTH}]
        try:
            network = parse_cidr(cidr, bare_address=True)
        except CIDRError as exc:
            errors[f"cidr-{index}"] = [str(exc)]
            continue
        if network in seen:
            errors[f"cidr-{index}"] = [_("This block is already rule %(n)d.") % {"n": seen[network] + 1}]
            continue
        seen[network] = index
        kept.append((index, network, memo))
        if "/" not in cidr:
            bare.append((index, cidr, network))
    if len(kept) > MAX_RULES:
        errors["__all__"] = [_("A whitelist holds at most %(max)d rules; this one has %(n)d.")
                             % {"max": MAX_RULES, "n": len(kept)}]
    if errors:
        raise ValidationError(errors)
    warnings, hints = [], []
    for index, network, _memo in kept:
        if network.prefixlen == 0:
            warnings.append(_(
                "Rule %(n)d (%(cidr)s) allows every IPv%(v)d address: for those calls the whitelist "
                "restricts nothing."
            ) % {"n": index + 1, "cidr": network.with_prefixlen, "v": network.version})
    for index, typed, network in bare:
        hints.append(_("Rule %(n)d: %(value)s is one address, saved as %(cidr)s.")
                     % {"n": index + 1, "value": typed, "cidr": network.with_prefixlen})
    for index, network, _memo in kept:
        if any(network.version == r.version and network.subnet_of(r) for r in PRIVATE_RANGES):
            hints.append(_(
                "Rule %(n)d (%(cidr)s) is a private range. Calls from outside your network never "
                "come from such addresses: the API sees the public address of your server's "
                "gateway or proxy, so whitelist that one."
            ) % {"n": index + 1, "cidr": network.with_prefixlen})
        for other_index, other, _other_memo in kept:
            if other is not network and other.version == network.version and network.subnet_of(other):
                warnings.append(_("Rule %(n)d (%(cidr)s) is already inside rule %(m)d (%(other)s).") % {
                    "n": index + 1, "cidr": network.with_prefixlen, "m": other_index + 1,
                    "other": other.with_prefixlen})
                break
    return WhitelistResult(rules=[(n.with_prefixlen, memo) for _i, n, memo in kept], warnings=warnings,
                           hints=hints)


def _rule_texts(rules: list[tuple[str, str]]) -> list[str]:
    """The rules as the audit row keeps them: the CIDR, with its memo when it has one."""
    return [f"{cidr} ({memo})" if memo else cidr for cidr, memo in rules]


def _page_values(enabled: bool, rules) -> dict:
    """The whitelist as its page shows it (the switch and the rules, in order), for the
    stale-edit check: the page saves the whole list, so its version is the whole list's."""
    return {"enabled": enabled, "rules": [[cidr, memo] for cidr, memo in rules]}


def whitelist_version(merchant: Merchant) -> str:
    """The version of the whitelist the page's form starts from (its hidden ``edit_version``)."""
    return version_of(_page_values(merchant.whitelist_enabled,
                                   merchant.whitelist_rules.values_list("cidr", "memo")))


@transaction.atomic
def whitelist_save(
    *, actor: Actor, merchant: Merchant, enabled: bool, rows: list[tuple[str, str]],
    confirm_empty: bool = False, confirm_everyone: bool = False, expected_version: str | None = None,
) -> WhitelistResult:
    """Replace the merchant's rules and switch, all together or not at all. With
    ``expected_version`` (the page's), a whitelist changed since that version is refused with
    ``StaleEdit`` (``refresh`` holds ``enabled`` and ``rules`` as stored now) and nothing is
    written. Adding a rule that allows every address (``0.0.0.0/0``, ``::/0``) needs
    ``confirm_everyone``; a bare address is saved as its /32 (/128), with a hint."""
    result = whitelist_validate(rows)
    if enabled and not result.rules and not confirm_empty:
        raise ValidationError({"enabled": [_(
            "With the whitelist on and no rule, every REST API call will be refused. "
            "Add a rule, or confirm that this is what you want.")]})
    merchant = lock_merchant(merchant)
    before = list(merchant.whitelist_rules.values_list("cidr", "memo"))
    typed = [((cidr or "").strip(), (memo or "").strip()) for cidr, memo in rows]
    check_version(expected=expected_version, current=_page_values(merchant.whitelist_enabled, before),
                  submitted=_page_values(enabled, [row for row in typed if row[0] or row[1]]))
    stored = {cidr for cidr, _memo in before}
    everyone = [cidr for cidr, _memo in result.rules if cidr in EVERYONE and cidr not in stored]
    if everyone and not confirm_everyone:
        # A rule that lets every address in, added now: asked once; kept, it warns on each save.
        raise ValidationError({"everyone": [_(
            "%(cidr)s allows every address: with it, the whitelist lets REST API calls in from "
            "anywhere. Write your servers' addresses instead, or confirm that this is what you want."
        ) % {"cidr": " / ".join(everyone)}]})
    changes = {}
    if before != result.rules:
        merchant.whitelist_rules.all().delete()
        WhitelistRule.objects.bulk_create([
            WhitelistRule(merchant=merchant, cidr=cidr, memo=memo, position=i)
            for i, (cidr, memo) in enumerate(result.rules)
        ])
        changes["rules"] = (_rule_texts(before), _rule_texts(result.rules))
    if merchant.whitelist_enabled != enabled:
        changes["enabled"] = (merchant.whitelist_enabled, enabled)
        merchant.whitelist_enabled = enabled
    if changes:
        # updated_at tells every process that its compiled copy is stale (a database trigger
        # also bumps it on every rule write, however made: console migration 0010)
        merchant.save(update_fields=["whitelist_enabled", "updated_at"])
        audit_record(actor=actor, merchant=merchant, action=AuditAction.WHITELIST_UPDATE,
                     target=merchant, changes=changes)
    return result
