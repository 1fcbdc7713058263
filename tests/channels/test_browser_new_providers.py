"""An operator adds a channel for every module of the PGs issue 16 added, in a real browser:
in test mode (it shows on the PG's test card) for those with a shared test MID, in live mode
(a live card) otherwise. One page load per module: the Add channel page opens at the module
step, as the htmx steps leave it in the address bar."""

import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from channels import catalog
from channels.models import Channel
from ops.demo import seed_demo
from tests.browser import log_in, wait_htmx_idle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"

TOSS_KEYS = {"Client key *": "live_ck_brand0001", "Secret key *": "live_sk_brand0001"}
WELCOME_KEYS = {"Sign key *": "welcome-sign-key-0001", "Field encryption IV *": "iv-0001",
                "Field encryption key *": "field-key-0001"}

# provider → {module: (MID, {field label: value})}
ADDS = {
    "ksnet": {m: (f"ksnet{i}", {"API key *": f"ksnet-api-key-{i}"})
              for i, m in enumerate(("window_general", "api_keyin", "api_subscription"))},
    "welcome": {m: (f"wlcmtest{i}", WELCOME_KEYS)
                for i, m in enumerate(("window_general", "window_subscription", "api_keyin",
                                       "api_subscription"))},
    "smilepay": {m: (f"smile{i}", {"Merchant key *": f"smile-merchant-key-{i}"})
                 for i, m in enumerate(("window_simple", "window_subscription"))},
    "tosspay_v2": {m: (f"tosstest{i}", {"API key *": f"toss-api-key-{i}"})
                   for i, m in enumerate(("window_simple", "window_subscription"))},
    "toss_brandpay": {"window_simple": ("brandpay0", TOSS_KEYS)},
    "hyphen": {"window_simple": ("hyphen0", {"Encryption key *": "hyphen-key-0",
                                             "Encryption token *": "hyphen-token-0"})},
}


def test_the_new_pgs_modules_are_what_the_browser_test_covers():
    for key, modules in ADDS.items():
        assert set(modules) == set(catalog.get(key).offered_modules), key


def test_add_a_channel_for_every_module_of_the_new_pgs(page):
    demo = seed_demo(password=PASSWORD)
    agency = demo.agency
    new_url = reverse("channels:new", kwargs={"merchant_code": agency.code})
    log_in(page, "developer@demo.test", PASSWORD)

    # The PG list names the new PGs and labels the old Toss Pay module; the module list
    # offers only what the PG supports (Welcome: no identity verification).
    page.goto(new_url)
    expect(page.get_by_label("PG", exact=True)).to_contain_text("Toss Pay (tosspay) (old module)")
    page.get_by_label("PG", exact=True).select_option(label="Welcome Payments")
    expect(page.get_by_label("Module")).to_contain_text("API · subscription")
    wait_htmx_idle(page)
    expect(page.get_by_label("Module")).not_to_contain_text("Identity verification")

    for key, modules in ADDS.items():
        provider = catalog.get(key)
        mode = "test" if provider.test_mids else "live"
        for module, (mid, fields) in modules.items():
            page.goto(f"{new_url}?{urlencode({'mode': mode, 'provider': key, 'module': module})}")
            page.get_by_label(f"{provider.mid_label} *").fill(mid)
            for label, value in fields.items():
                page.get_by_label(label, exact=True).fill(value)
            page.get_by_role("button", name="Save").click()
            pg = f"{key}.{mid}"
            expect(page.get_by_text(f"Channel added: {pg}")).to_be_visible()
            if mode == "test":
                card = page.get_by_role("article", name=f"Test integration: {provider.name}")
                expect(card.locator(f'input[value="{pg}"]')).to_have_count(1)
            else:
                card = page.get_by_role("article", name=re.compile(re.escape(pg)))
                expect(card.get_by_role("textbox", name="pg")).to_have_value(pg)

    added = Channel.objects.filter(merchant=agency, provider__in=ADDS, shared_credential=None)
    assert added.count() == sum(len(m) for m in ADDS.values())
    assert set(added.filter(mode="test").values_list("provider", flat=True)) == {
        key for key in ADDS if catalog.get(key).test_mids}
    assert page.problems.errors == []


def test_kcp_identity_module_kcp_v2(page):
    demo = seed_demo(password=PASSWORD)
    new_url = reverse("channels:new", kwargs={"merchant_code": demo.agency.code})
    log_in(page, "developer@demo.test", PASSWORD)
    page.goto(f"{new_url}?mode=live&provider=kcp&module=certification")
    page.get_by_label("PG code").select_option("kcp_v2")
    page.get_by_label("Site code *").fill("V2IDV")
    page.get_by_label("PG-API certificate *").fill("-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----")
    page.get_by_label("PG-API private key *").fill("-----BEGIN PRIVATE KEY----- MIIE -----END PRIVATE KEY-----")
    page.get_by_label("Private key password *").fill("key-password-1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Channel added: kcp_v2.V2IDV")).to_be_visible()
    assert page.problems.errors == []
