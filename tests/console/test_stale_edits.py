"""Two tabs editing one thing: a save from a form older than what is stored is refused, says what
changed (a secret by name only), writes nothing, keeps the operator's input and offers the values
stored now where they changed nothing; a second Save writes what the form then shows. Without a
version (the admin, the REST API, the demo seed) a save goes through as before. Channels, webhook
endpoints, the whitelist and sub-merchants."""

import html
import re

import pytest
from django.urls import reverse

from accounts import services as account_services
from api_keys.services.whitelist import whitelist_save, whitelist_version
from channels import services as channel_services
from channels.models import Channel
from channels.services import ChannelInput, channel_credentials
from console.models import AuditEvent, Merchant
from console.tenancy.audit import SYSTEM, Actor
from console.tenancy.stale import StaleEdit, check_version, version_of
from tests.factories import make_channel, make_member, make_sub_merchant
from webhooks import services as webhook_services
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

SITE_KEY = "kcp-site-key-FIRST-secret-0001"
NEW_SITE_KEY = "kcp-site-key-OTHER-TAB-secret-9876"
TAB_B = Actor(ip="192.0.2.2")


def version_in(page: str, prefix: str = "") -> str:
    match = re.search(rf'name="{prefix}edit_version" value="([^"]*)"', page)
    assert match, "no edit_version in the form"
    return html.unescape(match.group(1))


def audit_count() -> int:
    return AuditEvent.objects.count()


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


# --- The mechanism -------------------------------------------------------------------


def test_check_version_names_what_changed_and_what_to_refresh():
    # Secrets long enough that a random signature never happens to contain them (two-letter
    # ones made this test fail by chance).
    OLD_SECRET, NEW_SECRET = "sign-key-OLD-7741-value", "sign-key-NEW-9903-value"  # noqa: N806
    seen = version_of({"name": "A", "mid": "M1", "key": OLD_SECRET})
    check_version(expected=seen, current={"name": "A", "mid": "M1", "key": OLD_SECRET},
                  submitted={"name": "typed", "mid": "M1", "key": ""}, secret={"key"})  # fresh: no error
    check_version(expected=None, current={"name": "Z"}, submitted={})  # no version: no check
    with pytest.raises(StaleEdit) as caught:
        check_version(expected=seen, current={"name": "A", "mid": "M2", "key": NEW_SECRET},
                      submitted={"name": "typed", "mid": "M1", "key": ""}, secret={"key"})
    error = caught.value
    assert error.code == "stale"
    assert [(c.field, c.value, c.secret, c.conflict) for c in error.changes] == [
        ("mid", "M2", False, False), ("key", None, True, False)]
    assert error.refresh == {"mid": "M2"}  # the operator did not touch it; a secret never comes back
    assert OLD_SECRET not in error.version and NEW_SECRET not in error.version
    check_version(expected=error.version, current={"name": "A", "mid": "M2", "key": NEW_SECRET},
                  submitted={"name": "typed", "mid": "M2", "key": ""}, secret={"key"})


def test_both_changed_keeps_the_operators_value_and_a_bad_version_refuses_without_naming():
    seen = version_of({"mid": "M1"})
    with pytest.raises(StaleEdit) as caught:
        check_version(expected=seen, current={"mid": "M2"}, submitted={"mid": "M3"})
    assert caught.value.changes[0].conflict and caught.value.refresh == {}
    with pytest.raises(StaleEdit) as caught:
        check_version(expected="not-a-version", current={"mid": "M1"}, submitted={"mid": "M1"})
    assert caught.value.changes == [] and caught.value.version == seen


# --- Channels: the service -----------------------------------------------------------


def kcp_input(channel, **overrides) -> ChannelInput:
    values = dict(mode=channel.mode, provider=channel.provider, module=channel.module, mid=channel.mid,
                  pg_provider=channel.pg_provider, name=channel.name, credentials={"site_key": ""})
    values.update(overrides)
    return ChannelInput(**values)


@pytest.fixture
def channel(agency):
    return make_channel(agency, mid="A0001", name="KCP card", credentials={"site_key": SITE_KEY})


def test_channel_update_from_a_stale_version_is_refused_and_writes_nothing(channel):
    seen = channel_services.channel_version(channel, channel_credentials(channel))
    channel_services.channel_update(actor=TAB_B, channel=channel, data=kcp_input(
        channel, mid="B0002", credentials={"site_key": NEW_SITE_KEY}), expected_version=seen)
    before = audit_count()
    with pytest.raises(StaleEdit) as caught:
        channel_services.channel_update(actor=Actor(), channel=channel,
                                        data=kcp_input(channel, name="Renamed in tab A"),
                                        expected_version=seen)
    changes = {c.field: c for c in caught.value.changes}
    assert set(changes) == {"mid", "cred_site_key"}
    assert changes["mid"].value == "B0002" and changes["cred_site_key"].value is None
    assert caught.value.refresh == {"mid": "B0002"}
    stored = Channel.objects.get(pk=channel.pk)
    assert (stored.name, stored.mid) == ("KCP card", "B0002")
    assert channel_credentials(stored) == {"site_key": NEW_SITE_KEY}
    assert audit_count() == before


def test_channel_update_from_the_current_version_or_none_is_saved(channel):
    seen = channel_services.channel_version(channel, channel_credentials(channel))
    channel_services.channel_update(actor=Actor(), channel=channel, data=kcp_input(channel, name="Fresh"),
                                    expected_version=seen)
    assert Channel.objects.get(pk=channel.pk).name == "Fresh"
    # Enabling or disabling a channel is not on the form: it makes no form stale.
    channel_services.channel_set_enabled(actor=TAB_B, channel=channel, enabled=False)
    channel.refresh_from_db()
    fresh = channel_services.channel_version(channel, channel_credentials(channel))
    channel_services.channel_set_enabled(actor=TAB_B, channel=channel, enabled=True)
    channel_services.channel_update(actor=Actor(), channel=channel, data=kcp_input(channel, name="Again"),
                                    expected_version=fresh)
    # No version (the admin, the REST API, the demo seed): saved as before.
    channel_services.channel_update(actor=Actor(), channel=channel, data=kcp_input(channel, name="Old way"))
    assert Channel.objects.get(pk=channel.pk).name == "Old way"


# --- Channels: the page --------------------------------------------------------------


def channel_post(channel, version, **overrides):
    data = {"pg_provider": "kcp", "name": channel.name, "mid": channel.mid, "tax_type": "unset",
            "cred_site_key": "", "edit_version": version}
    data.update(overrides)
    return data


def test_channel_page_says_what_the_other_tab_changed_and_keeps_the_operators_input(owner_client, agency,
                                                                                   channel):
    edit_url = reverse("channels:edit", kwargs={"merchant_code": agency.code,
                                                "channel_key": channel.channel_key})
    tab_a = version_in(owner_client.get(edit_url).content.decode())
    tab_b = version_in(owner_client.get(edit_url).content.decode())
    assert owner_client.post(edit_url, channel_post(channel, tab_b, mid="B0002",
                                                    cred_site_key=NEW_SITE_KEY)).status_code == 302
    updates = AuditEvent.objects.filter(action="channel.update").count()

    response = owner_client.post(edit_url, channel_post(channel, tab_a, name="Renamed in tab A"))
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone changed this channel while you were editing: " in page
    assert "Site code is now “B0002”" in page and "Site key was changed" in page
    assert "nothing was saved" in page
    assert NEW_SITE_KEY not in page and SITE_KEY not in page
    assert 'value="Renamed in tab A"' in page  # the operator's change, still in the form
    assert 'value="B0002"' in page  # the field they did not touch: what is stored now
    assert AuditEvent.objects.filter(action="channel.update").count() == updates
    stored = Channel.objects.get(pk=channel.pk)
    assert (stored.name, stored.mid) == ("KCP card", "B0002")

    # Saving again writes the form as shown: nothing of either tab is lost.
    again = owner_client.post(edit_url, channel_post(stored, version_in(page), name="Renamed in tab A"))
    assert again.status_code == 302
    stored.refresh_from_db()
    assert (stored.name, stored.mid) == ("Renamed in tab A", "B0002")
    assert channel_credentials(stored) == {"site_key": NEW_SITE_KEY}


def test_channel_page_without_a_version_saves_as_before(owner_client, agency, channel):
    edit_url = reverse("channels:edit", kwargs={"merchant_code": agency.code,
                                                "channel_key": channel.channel_key})
    data = channel_post(channel, "", name="No version")
    del data["edit_version"]
    assert owner_client.post(edit_url, data).status_code == 302
    assert Channel.objects.get(pk=channel.pk).name == "No version"


def test_channel_page_with_a_version_it_cannot_read_refuses_without_guessing(owner_client, agency, channel):
    edit_url = reverse("channels:edit", kwargs={"merchant_code": agency.code,
                                                "channel_key": channel.channel_key})
    response = owner_client.post(edit_url, channel_post(channel, "forged-or-from-an-old-key", name="Typed"))
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone may have changed this while you were editing." in page and 'value="Typed"' in page
    assert Channel.objects.get(pk=channel.pk).name == "KCP card"
    assert owner_client.post(edit_url, channel_post(channel, version_in(page), name="Typed")).status_code == 302


# --- Webhook endpoints ---------------------------------------------------------------


def save_endpoint(merchant, expected_version=None, actor=SYSTEM, **overrides):
    values = dict(url="http://127.0.0.1:9/hook", content_type="json", version="v1", enabled=True)
    values.update(overrides)
    return webhook_services.endpoint_save(actor=actor, merchant=merchant, mode="test",
                                          expected_version=expected_version, **values)


def test_endpoint_save_from_a_stale_version_is_refused_and_writes_nothing(agency):
    seen = webhook_services.endpoint_version(None)  # the page showed no endpoint yet
    save_endpoint(agency, seen, actor=TAB_B, url="http://127.0.0.1:9/tab-b")
    before = audit_count()
    with pytest.raises(StaleEdit) as caught:
        save_endpoint(agency, seen, version="v2")
    assert [(c.field, c.value) for c in caught.value.changes] == [("url", "http://127.0.0.1:9/tab-b")]
    endpoint = WebhookEndpoint.objects.get(merchant=agency, mode="test")
    assert (endpoint.url, endpoint.version) == ("http://127.0.0.1:9/tab-b", "v1")
    assert audit_count() == before
    # A stale save of a mode with no endpoint yet leaves none behind.
    with pytest.raises(StaleEdit):
        webhook_services.endpoint_save(actor=SYSTEM, merchant=agency, mode="live", url="",
                                       content_type="json", version="v1",
                                       expected_version=version_of({"url": "x"}))
    assert not WebhookEndpoint.objects.filter(merchant=agency, mode="live").exists()


def test_endpoint_save_from_the_current_version_or_none_is_saved(agency):
    endpoint = save_endpoint(agency)
    save_endpoint(agency, webhook_services.endpoint_version(endpoint), version="v2")
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).version == "v2"
    save_endpoint(agency, None, url="http://127.0.0.1:9/no-version")
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).url == "http://127.0.0.1:9/no-version"


def test_webhook_page_says_what_the_other_tab_changed(owner_client, agency):
    save_endpoint(agency)
    page_url = reverse("webhooks:settings", kwargs={"merchant_code": agency.code})
    save_url = reverse("webhooks:save", kwargs={"merchant_code": agency.code, "mode": "test"})
    tab_a = version_in(owner_client.get(page_url).content.decode(), "test-")
    save_endpoint(agency, actor=TAB_B, version="v2", enabled=False)

    response = owner_client.post(save_url, {
        "test-url": "http://127.0.0.1:9/typed-in-a", "test-content_type": "json", "test-version": "v1",
        "test-enabled": "on", "test-edit_version": tab_a})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone changed this webhook while you were editing: " in page
    assert "Payload version is now “V2 (PortOne, 2024-04-25)”" in page
    assert "Send notifications is now off" in page
    assert 'value="http://127.0.0.1:9/typed-in-a"' in page
    endpoint = WebhookEndpoint.objects.get(merchant=agency, mode="test")
    assert (endpoint.url, endpoint.version, endpoint.enabled) == ("http://127.0.0.1:9/hook", "v2", False)
    form = page[page.index('aria-label="Test webhook"'):]
    form = form[:form.index("</form>")]
    assert 'value="v2" selected' in form  # untouched by the operator: what is stored now
    assert 'name="test-enabled"' in form and "checked" not in form[form.index('name="test-enabled"') - 200:]

    again = owner_client.post(save_url, {
        "test-url": "http://127.0.0.1:9/typed-in-a", "test-content_type": "json", "test-version": "v2",
        "test-edit_version": version_in(page, "test-")})
    assert again.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.version, endpoint.enabled) == ("http://127.0.0.1:9/typed-in-a", "v2", False)


# --- The whitelist -------------------------------------------------------------------

RULES = [("203.0.113.0/24", "office")]


def test_whitelist_save_from_a_stale_version_is_refused_and_writes_nothing(agency):
    whitelist_save(actor=SYSTEM, merchant=agency, enabled=False, rows=RULES)
    seen = whitelist_version(Merchant.objects.get(pk=agency.pk))
    whitelist_save(actor=TAB_B, merchant=agency, enabled=False, rows=[*RULES, ("198.51.100.0/24", "")],
                   expected_version=seen)
    before = audit_count()
    with pytest.raises(StaleEdit) as caught:
        whitelist_save(actor=SYSTEM, merchant=agency, enabled=True, rows=RULES, expected_version=seen)
    assert caught.value.refresh == {"rules": [["203.0.113.0/24", "office"], ["198.51.100.0/24", ""]]}
    merchant = Merchant.objects.get(pk=agency.pk)
    assert not merchant.whitelist_enabled and merchant.whitelist_rules.count() == 2
    assert audit_count() == before


def test_whitelist_save_from_the_current_version_or_none_is_saved(agency):
    seen = whitelist_version(agency)
    whitelist_save(actor=SYSTEM, merchant=agency, enabled=False, rows=RULES, expected_version=seen)
    assert agency.whitelist_rules.count() == 1
    whitelist_save(actor=SYSTEM, merchant=agency, enabled=True, rows=RULES)
    assert Merchant.objects.get(pk=agency.pk).whitelist_enabled


def test_whitelist_page_says_what_the_other_tab_changed(owner_client, agency):
    whitelist_save(actor=SYSTEM, merchant=agency, enabled=False, rows=RULES)
    page_url = reverse("console:whitelist", kwargs={"merchant_code": agency.code})
    tab_a = version_in(owner_client.get(page_url).content.decode())
    whitelist_save(actor=TAB_B, merchant=agency, enabled=False, rows=[*RULES, ("198.51.100.0/24", "")])

    response = owner_client.post(page_url, {"cidr": ["203.0.113.0/24", ""], "memo": ["office", ""],
                                            "enabled": "on", "edit_version": tab_a})
    assert response.status_code == 409
    page = response.content.decode()
    assert ("Someone changed the whitelist while you were editing: the rules are now: "
            "203.0.113.0/24 (office), 198.51.100.0/24.") in page
    assert 'value="198.51.100.0/24"' in page  # the rules the operator left alone: as stored now
    assert re.search(r'id="enabled" name="enabled"\s*checked', page)  # their switch: kept
    assert not Merchant.objects.get(pk=agency.pk).whitelist_enabled

    again = owner_client.post(page_url, {"cidr": ["203.0.113.0/24", "198.51.100.0/24"], "memo": ["office", ""],
                                         "enabled": "on", "edit_version": version_in(page)})
    assert again.status_code == 302
    merchant = Merchant.objects.get(pk=agency.pk)
    assert merchant.whitelist_enabled and merchant.whitelist_rules.count() == 2


# --- Sub-merchants -------------------------------------------------------------------


def test_sub_merchant_update_from_a_stale_version_is_refused_and_writes_nothing(agency, sub_merchant):
    live = make_channel(agency, mid="S0001", name="For Seoul")
    seen = account_services.sub_merchant_version(sub_merchant)
    account_services.sub_merchant_update(actor=TAB_B, sub_merchant=sub_merchant, tier_code="B02",
                                         channel_keys=[live.channel_key], expected_version=seen)
    before = audit_count()
    with pytest.raises(StaleEdit) as caught:
        account_services.sub_merchant_update(actor=SYSTEM, sub_merchant=sub_merchant, name="Renamed",
                                             tier_code="A01", channel_keys=[], expected_version=seen)
    changes = {c.field: c for c in caught.value.changes}
    assert changes["tier_code"].value == "B02" and changes["channels"].value == [live.channel_key]
    assert changes["tier_code"].conflict is False and caught.value.refresh["tier_code"] == "B02"
    sub = Merchant.objects.get(pk=sub_merchant.pk)
    assert (sub.name, sub.tier_code) == ("Acme Seoul", "B02")
    assert Channel.objects.get(pk=live.pk).assigned_to_id == sub.pk
    assert audit_count() == before


def test_sub_merchant_update_from_the_current_version_or_none_is_saved(sub_merchant):
    seen = account_services.sub_merchant_version(sub_merchant)
    account_services.sub_merchant_update(actor=SYSTEM, sub_merchant=sub_merchant, name="Fresh",
                                         expected_version=seen)
    account_services.sub_merchant_update(actor=SYSTEM, sub_merchant=sub_merchant, contact_name="Kim")
    sub = Merchant.objects.get(pk=sub_merchant.pk)
    assert (sub.name, sub.contact_name) == ("Fresh", "Kim")


def test_sub_merchant_page_says_what_the_other_tab_changed(client, agency):
    client.force_login(make_member(agency, "admin"))
    sub = make_sub_merchant(agency, "SEL", name="Seoul")
    edit_url = reverse("console:sub_merchant_edit", kwargs={"merchant_code": agency.code,
                                                            "sub_merchant_id": sub.pk})
    tab_a = version_in(client.get(edit_url).content.decode())
    account_services.sub_merchant_update(actor=TAB_B, sub_merchant=sub, tier_code="B02")

    response = client.post(edit_url, {"name": "Seoul", "tier_code": "SEL", "contact_name": "Typed in A",
                                      "webhook_same_as_agency": "on", "edit_version": tab_a})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone changed this sub-merchant while you were editing: Tier code is now “B02”." in page
    assert 'value="Typed in A"' in page and 'value="B02"' in page
    assert Merchant.objects.get(pk=sub.pk).contact_name == ""

    again = client.post(edit_url, {"name": "Seoul", "tier_code": "B02", "contact_name": "Typed in A",
                                   "webhook_same_as_agency": "on", "edit_version": version_in(page)})
    assert again.status_code == 302
    sub.refresh_from_db()
    assert (sub.tier_code, sub.contact_name) == ("B02", "Typed in A")
