"""Issue 22, walked at 1280 × 800 in English and in Korean: what a new operator tripped over.

- Tables: a 100-character key name or sub-merchant name without spaces leaves the key, the
  actions and every other column in view, the whole name on hover (item 6).
- Channels: kcp's form shows no kcp_quick field, no stray Next; the successor list tells two
  channels of one pg string apart; after disabling, the message is in view (item 12).
- Roles: a Developer reads the audit log and is told who creates API keys (item 13).
- Words: the schedule-cancel page keeps its schedule in its own words (item 14).
- Whitelist: 0.0.0.0/0 is confirmed and warned about; a bare address is read as /32 (item 16).

The expected texts are the catalog's own (gettext in the page's language), and Korean is
checked to differ from English, so a missing translation fails too.
"""

import re
import time

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from accounts.services.merchants import sub_merchant_create
from api_keys.services.api_keys import api_key_create
from channels.models import Channel, SharedTestCredential
from console.tenancy.audit import SYSTEM
from ops.demo import seed_demo
from tests.browser import PageProblems
from tests.factories import make_channel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"
WIDTH, HEIGHT = 1280, 800
LONG_NAME = "Seoul" + "Gangnam" * 13 + "Store"  # 101 characters, no space
LANGS = ["en", "ko"]


def t(lang: str, msgid: str, **values) -> str:
    """``msgid`` as the page says it in ``lang`` (and, in Korean, a real translation)."""
    with translation.override(lang):
        text = translation.gettext(msgid)
    if lang == "ko":
        assert text != msgid, f"no Korean for {msgid!r}"
    return text % values if values else text


@pytest.fixture(params=LANGS)
def lang(request):
    return request.param


@pytest.fixture
def page(browser, live_server, lang):
    context = browser.new_context(base_url=live_server.url, viewport={"width": WIDTH, "height": HEIGHT},
                                  locale="ko-KR" if lang == "ko" else "en-US",
                                  extra_http_headers={"Accept-Language": lang})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = PageProblems(page)
    yield page
    context.close()


@pytest.fixture
def demo(db):
    return seed_demo(password=PASSWORD)


def _log_in(page, lang, email):
    page.goto("/accounts/login/")
    page.get_by_label(t(lang, "Email")).fill(email)
    page.get_by_label(t(lang, "Password")).fill(PASSWORD)
    page.get_by_role("button", name=t(lang, "Log in")).click()
    expect(page).to_have_url(re.compile(r"/m/imp\d{8}/$"))


def _within_width(locator) -> None:
    """The element is laid out inside the window's width (no horizontal scroll needed)."""
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box


def _no_horizontal_scroll(page, selector) -> None:
    """The table fits its scrolling box (Bootstrap's .table-responsive): no scrollbar hides a column."""
    overflow = page.eval_on_selector(
        selector, "el => { const box = el.closest('.table-responsive'); return [box.scrollWidth, box.clientWidth]; }")
    assert overflow[0] <= overflow[1], (selector, overflow)


def test_long_names_leave_every_column_in_view(page, lang, demo):
    agency = demo.agency
    api_key_create(actor=SYSTEM, merchant=agency, name=LONG_NAME[:60])
    sub_merchant_create(actor=SYSTEM, agency=agency, name=LONG_NAME[:100], tier_code="L01",
                        service_url="https://example.test/" + "very-long-path" * 8,
                        contact_name="Kim" + "x" * 57)
    _log_in(page, lang, "owner@demo.test")

    # IDs & API keys: the key, Reissue secret and Revoke stay in view; the name is cut, whole on hover.
    page.goto(reverse("console:api_keys", kwargs={"merchant_code": agency.code}))
    page.screenshot(path=f"/tmp/h3-api-keys-{lang}.png", full_page=True)
    _no_horizontal_scroll(page, "#keys")
    row = page.locator("#keys tbody tr", has=page.locator(f"[title='{LONG_NAME[:60]}']"))
    expect(row).to_have_count(1)
    key = row.get_by_role("textbox", name="imp_key")
    assert key.evaluate("el => el.scrollWidth <= el.clientWidth"), "the imp_key is cut"
    assert key.bounding_box()["width"] >= 150
    for button in ("Reissue secret", "Revoke"):
        target = row.get_by_role("button", name=t(lang, button))
        expect(target).to_be_visible()
        _within_width(target)

    # Sub-merchants: the 100-character name pushes no column out; each row's actions are in view.
    page.goto(reverse("console:sub_merchants", kwargs={"merchant_code": agency.code}))
    page.screenshot(path=f"/tmp/h3-sub-merchants-{lang}.png", full_page=True)
    _no_horizontal_scroll(page, "#sub-merchants")
    row = page.locator("#sub-merchants tr[data-tier='L01']")
    name = row.locator(f"[title='{LONG_NAME[:100]}']")
    expect(name).to_be_visible()
    _within_width(name)
    for cell in row.locator("td").all():
        _within_width(cell)
    _within_width(row.get_by_role("link", name=t(lang, "Delete")))
    expect(row.get_by_role("link", name=t(lang, "Edit"))).to_be_in_viewport()
    assert page.problems.errors == []


def test_add_and_disable_channels_as_the_operator_expects(page, lang, demo):
    agency = demo.agency
    # Two channels of one pg string (one MID, two modules), and a default to disable.
    for module in ("window_general", "api_keyin"):
        make_channel(agency, provider="ksnet", module=module, mid="2999199991", name="",
                     credentials={"api_key": "ksnet-api-key-secret-0001"})
    default = Channel.objects.get(merchant=agency, mode="live", is_default=True)
    _log_in(page, lang, "developer@demo.test")

    # Add channel, NHN KCP, general window: kcp_quick's partner fields only with kcp_quick.
    page.goto(reverse("channels:new", kwargs={"merchant_code": agency.code})
              + "?mode=live&provider=kcp&module=window_general")
    form = page.get_by_role("form", name=t(lang, "Channel details"))
    expect(form.locator("input[name=cred_site_key]")).to_be_visible()  # kcp's and kcp_quick's
    partner = form.locator("input[name=cred_partner_type]")
    expect(partner).to_be_hidden()
    expect(page.get_by_role("button", name=t(lang, "Next"))).to_have_count(0)
    form.locator("select[name=pg_provider]").select_option("kcp_quick")
    expect(partner).to_be_visible()
    form.locator("select[name=pg_provider]").select_option("kcp")
    expect(partner).to_be_hidden()

    # Disable the default: the successor list names each channel's module.
    page.goto(reverse("channels:disable", kwargs={"merchant_code": agency.code,
                                                  "channel_key": default.channel_key}))
    with translation.override(lang):
        general = f"KSNET · {translation.gettext('Payment window · general')} · {translation.gettext('Live')} · ksnet.2999199991"
        keyin = f"KSNET · {translation.gettext('API · key-in')} · {translation.gettext('Live')} · ksnet.2999199991"
    expect(page.get_by_text(general, exact=True)).to_be_visible()
    expect(page.get_by_text(keyin, exact=True)).to_be_visible()
    page.get_by_label(keyin, exact=True).check()
    page.get_by_role("button", name=t(lang, "Disable"), exact=True).click()

    # Back on the list, at the disabled card: the message is where the page jumped to.
    expect(page).to_have_url(re.compile(f"#{default.channel_key}$"))
    card = page.locator(f"article[id='{default.channel_key}']")
    message = card.get_by_role("alert").filter(has_text=t(lang, "Channel disabled."))
    expect(message).to_be_visible()
    expect(message).to_be_in_viewport()
    with translation.override(lang):
        expect(message).to_contain_text(f"ksnet.2999199991 ({translation.gettext('API · key-in')})")
    assert page.evaluate("window.scrollY") > 0  # the card is far down the page: it did jump
    page.screenshot(path=f"/tmp/h3-channel-disabled-{lang}.png")
    assert Channel.objects.get(pk=default.pk).enabled is False
    assert Channel.objects.get(merchant=agency, module="api_keyin", mid="2999199991").is_default
    assert page.problems.errors == []


def test_a_developer_reads_the_audit_log_and_is_told_who_creates_api_keys(page, lang, demo):
    _log_in(page, lang, "developer@demo.test")
    nav = page.get_by_role("navigation", name=t(lang, "Console navigation"))
    nav.get_by_role("link", name=t(lang, "Audit log")).click()
    expect(page.get_by_role("heading", name=t(lang, "Audit log"), level=1)).to_be_visible()
    expect(page.get_by_role("table").first).to_be_visible()
    nav.get_by_role("link", name=t(lang, "IDs & API keys")).click()
    expect(page.get_by_role("button", name=t(lang, "Create API key"))).to_have_count(0)
    with translation.override(lang):
        role = str(translation.gettext("Developer"))
    note = page.locator("#keys-who-manages")
    expect(note).to_have_text(t(lang, "Only an Owner or an Admin creates, reissues and revokes API keys: they "
                                      "control payments. You are %(role)s, so you see them read-only.", role=role))
    expect(note).to_be_in_viewport()
    assert page.problems.errors == []


def test_the_schedule_cancel_page_keeps_the_schedule_in_its_own_words(page, lang, demo):
    from payments.domain import billing_keys, schedules

    SharedTestCredential.objects.get_or_create(provider="ksnet", module="api_subscription", mid="2999199990",
                                               defaults={"pg_provider": "ksnet"})
    agency = demo.agency
    billing_keys.billing_key_issue(merchant=agency, customer_uid="gildong_0001", card_number="9410-0000-7000-0000",
                              expiry="2030-12", birth="900101", pg="ksnet.2999199990")
    (schedule,) = schedules.schedules_create(merchant=agency, customer_uid="gildong_0001", schedules=[
        {"merchant_uid": "plan-1", "schedule_at": int(time.time()) + 86_400, "amount": 9900, "name": "Plan"}])
    _log_in(page, lang, "owner@demo.test")
    page.goto(reverse("schedules:cancel", kwargs={"merchant_code": agency.code, "schedule_id": schedule.pk}))
    form = page.get_by_role("form", name=t(lang, "Cancel schedule"))
    expect(form.get_by_role("link", name=t(lang, "Keep the schedule"))).to_be_visible()
    if lang == "ko":
        expect(form.get_by_role("link", name="취소하지 않기")).to_be_visible()
        expect(page.get_by_text("삭제하지 않기")).to_have_count(0)  # nothing is deleted here
    form.get_by_role("link", name=t(lang, "Keep the schedule")).click()
    expect(page).to_have_url(re.compile(r"/schedules/$"))
    assert page.problems.errors == []


def test_whitelist_asks_before_letting_everyone_in_and_reads_a_bare_address(page, lang, demo):
    agency = demo.agency
    _log_in(page, lang, "admin@demo.test")
    page.goto(reverse("console:whitelist", kwargs={"merchant_code": agency.code}))
    cidrs = page.get_by_role("textbox", name="CIDR")  # the same word in Korean
    memos = page.get_by_role("textbox", name=t(lang, "Memo"))
    cidrs.nth(0).fill("0.0.0.0/0")
    memos.nth(0).fill("anyone")
    page.get_by_role("button", name=t(lang, "Add rule")).click()
    expect(cidrs).to_have_count(2)
    cidrs.nth(1).fill("203.0.113.7")
    page.get_by_label(t(lang, "Enable whitelist")).check()
    page.get_by_role("button", name=t(lang, "Save")).click()

    asked = page.locator("#whitelist-everyone")
    expect(asked).to_contain_text(t(lang, "%(cidr)s allows every address: with it, the whitelist lets REST API "
                                          "calls in from anywhere. Write your servers' addresses instead, or "
                                          "confirm that this is what you want.", cidr="0.0.0.0/0"))
    expect(asked).to_be_in_viewport()
    assert not agency.whitelist_rules.exists()
    expect(cidrs.nth(0)).to_have_value("0.0.0.0/0")  # nothing typed is lost
    expect(cidrs.nth(1)).to_have_value("203.0.113.7")
    page.get_by_label(t(lang, "I understand: accept REST API calls from every address")).check()
    page.get_by_role("button", name=t(lang, "Save")).click()

    expect(page.get_by_text(t(lang, "Whitelist saved."))).to_be_visible()
    warning = t(lang, "Rule %(n)d (%(cidr)s) allows every IPv%(v)d address: for those calls the whitelist "
                      "restricts nothing.", n=1, cidr="0.0.0.0/0", v=4)
    expect(page.get_by_text(warning)).to_be_in_viewport()
    note = t(lang, "Rule %(n)d: %(value)s is one address, saved as %(cidr)s.", n=2, value="203.0.113.7",
             cidr="203.0.113.7/32")
    expect(page.get_by_text(note)).to_be_in_viewport()
    expect(cidrs.nth(1)).to_have_value("203.0.113.7/32")
    assert list(agency.whitelist_rules.values_list("cidr", flat=True)) == ["0.0.0.0/0", "203.0.113.7/32"]
    # the only console messages are the refused save's own 400
    assert [e for e in page.problems.errors if "status of 400" not in e] == []
