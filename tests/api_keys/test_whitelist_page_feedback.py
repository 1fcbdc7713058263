"""The Whitelist page after a refused save: it says nothing was saved, keeps what was typed
without piling up empty rows, and a private range gets a hint."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _url(agency):
    return reverse("console:whitelist", kwargs={"merchant_code": agency.code})


def test_errors_again_and_again_never_pile_up_empty_rows(client, agency, owner):
    client.force_login(owner)
    cidrs, memos = ["203.0.113.0/24", "1.1.1.1/24", ""], ["office", "", ""]  # the page's empty row
    for _ in range(3):  # the operator resubmits the page it got back, empty row included
        response = client.post(_url(agency), {"cidr": cidrs, "memo": memos})
        assert response.status_code == 400
        html = response.content.decode()
        assert html.count('name="cidr"') == 3  # two typed rows and one empty row, every time
        cidrs, memos = ["203.0.113.0/24", "1.1.1.1/24", ""], ["office", "", ""]
    assert "did you mean 1.1.1.0/24?" in html and 'value="203.0.113.0/24"' in html


def test_a_refused_save_says_nothing_was_saved_at_the_top(client, agency, owner):
    client.force_login(owner)
    html = client.post(_url(agency), {"cidr": ["300.1.1.0/24"], "memo": [""]}).content.decode()
    assert "Nothing was saved: fix what is marked below" in html
    assert html.index("Nothing was saved") < html.index('name="cidr"')
    assert not agency.whitelist_rules.exists()


def test_a_private_range_is_saved_with_a_hint(client, agency, owner):
    client.force_login(owner)
    page = client.post(_url(agency), {"cidr": ["10.0.0.0/8", "203.0.113.0/24"], "memo": ["", ""]},
                       follow=True).content.decode()
    assert "Whitelist saved." in page
    assert "Rule 1 (10.0.0.0/8) is a private range" in page
    assert "Rule 2 (203.0.113.0/24) is a private range" not in page
    assert list(agency.whitelist_rules.values_list("cidr", flat=True)) == ["10.0.0.0/8", "203.0.113.0/24"]


def test_every_address_is_asked_once_then_saved_with_a_warning(client, agency, owner):
    client.force_login(owner)
    typed = {"enabled": "on", "cidr": ["0.0.0.0/0", "203.0.113.7"], "memo": ["all", "server"]}
    asked = client.post(_url(agency), typed)
    assert asked.status_code == 400
    html = asked.content.decode()
    assert "0.0.0.0/0 allows every address" in html and 'name="confirm_everyone"' in html
    assert 'value="0.0.0.0/0"' in html and 'value="203.0.113.7"' in html  # kept as typed
    assert not agency.whitelist_rules.exists()
    saved = client.post(_url(agency), {**typed, "confirm_everyone": "on"}, follow=True).content.decode()
    assert "Whitelist saved." in saved
    assert "Rule 1 (0.0.0.0/0) allows every IPv4 address" in saved
    assert "Rule 2: 203.0.113.7 is one address, saved as 203.0.113.7/32." in saved
    assert list(agency.whitelist_rules.values_list("cidr", flat=True)) == ["0.0.0.0/0", "203.0.113.7/32"]
