"""Reads of PG channels, scoped to what the operator's merchant may see.

A merchant sees the channels it owns and, for a sub-merchant, the channels its
agency assigned to it. Only the owner's operators change a channel.
Lists never decrypt credentials (the column is deferred).
"""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404

from console.tenancy.selectors import MerchantAccess

from . import catalog
from .models import Channel, Mode

LIVE_PER_PAGE = 12
# What a test card shows; nothing else is loaded for the (up to ~20) test channels.
TEST_CARD_FIELDS = ("id", "merchant_id", "mode", "provider", "pg_provider", "module", "mid", "name",
                    "channel_key", "enabled", "is_default", "shared_credential_id")


def _visible(access: MerchantAccess) -> QuerySet[Channel]:
    merchant = access.merchant
    return (
        Channel.objects.usable_by(merchant)
        .select_related("merchant", "assigned_to")
        .defer("credentials_encrypted")
    )


def channel_get(*, access: MerchantAccess, channel_key: str) -> Channel:
    """One channel this merchant owns (only owners change a channel), or 404."""
    channel = _visible(access).filter(merchant=access.merchant, channel_key=channel_key).first()
    if channel is None:
        raise Http404
    return channel


def channel_get_for_edit(*, access: MerchantAccess, channel_key: str) -> Channel:
    """The channel with its credentials column, for the one edit form that decrypts it."""
    channel = (
        Channel.objects.filter(merchant=access.merchant, channel_key=channel_key)
        .select_related("merchant", "assigned_to", "shared_credential")
        .first()
    )
    if channel is None:
        raise Http404
    return channel


@dataclass
class TestCard:
    provider: catalog.Provider
    channels: list[Channel]
    has_shared: bool  # staff entered shared credentials for this provider

    @property
    def needs_own_mid(self) -> bool:
        return not self.provider.shared_test


@dataclass
class ChannelsPage:
    test_cards: list[TestCard]
    live_page: Page
    live_total: int
    sub_merchants: list
    providers: list[catalog.Provider]
    has_default: bool


def channels_page(
    *, access: MerchantAccess, page: str | None, provider: str | None = None, q: str | None = None
) -> ChannelsPage:
    """Everything the Channels page shows, in a fixed number of queries."""
    visible = _visible(access)

    tests = list(
        visible.filter(mode=Mode.TEST).select_related(None)
        .only(*TEST_CARD_FIELDS).order_by("provider", "module", "mid")
    )
    by_provider: dict[str, list[Channel]] = {}
    for channel in tests:
        by_provider.setdefault(channel.provider, []).append(channel)
    # Every merchant holds a test channel per shared test credential (they are provisioned
    # when either is created, and cannot be deleted), so its own rows tell which PGs have one.
    shared_providers = {c.provider for c in tests if c.shared_credential_id}
    test_cards = [
        TestCard(provider=p, channels=by_provider.get(p.key, []), has_shared=p.key in shared_providers)
        for p in catalog.PROVIDERS
    ]

    live = visible.filter(mode=Mode.LIVE)
    if provider and catalog.get(provider):
        live = live.filter(provider=provider)
    if q:
        q = q.strip()[:80]
        live = live.filter(Q(name__icontains=q) | Q(mid__icontains=q) | Q(channel_key__icontains=q))
    live = live.order_by("-is_default", "-created_at", "-id")
    paginator = Paginator(live, LIVE_PER_PAGE)
    live_page = paginator.get_page(page)

    sub_merchants = (
        [] if access.merchant.is_sub_merchant
        else list(access.merchant.sub_merchants.order_by("tier_code").only("id", "name", "tier_code", "code", "parent_id"))
    )
    return ChannelsPage(
        test_cards=test_cards,
        live_page=live_page,
        live_total=paginator.count,
        sub_merchants=sub_merchants,
        providers=list(catalog.PROVIDERS),
        has_default=Channel.objects.filter(merchant=access.merchant, is_default=True).exists(),
    )


def channels_assignable(*, access: MerchantAccess, sub_merchant=None) -> list[Channel]:
    """What the sub-merchant form offers: the agency's own live channels that no sub-merchant
    has, and every channel already assigned to ``sub_merchant`` (when editing it). Whether a
    choice may be taken is ``services.channels_assign_set``'s to say, not this list's."""
    if access.merchant.is_sub_merchant:
        return []
    free = Q(mode=Mode.LIVE, assigned_to__isnull=True)
    if sub_merchant is not None:
        free |= Q(assigned_to=sub_merchant)
    return list(Channel.objects.filter(free, merchant=access.merchant).defer("credentials_encrypted")
                .order_by("mode", "provider", "name", "id"))


def channels_assigned_to(*, sub_merchant_ids: list[int]) -> dict[int, list[Channel]]:
    """The channels assigned to each of these sub-merchants, in one query (the Sub-merchants
    list), without credentials."""
    assigned: dict[int, list[Channel]] = {pk: [] for pk in sub_merchant_ids}
    for channel in (Channel.objects.filter(assigned_to_id__in=sub_merchant_ids)
                    .defer("credentials_encrypted").order_by("mode", "provider", "name", "id")):
        assigned[channel.assigned_to_id].append(channel)
    return assigned


def channels_of_sub_merchant(*, sub_merchant) -> tuple[list[Channel], list[Channel]]:
    """(the channels its agency assigned to it, the channels it owns), without credentials:
    what deleting a sub-merchant gives back to the agency and what goes with it."""
    rows = list(Channel.objects.filter(Q(assigned_to=sub_merchant) | Q(merchant=sub_merchant))
                .defer("credentials_encrypted").order_by("mode", "provider", "name", "id"))
    return ([c for c in rows if c.merchant_id != sub_merchant.pk],
            [c for c in rows if c.merchant_id == sub_merchant.pk])


def channels_for_api(*, merchant_id: int) -> list[dict]:
    """The merchant's enabled channels as ``GET /users/pg`` lists them (its own and those
    assigned to it), test ones with ``sandbox: true``; a disabled channel is never offered to
    a merchant's server. The REST hot path, as one plain SQL statement (the ORM would compile
    the same query on every call): only public columns, never a credential."""
    table, qn = Channel._meta.db_table, connection.ops.quote_name
    sql = (f"SELECT {qn('pg_provider')}, {qn('mid')}, {qn('mode')}, {qn('module')}, {qn('name')}, "
           f"{qn('channel_key')} FROM {qn(table)} WHERE ({qn('merchant_id')} = %s OR "
           f"{qn('assigned_to_id')} = %s) AND {qn('enabled')} ORDER BY {qn('mode')}, {qn('provider')}, {qn('id')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [merchant_id, merchant_id])
        rows = cursor.fetchall()
    return [
        {"pg_provider": pg, "pg_id": mid, "sandbox": mode == Mode.TEST,
         "type": catalog.MODULE_TYPE[module], "channel_name": name, "channel_key": key}
        for pg, mid, mode, module, name, key in rows
    ]


def default_candidates(channel: Channel) -> list[Channel]:
    """The channels that may take over as default from ``channel`` (disabled or deleted): the
    same merchant's own, enabled, not assigned to a sub-merchant."""
    return list(Channel.objects.filter(merchant_id=channel.merchant_id, enabled=True,
                                       assigned_to__isnull=True)
                .exclude(pk=channel.pk).order_by("mode", "provider", "module", "mid"))
