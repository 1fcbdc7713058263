"""Two tabs on one channel: the second save is told what the first changed, and nothing is lost."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from channels.models import Channel
from channels.services import channel_credentials
from ops.demo import seed_demo
from tests.browser import log_in
from tests.factories import make_channel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-demo-passphrase"
SITE_KEY = "kcp-browser-site-key-5511"


def test_two_tabs_on_one_channel_the_second_save_is_told_what_changed(page):
    demo = seed_demo(password=PASSWORD)
    channel = make_channel(demo.agency, mid="A0001", name="KCP card", credentials={"site_key": SITE_KEY})
    edit_url = reverse("channels:edit", kwargs={"merchant_code": demo.agency.code,
                                                "channel_key": channel.channel_key})
    log_in(page, "developer@demo.test", PASSWORD)
    tab_a, tab_b = page, page.context.new_page()
    tab_a.goto(edit_url)
    tab_b.goto(edit_url)

    # Tab B changes the MID and saves.
    tab_b.get_by_label("Site code *").fill("B0002")
    tab_b.get_by_role("button", name="Save").click()
    expect(tab_b.get_by_text("Channel saved.")).to_be_visible()

    # Tab A, still showing the old MID, renames the channel and saves: refused, and told why.
    tab_a.get_by_label("Channel name").fill("Renamed in tab A")
    tab_a.get_by_role("button", name="Save").click()
    alert = tab_a.get_by_role("alert")
    expect(alert).to_contain_text("Someone changed this channel while you were editing: "
                                  "Site code is now “B0002”.")
    expect(alert).to_contain_text("Your changes are still in the form and nothing was saved.")
    expect(tab_a.get_by_label("Channel name")).to_have_value("Renamed in tab A")  # theirs, kept
    expect(tab_a.get_by_label("Site code *")).to_have_value("B0002")  # untouched: what is stored now
    stored = Channel.objects.get(pk=channel.pk)
    assert (stored.name, stored.mid) == ("KCP card", "B0002")

    # Saving again writes the form as shown: both tabs' changes, the secret kept.
    tab_a.get_by_role("button", name="Save").click()
    expect(tab_a.get_by_text("Channel saved.")).to_be_visible()
    stored.refresh_from_db()
    assert (stored.name, stored.mid) == ("Renamed in tab A", "B0002")
    assert channel_credentials(stored) == {"site_key": SITE_KEY}
    assert SITE_KEY not in tab_a.content()
    assert [e for e in tab_a.problems.errors if "status of 409" not in e] == []  # the refused save
