"""The catalog against PortOne's V1 docs: every `pg` code the V1 PG index lists is here, and
the documented rules (billing keys, key-in, identity verification, old modules) are data
the Add channel form obeys.

The docs are not in CI, so the facts below are our own lists, typed from reading them
(opi/ko/integration/pg/v1/readme and the pages beside it; opi/ko/support/code-info/pg and
pg-1; opi/ko/integration/start/v1/non-auth). A provider that goes missing fails here.
"""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from channels import catalog
from channels.catalog import PROVIDERS, Module, codes
from channels.forms import ChannelStartForm, _provider_choices
from channels.models import Channel
from channels.services import ChannelInput, channel_create, channel_update
from console.tenancy.audit import Actor

# The `pg` code of every page the V1 PG index links to (and of KCP's identity page beside it).
V1_INDEX_PG_CODES = {
    # domestic PGs
    "nice_v2", "nice", "kcp", "kcp_billing", "kcp_quick", "kcp_v2", "html5_inicis",
    "inicis_unified", "tosspayments", "uplus", "smartro_v2", "smartro", "danal", "danal_tpay",
    "daou", "settle", "settle_acc", "mobilians", "ksnet", "kicc", "welcome",
    # domestic simple payments
    "naverpay", "kakaopay", "payco", "smilepay", "tosspay_v2", "tosspay", "toss_brandpay",
    "hyphen",
    # overseas
    "eximbay", "paymentwall", "paypal_v2", "paypal",
}

# support/code-info/pg: code → (issued through the window, through the API, pays at issuance).
# Smilepay is not in that table; integration/start/v1/non-auth lists it for the window.
BILLING_KEY_RULES = {
    "nice": (False, True, False), "nice_v2": (False, True, False),
    "tosspayments": (True, True, False), "kcp_billing": (True, False, False),
    "kcp": (False, True, False), "html5_inicis": (True, False, False),
    "inicis": (False, True, False), "danal_tpay": (True, False, True),
    "danal": (True, True, True), "settle": (False, True, False), "kicc": (True, False, False),
    "daou": (False, True, False), "mobilians": (True, False, True), "ksnet": (False, True, False),
    "smartro_v2": (True, False, False), "welcome": (True, True, None),  # by payment method
    "kakaopay": (True, False, True), "naverpay": (True, False, False),
    "payco": (True, False, False), "tosspay_v2": (True, False, False),
    "settle_acc": (True, False, True), "paymentwall": (True, False, True),
    "paypal_v2": (True, False, False), "smilepay": (True, False, False),
}

# integration/start/v1/non-auth, key-in payments (by PG; the codes they go by).
KEYIN_CODES = {"html5_inicis", "kcp", "nice", "nice_v2", "tosspayments", "daou", "ksnet",
               "welcome", "settle"}

# Identity verification: Danal, KG INICIS (integrated identity) and KCP (site code, kcp_v2).
CERTIFICATION_CODES = {"danal", "inicis_unified", "kcp", "kcp_v2"}
CERTIFICATION_PROVIDERS = {"danal", "html5_inicis", "kcp"}

LEGACY_CODES = {"nice", "uplus", "smartro", "paypal", "tosspay"}
LEGACY_PROVIDERS = {"tosspay"}
NEW_PROVIDERS = {"ksnet", "welcome", "smilepay", "tosspay_v2", "toss_brandpay", "hyphen"}
NO_OWN_GUIDE_PAGE = {"jtnet", "chai", "alipay"}


def test_every_code_the_v1_index_lists_is_in_the_catalog():
    missing = V1_INDEX_PG_CODES - set(catalog.all_pg_codes())
    assert not missing, f"missing from the catalog: {sorted(missing)}"


def test_new_providers_are_in_with_their_own_guide_page():
    for key in NEW_PROVIDERS:
        provider = catalog.get(key)
        assert provider is not None, key
        assert provider.guide and provider.guide != "readme", key
    for provider in PROVIDERS:
        if provider.key not in NO_OWN_GUIDE_PAGE:
            assert provider.guide != "readme", provider.key


@pytest.mark.parametrize("code", sorted(catalog.all_pg_codes()))
def test_billing_key_rules_are_the_documented_ones(code):
    window, api, pay = BILLING_KEY_RULES.get(code, (False, False, False))
    expected = tuple(how for how, on in (("window", window), ("api", api)) if on)
    assert catalog.billing_key_issuance(code) == expected
    if pay is not None:
        assert catalog.can_pay_at_issuance(code) is pay
    # the form obeys the same data: subscription modules only where a key can be issued
    entry = catalog.pg_code(code)
    assert (Module.WINDOW_SUBSCRIPTION in entry.modules) is window
    assert (Module.API_SUBSCRIPTION in entry.modules) is api
    assert (Module.API_KEYIN in entry.modules) is (code in KEYIN_CODES)
    assert catalog.offers_keyin(code) is (code in KEYIN_CODES)


def test_welcome_pays_at_issuance_by_phone_not_by_card():
    assert catalog.can_pay_at_issuance("welcome", "phone")
    assert not catalog.can_pay_at_issuance("welcome", "card")
    assert not catalog.can_pay_at_issuance("welcome")
    assert catalog.billing_key_issuance("nope") == ()
    assert not catalog.can_pay_at_issuance("nope")


def test_identity_verification_only_where_portone_offers_it():
    assert {c for c in catalog.all_pg_codes() if catalog.offers_certification(c)} == CERTIFICATION_CODES
    offering = {p.key for p in PROVIDERS if Module.CERTIFICATION in p.offered_modules}
    assert offering == CERTIFICATION_PROVIDERS
    for provider in PROVIDERS:
        start = ChannelStartForm(data={"mode": "live", "provider": provider.key})
        offered = {value for value, _label in start.fields["module"].choices if value}
        assert offered == set(provider.offered_modules)
        assert (Module.CERTIFICATION in offered) is (provider.key in CERTIFICATION_PROVIDERS)


def test_old_modules_are_marked_and_labelled():
    assert {c.code for p in PROVIDERS for c in p.codes if c.legacy} == LEGACY_CODES - {"tosspay"}
    assert {p.key for p in PROVIDERS if p.legacy} == LEGACY_PROVIDERS
    for provider in PROVIDERS:
        if provider.legacy:
            assert provider.legacy_note.en and provider.legacy_note.ko
        for code in provider.codes:
            if code.legacy:
                assert code.label.en.endswith("(old module)") and code.label.ko.endswith("(구모듈)")
                assert code is not provider.codes[0], "the new module comes first (the default)"
    labels = {key: label for _group, options in _provider_choices()[1:] for key, label in options}
    assert labels["tosspay"] == "Toss Pay (tosspay) (old module)"
    assert labels["tosspay_v2"] == "Toss Pay"
    with translation.override("ko"):
        labels = {key: label for _group, options in _provider_choices()[1:] for key, label in options}
    assert labels["tosspay"] == "토스페이(tosspay) (구모듈)"


def test_retired_modules_are_not_offered_but_existing_channels_keep_them():
    mobilians = catalog.get("mobilians")
    assert Module.CERTIFICATION in mobilians.modules
    assert Module.CERTIFICATION not in mobilians.offered_modules
    start = ChannelStartForm(data={"mode": "live", "provider": "mobilians", "module": "certification"})
    assert start.selection()[2] is None  # read as not chosen: the form asks again
    nice = catalog.get("nice")
    assert Module.WINDOW_SUBSCRIPTION not in nice.offered_modules
    assert nice.default_code(Module.WINDOW_GENERAL) == "nice_v2"


@pytest.mark.django_db
def test_a_retired_pairing_takes_no_new_channel_but_an_existing_one_still_saves(agency):
    data = ChannelInput(mode="live", provider="mobilians", module="certification", mid="mobil01")
    with pytest.raises(ValidationError) as refused:
        channel_create(actor=Actor(), merchant=agency, data=data)
    assert "module" in refused.value.message_dict
    # A channel made when the pairing was still offered (as a migration would have left it).
    channel = Channel.objects.create(merchant=agency, mode="live", provider="mobilians",
                                     module="certification", pg_provider="mobilians", mid="mobil01")
    data.name = "renamed"
    saved = channel_update(actor=Actor(), channel=channel, data=data)
    assert (saved.name, saved.pg_provider) == ("renamed", "mobilians")


def test_bank_codes_per_pg():
    assert codes.bank_code("kcp", "shinhan") == "BK88"
    assert codes.bank_code("html5_inicis", "shinhan") == "88"
    assert codes.bank_code("tosspayments", "shinhan") == "088"
    assert codes.bank_code("daou", "shinhan") == "10"
    assert codes.bank_for_code("daou", "05").key == "keb"
    assert codes.bank_for_code("kcp", "BK92").name.en == "Toss Bank"
    assert codes.bank_code("nice_v2", "toss") is None  # its list is shorter
    assert codes.bank_code("nice", "toss") == "092"
    assert len(codes.bank_codes("welcome")) == 12
    assert codes.bank_codes("kakaopay") == {}
    for pg in codes.pgs_with_bank_codes():
        assert pg in catalog.all_pg_codes()
        table = codes.bank_codes(pg)
        assert len(set(table.values())) == len(table), pg  # one bank per code
        assert set(table) <= set(codes.BANKS)


def test_card_codes():
    assert codes.card_name("366").en == "Shinhan Card"
    assert codes.card_name("10005").en == "Visa (overseas)"
    with translation.override("ko"):
        assert str(codes.card_name("361")) == "BC"
    assert codes.card_name("999") is None
    assert len(codes.CARDS) == 20 and len(codes.OVERSEAS_CARDS) == 6
