"""Faults found by attacking the sandbox (issue 20), the channel rule: ``pg`` without a MID
(``"kcp"``, ``"html5_inicis"``, ``"tosspayments"``, ``"kakaopay"``), or no ``pg`` at all, took a
live channel and was refused though an enabled test channel of that PG was there, and the
window and the key-in path even ordered channels in opposite ways. Now one rule
(``payments.domain.merchants.find_channel``) serves the window, key-in, virtual accounts and billing
keys: PortOne's (the default channel, else the only one of the PG; a PG with several MIDs is
named with its MID), among the channels that pay here, with a live default standing for its
PG's test channel; and a refusal names the test ``pg`` to use."""

import time

import pytest

from channels import services as channel_services
from channels.models import Channel
from console.tenancy.audit import SYSTEM
from payments.domain import billing_keys, charges, vbanks
from payments.domain.errors import PaymentError
from payments.sandbox import billing_window, window
from tests.factories import make_channel, make_sub_merchant

pytestmark = pytest.mark.django_db

APPROVE = "9410-0000-7000-0000"


def _live(merchant, provider: str, module: str, mid: str, *, default: bool = False) -> Channel:
    """A live channel of the merchant (written as it is stored: the form's checks of each PG's
    MID and credentials are not what this is about)."""
    channel = Channel.objects.create(merchant=merchant, mode="live", provider=provider, module=module, mid=mid,
                                     pg_provider=provider)
    if default:
        channel_services.channel_make_default(actor=SYSTEM, channel=channel)
    return channel


def _window(merchant, uid: str, **params):
    agency, tier = (merchant.parent, merchant.tier_code) if merchant.parent_id else (merchant, None)
    return window.window_open(merchant_code=agency.code, tier_code=tier, user_agent="pytest",
                              params={"merchant_uid": uid, "amount": 1000, "name": "Mug", **params})


def _refused(call) -> str:
    with pytest.raises(PaymentError) as refused:
        call()
    assert refused.value.code == "invalid"
    return refused.value.message


# (pg, its live channel's module, the test channel the window takes), as the merchant's
# channels are seeded with the shared test MIDs.
WINDOW_PGS = [
    ("kcp", "window_general", "kcp.T0000"),
    ("html5_inicis", "window_general", "html5_inicis.INIpayTest"),
    ("tosspayments", "window_general", "tosspayments.iamporttest_3"),
    ("kakaopay", "window_simple", "kakaopay.TC0ONETIME"),
]


@pytest.mark.parametrize(("pg", "module", "expected"), WINDOW_PGS)
@pytest.mark.parametrize("default", [False, True], ids=["live-channel", "live-default"])
def test_a_pg_without_its_mid_opens_the_window_on_its_enabled_test_channel(agency, pg, module, expected, default):
    _live(agency, pg, module, "LIVEMID01", default=default)
    assert _window(agency, "named", pg=pg).channel.pg_string == expected
    if default:  # no pg: the default, a live channel, stands for its PG
        assert _window(agency, "unnamed").channel.pg_string == expected


# Each kind of request, with a live default of the PG and module it takes: (call with pg, the
# pg without a MID, the test channel taken).
def _keyin(merchant, uid, pg):
    return charges.keyin_pay(merchant=merchant, merchant_uid=uid, amount=1000, pg=pg, card_number=APPROVE,
                             expiry="2030-12", birth="900101").channel


def _vbank(merchant, uid, pg):
    return vbanks.vbank_issue(merchant=merchant, merchant_uid=uid, amount=1000, vbank_code="004",
                              vbank_due=int(time.time()) + 86400, pg=pg).channel


def _billing_key(merchant, uid, pg):
    return billing_keys.billing_key_issue(merchant=merchant, customer_uid=uid, card_number=APPROVE, expiry="2030-12",
                                          birth="900101", pg=pg).channel


def _billing_window(merchant, uid, pg):
    params = {"merchant_uid": uid, "amount": 0, "name": "Plan", "customer_uid": f"c_{uid}"}
    if pg:
        params["pg"] = pg
    return billing_window.window_open(merchant_code=merchant.code, tier_code=None, params=params).channel


def _window_channel(merchant, uid, pg):
    return _window(merchant, uid, **({"pg": pg} if pg else {})).channel


KINDS = {
    "window": (_window_channel, "kcp", "window_general", "kcp.T0000"),
    "key-in": (_keyin, "ksnet", "api_keyin", "ksnet.2999199990"),
    "virtual account": (_vbank, "nice", "api_keyin", "nice.iamport01m"),
    "billing key": (_billing_key, "welcome", "api_subscription", "welcome.wpaybill01"),
    "billing key window": (_billing_window, "kakaopay", "window_subscription", "kakaopay.TCSUBSCRIP"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_one_rule_for_every_request_a_live_default_stands_for_its_pgs_test_channel(agency, kind):
    call, pg, module, expected = KINDS[kind]
    _live(agency, pg, module, "LIVEMID02", default=True)
    assert call(agency, "bare_pg", pg).pg_string == expected
    assert call(agency, "no_pg", "").pg_string == expected


def test_refusals_name_the_test_pg_to_use(agency):
    live = _live(agency, "kcp", "window_general", "LIVEMID03")
    message = _refused(lambda: _window(agency, "o1", pg=live.pg_string))
    assert "Live channels take no payments" in message and 'pg: "kcp.T0000"' in message
    message = _refused(lambda: _window(agency, "o2", channelKey=live.channel_key))
    assert "Live channels take no payments" in message and 'pg: "kcp.T0000"' in message
    # No default, and many test channels: name one.
    message = _refused(lambda: _window(agency, "o3"))
    assert "this merchant has no default channel" in message and 'pg: "' in message
    # A channel of another module: the module's test channel to use.
    message = _refused(lambda: _keyin(agency, "o4", "kcp"))
    assert "“API · key-in”" in message and 'pg: "' in message
    assert 'pg: "nice.iamport01m"' in message or 'pg: "ksnet.2999199990"' in message
    # A PG with two test MIDs, neither the default: PortOne asks for the MID.
    make_channel(agency, mode="test", provider="kcp", module="window_general", mid="T0001")  # the form's checks
    message = _refused(lambda: _window(agency, "o5", pg="kcp"))
    assert "names 2 test channels" in message and 'pg: "kcp.T0000"' in message
    assert _window(agency, "o6", pg="kcp.T0001").channel.mid == "T0001"
    # A disabled test channel named by its MID: enable it, or use another.
    test_kcp = agency.channels.get(mode="test", pg_provider="kcp", mid="T0000")
    channel_services.channel_set_enabled(actor=SYSTEM, channel=test_kcp, enabled=False)
    message = _refused(lambda: _window(agency, "o7", pg="kcp.T0000"))
    assert "This channel is disabled" in message and 'pg: "kcp.T0001"' in message


def test_a_test_default_is_taken_and_a_pg_named_with_its_mid_is_that_channel(agency):
    _live(agency, "kcp", "window_general", "LIVEMID04")
    inicis = agency.channels.get(mode="test", mid="INIpayTest")
    channel_services.channel_make_default(actor=SYSTEM, channel=inicis)
    assert _window(agency, "a").channel == inicis  # no pg: the default
    assert _window(agency, "b", pg="kcp").channel.mid == "T0000"  # another PG: its test channel
    assert _window(agency, "c", pg="html5_inicis").channel == inicis


def test_a_sub_merchant_pays_on_its_own_or_assigned_test_channel(agency):
    sub = make_sub_merchant(agency, "SEL")
    _live(agency, "kcp", "window_general", "LIVEMID05", default=True)  # the agency's, not the sub-merchant's
    channel = _window(sub, "s1", pg="kcp").channel
    assert channel.merchant == sub and channel.pg_string == "kcp.T0000"


def test_a_request_that_names_its_channel_reads_only_those_channels(agency):
    """Key-in's hot path: a request that names its PG is answered from one query that reads
    the channels of that PG, not every channel of the merchant."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from payments.domain.merchants import find_channel

    for n in range(5):  # channels of another PG, which the query leaves out
        _live(agency, "kcp", "window_general", f"LIVE{n:04d}")
    with CaptureQueriesContext(connection) as queries:
        channel = find_channel(agency, module="api_keyin", pg="nice")
    assert channel.pg_provider == "nice" and channel.module == "api_keyin"
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert "pg_provider" in queries[0]["sql"]


# --- issue 23, item 9: a key-in or API channel never opens a payment window ----------------


def test_the_window_pays_on_a_window_channel_only(agency):
    """nice has a window channel (iamport00m) and a key-in one (iamport01m): ``pg: "nice"``
    opens the window's; naming the key-in channel (with its MID or its channelKey) is refused,
    saying why; key-in itself takes the key-in one by the same rule."""
    assert _window(agency, "w-1", pg="nice").pg_id == "iamport00m"
    keyin = Channel.objects.get(merchant=agency, pg_provider="nice", module="api_keyin")
    for params in ({"pg": "nice.iamport01m"}, {"channelKey": keyin.channel_key},
                   {"pg": "kcp", "channelKey": keyin.channel_key}):  # channelKey wins over pg, as at PortOne
        message = _refused(lambda params=params: _window(agency, "w-2", **params))
        assert "opens no payment window" in message and "API · key-in" in message
    assert _refused(lambda: _window(agency, "w-3", pg="ksnet.2999199990")).startswith("ksnet.2999199990 is a")
    paid = charges.keyin_pay(merchant=agency, merchant_uid="k-1", amount=1000, card_number=APPROVE,
                             expiry="2099-12", pg="nice")
    assert paid.pg_id == "iamport01m"
    # A PG with only a key-in channel opens no window either, even as the merchant's default.
    Channel.objects.filter(merchant=agency, pg_provider="nice", module="window_general").delete()
    assert "opens no payment window" in _refused(lambda: _window(agency, "w-4", pg="nice"))
    channel_services.channel_make_default(actor=SYSTEM, channel=keyin)
    assert "opens no payment window" in _refused(lambda: _window(agency, "w-5", channelKey=keyin.channel_key))


def test_try_a_test_payment_is_offered_on_window_channels_only(client, agency):
    from django.urls import reverse

    from tests.factories import make_member

    client.force_login(make_member(agency, "owner"))
    listing = client.get(reverse("channels:list", kwargs={"merchant_code": agency.code})).content.decode()
    for channel in Channel.objects.filter(merchant=agency):
        offered = f"/channels/{channel.channel_key}/try/" in listing
        assert offered == (channel.module in ("window_general", "window_simple")), channel.pg_string
        status = client.get(f"/m/{agency.code}/channels/{channel.channel_key}/try/").status_code
        assert status == (200 if offered else 404), (channel.pg_string, status)
