"""Small mismatches an operator trips over: limits the browser and the server disagree on,
raw values on cards, staff sent to a page that is not theirs."""

import re

import pytest
from django.urls import reverse

from channels.models import Channel
from console.models import WhitelistRule
from tests.factories import OperatorFactory, make_channel

pytestmark = pytest.mark.django_db


def _maxlength(html: str, name: str) -> int:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*maxlength="(\d+)"', html) or \
        re.search(rf'<input[^>]*maxlength="(\d+)"[^>]*name="{name}"', html)
    assert match, f"no maxlength on {name}"
    return int(match.group(1))


def test_the_whitelist_form_takes_its_limits_from_the_model(client, agency, owner):
    client.force_login(owner)
    html = client.get(reverse("console:whitelist", kwargs={"merchant_code": agency.code})).content.decode()
    assert _maxlength(html, "memo") == WhitelistRule._meta.get_field("memo").max_length
    assert _maxlength(html, "cidr") == WhitelistRule._meta.get_field("cidr").max_length
    row = client.get(reverse("console:whitelist_row", kwargs={"merchant_code": agency.code})).content.decode()
    assert _maxlength(row, "memo") == WhitelistRule._meta.get_field("memo").max_length


def test_the_channel_form_takes_the_name_limit_from_the_model(client, agency, owner):
    channel = make_channel(agency, mid="NAMEX")
    client.force_login(owner)
    html = client.get(reverse("channels:edit", kwargs={"merchant_code": agency.code,
                                                       "channel_key": channel.channel_key})).content.decode()
    assert _maxlength(html, "name") == Channel._meta.get_field("name").max_length


def test_a_card_shows_payment_methods_by_their_names(client, agency, owner):
    make_channel(agency, mid="PAYMT", name="Methods", payment_methods=["card", "vbank"])
    client.force_login(owner)
    html = client.get(reverse("channels:list", kwargs={"merchant_code": agency.code}) + "?mode=live").content.decode()
    assert "Card, Virtual account" in html
    assert "card, vbank" not in html


def test_staff_without_a_merchant_land_in_the_admin(client):
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    nobody = OperatorFactory()
    client.force_login(nobody)
    assert "No merchant yet" in client.get(reverse("home")).content.decode()


def test_the_api_key_form_takes_the_name_limit_from_the_model(client, agency, owner):
    from console.models import ApiKey

    client.force_login(owner)
    html = client.get(reverse("console:api_keys", kwargs={"merchant_code": agency.code})).content.decode()
    assert _maxlength(html, "name") == ApiKey._meta.get_field("name").max_length
