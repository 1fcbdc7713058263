"""An operator disables the default channel in a real browser: the console asks which channel
becomes the default, and no card ever reads Disabled and Default at once (issue 13, item 3)."""

import re

import pytest
from playwright.sync_api import expect

from channels.models import Channel
from ops.demo import seed_demo
from tests.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"


def test_disable_the_default_channel_and_choose_the_next(page):
    demo = seed_demo(password=PASSWORD)
    log_in(page, "developer@demo.test", PASSWORD)
    page.get_by_role("link", name="Channels").click()

    kcp = page.get_by_role("article", name=re.compile(r"kcp\.A52Q7"))
    expect(kcp.get_by_text("Default", exact=True)).to_be_visible()
    kcp.get_by_role("link", name="Disable").click()

    expect(page.get_by_role("heading", name="Disable channel")).to_be_visible()
    expect(page.get_by_text("This is the default channel")).to_be_visible()
    # Sub-merchants' channels (INICIS, Toss Payments, NICE in the demo) are not offered.
    expect(page.get_by_label(re.compile(r"html5_inicis\.demoinicis"))).to_have_count(0)
    # Nothing chosen: the browser asks for a choice (the server's own answer is in
    # tests/channels/test_default_channel.py), and nothing is done.
    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_role("heading", name="Disable channel")).to_be_visible()
    assert page.locator("input[name=successor]:invalid").count() > 0
    assert Channel.objects.get(merchant=demo.agency, mid="A52Q7").enabled

    page.get_by_label(re.compile(r"kakaopay\.CDEMO00001")).check()
    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_text("Channel disabled. The default channel is now: kakaopay.CDEMO00001")).to_be_visible()

    kcp = page.get_by_role("article", name=re.compile(r"kcp\.A52Q7"))
    expect(kcp.get_by_text("Disabled", exact=True)).to_be_visible()
    expect(kcp.get_by_text("Default", exact=True)).to_have_count(0)
    expect(kcp.get_by_role("button", name="Make default")).to_have_count(0)  # disabled: it cannot be
    kakao = page.get_by_role("article", name=re.compile(r"kakaopay\.CDEMO00001"))
    expect(kakao.get_by_text("Default", exact=True)).to_be_visible()
    assert list(Channel.objects.filter(merchant=demo.agency, is_default=True)
                .values_list("mid", flat=True)) == ["CDEMO00001"]

    # Delete the new default and choose none: the page then says there is no default.
    kakao.get_by_role("link", name="Delete").click()
    page.get_by_label("No default channel").check()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("This merchant has no default channel now.")).to_be_visible()
    expect(page.get_by_text("This merchant has no default channel: a payment must name its channel")).to_be_visible()
    assert not Channel.objects.filter(merchant=demo.agency, is_default=True).exists()
