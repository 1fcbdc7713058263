"""Every PG catalog entry is well formed: adding a PG means adding an entry, checked here."""

import importlib
import re

import pytest

from channels import catalog
from channels.catalog import MODULE_TYPE, PROVIDERS, Kind, Module

NO_SHARED_TEST = {"naverpay", "tosspay", "paypal", "toss_brandpay", "hyphen"}


def test_twenty_seven_providers_seventeen_pgs_ten_simple_payments():
    assert len(PROVIDERS) == 27
    assert sum(p.kind == Kind.PG for p in PROVIDERS) == 17
    assert sum(p.kind == Kind.SIMPLE for p in PROVIDERS) == 10


def test_keys_and_pg_codes_are_unique():
    keys = [p.key for p in PROVIDERS]
    assert len(keys) == len(set(keys))
    codes = [c.code for p in PROVIDERS for c in p.codes]
    assert len(codes) == len(set(codes))


def test_shared_test_credentials_for_all_but_five():
    assert {p.key for p in PROVIDERS if not p.shared_test} == NO_SHARED_TEST


def test_every_module_type_is_mapped():
    assert set(MODULE_TYPE) == set(Module)
    assert set(MODULE_TYPE.values()) == {"payment", "api_payment", "certification"}


@pytest.mark.parametrize("provider", PROVIDERS, ids=[p.key for p in PROVIDERS])
def test_entry_is_well_formed(provider):
    assert re.fullmatch(r"[a-z0-9_]{2,16}", provider.key)
    assert provider.name.en and provider.name.ko
    assert provider.mid_label.en and provider.mid_label.ko
    assert provider.kind in Kind.values
    assert provider.modules and set(provider.modules) <= set(Module.values)
    assert len(set(provider.modules)) == len(provider.modules)
    assert provider.guide_url.startswith("https://")
    re.compile(provider.mid_pattern)
    assert 1 <= provider.mid_max_length <= 80
    for module in provider.modules:
        assert provider.codes_for(module), f"{provider.key}: no pg code for {module}"
    for code in provider.codes:
        assert re.fullmatch(r"[a-z0-9_]{2,16}", code.code)  # /users/pg: pg_provider ≤ 16 chars
        assert code.modules and code.modules <= set(provider.modules)
        assert code.retired_modules <= set(provider.modules)
        assert not code.retired_modules & code.modules
    field_keys = [f.key for f in provider.fields]
    assert len(field_keys) == len(set(field_keys))
    all_codes = {c.code for c in provider.codes}
    for f in provider.fields:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", f.key)
        assert f.label.en and f.label.ko
        assert 1 <= f.max_length <= 5000  # PEM keys (kcp_v2) are the longest
        if f.pattern:
            re.compile(f.pattern)
        assert f.modules is None or f.modules <= set(provider.modules)
        assert f.codes is None or f.codes <= all_codes
    for module, mid, note in provider.test_mids:
        assert module in provider.modules
        assert len(mid) <= provider.mid_max_length and re.fullmatch(provider.mid_pattern, mid)
        assert note.en and note.ko
    if not provider.shared_test:
        assert provider.test_mids == ()


def test_shared_test_mids_of_the_reference_are_in_the_catalog():
    expected = {
        "html5_inicis": {"INIpayTest", "INIBillTst"}, "kcp": {"T0000"},
        "nice": {"iamport00m", "iamport01m"}, "kakaopay": {"TC0ONETIME", "TCSUBSCRIP"},
        "tosspayments": {"iamporttest_3", "iamporttest_4"}, "smartro": {"t_2302141m"},
        "settle": {"nxca_jt_il", "nxca_jt_bi"}, "daou": {"CTS17362"}, "jtnet": {"tpaytest0m"},
        "payco": {"PARTNERTEST", "AUTOPAY"}, "kicc": {"T5102001"}, "danal": {"9810030929"},
        # PortOne's channel-setting help (help/core-service/channel-setting/<pg>.md):
        "welcome": {"welcometst", "wpaybill01"}, "tosspay_v2": {"tosstest"},
        "ksnet": {"2999199999", "2999199990"}, "smilepay": {"cnstest25m"},
    }
    for key, mids in expected.items():
        assert {mid for _, mid, _ in catalog.get(key).test_mids} == mids, key


SEED_MIGRATIONS = ("0002_seed_shared_test_credentials", "0004_seed_new_provider_test_credentials")


def test_seed_migrations_match_the_catalog():
    rows = [row for name in SEED_MIGRATIONS
            for row in importlib.import_module(f"channels.migrations.{name}").SHARED_TEST_MIDS]
    seeded = {(p, m, mid) for p, m, _code, mid, _note in rows}
    assert len(seeded) == len(rows)  # nothing seeded twice
    in_catalog = {(p.key, m, mid) for p in PROVIDERS for m, mid, _ in p.test_mids}
    assert seeded == in_catalog
    for provider, module, code, _mid, _note in rows:
        assert code in [c.code for c in catalog.get(provider).codes_for(module)]


def test_pg_string():
    assert catalog.pg_string("kcp", "T0000") == "kcp.T0000"


def test_field_check_messages():
    cancel = next(f for f in catalog.get("nice").fields if f.key == "cancel_password")
    assert cancel.check("x" * 10) is None
    assert "at most 10 characters" in cancel.check("x" * 11)
    client_key = next(f for f in catalog.get("tosspayments").fields if f.key == "client_key")
    assert "test_ck_ or live_ck_" in client_key.check("sk_wrong")
