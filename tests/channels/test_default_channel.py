"""The default channel is never lost without a word (issue 13, item 3).

Disabling or deleting the default asks which channel takes over, or says there will be
none; a disabled channel or one assigned to a sub-merchant cannot be the default, and the
database refuses both as well.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from channels import services
from channels.models import Channel
from console.models import AuditEvent
from console.tenancy.audit import SYSTEM
from tests.factories import make_channel, make_merchant, make_sub_merchant

pytestmark = pytest.mark.django_db


def url(name, merchant, **kw):
    return reverse(f"channels:{name}", kwargs={"merchant_code": merchant.code, **kw})


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def default(agency):
    channel = make_channel(agency, name="Main card")
    return services.channel_make_default(actor=SYSTEM, channel=channel)


def _defaults(merchant):
    return list(Channel.objects.filter(merchant=merchant, is_default=True).values_list("name", flat=True))


# --- services -----------------------------------------------------------------


def test_disabling_the_default_without_saying_what_follows_is_refused(agency, default):
    with pytest.raises(ValidationError) as caught:
        services.channel_set_enabled(actor=SYSTEM, channel=default, enabled=False)
    assert "successor" in caught.value.message_dict
    default.refresh_from_db()
    assert (default.enabled, default.is_default) == (True, True)
    assert not AuditEvent.objects.filter(action="channel.disable").exists()


def test_disabling_the_default_hands_it_over(agency, default):
    other = make_channel(agency, name="Backup card")
    services.channel_set_enabled(actor=SYSTEM, channel=default, enabled=False, successor=other)
    default.refresh_from_db()
    other.refresh_from_db()
    assert (default.enabled, default.is_default, other.is_default) == (False, False, True)
    actions = list(AuditEvent.objects.filter(merchant=agency, action__startswith="channel.d")
                   .order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["channel.default_unset", "channel.default_set", "channel.disable"]


def test_disabling_the_default_with_none_leaves_no_default(agency, default):
    services.channel_set_enabled(actor=SYSTEM, channel=default, enabled=False, successor=None)
    assert _defaults(agency) == []
    assert AuditEvent.objects.filter(merchant=agency, action="channel.default_unset").exists()


def test_deleting_the_default_asks_too(agency, default):
    other = make_channel(agency, name="Backup card")
    with pytest.raises(ValidationError):
        services.channel_delete(actor=SYSTEM, channel=default)
    assert Channel.objects.filter(pk=default.pk).exists()
    services.channel_delete(actor=SYSTEM, channel=default, successor=other)
    assert _defaults(agency) == ["Backup card"]


@pytest.mark.parametrize("unfit", ["disabled", "assigned", "foreign"])
def test_an_unfit_successor_is_refused_and_nothing_changes(agency, default, unfit):
    if unfit == "disabled":
        successor = make_channel(agency, name="Off")
        services.channel_set_enabled(actor=SYSTEM, channel=successor, enabled=False)
    elif unfit == "assigned":
        successor = make_channel(agency, name="Sub's")
        services.channel_assign(actor=SYSTEM, channel=successor, sub_merchant=make_sub_merchant(agency, "A01"))
    else:
        successor = make_channel(make_merchant("Other"), name="Theirs")
    with pytest.raises(ValidationError) as caught:
        services.channel_set_enabled(actor=SYSTEM, channel=default, enabled=False, successor=successor)
    assert "successor" in caught.value.message_dict
    default.refresh_from_db()
    assert (default.enabled, default.is_default) == (True, True)


def test_a_disabled_or_assigned_channel_cannot_become_the_default(agency):
    off = make_channel(agency)
    services.channel_set_enabled(actor=SYSTEM, channel=off, enabled=False)
    with pytest.raises(ValidationError, match="disabled channel cannot be the default"):
        services.channel_make_default(actor=SYSTEM, channel=off)
    sub_channel = make_channel(agency)
    services.channel_assign(actor=SYSTEM, channel=sub_channel, sub_merchant=make_sub_merchant(agency, "A01"))
    with pytest.raises(ValidationError, match="assigned to a sub-merchant"):
        services.channel_make_default(actor=SYSTEM, channel=sub_channel)
    assert _defaults(agency) == []


def test_the_default_cannot_be_assigned_to_a_sub_merchant(agency, default):
    sub = make_sub_merchant(agency, "A01")
    with pytest.raises(ValidationError, match="default channel cannot be assigned"):
        services.channel_assign(actor=SYSTEM, channel=default, sub_merchant=sub)
    with pytest.raises(ValidationError, match="default channel cannot be assigned"):
        services.channels_assign_set(actor=SYSTEM, sub_merchant=sub, channel_keys=[default.channel_key])
    default.refresh_from_db()
    assert default.assigned_to_id is None


@pytest.mark.parametrize("change", [{"enabled": False}, {"assigned_to_id": "sub"}])
def test_the_database_refuses_a_disabled_or_assigned_default(agency, default, change):
    if change.get("assigned_to_id") == "sub":
        change = {"assigned_to_id": make_sub_merchant(agency, "A01").pk}
    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.filter(pk=default.pk).update(**change)


# --- pages --------------------------------------------------------------------


def test_the_default_card_disables_through_a_page_that_asks(owner_client, agency, default):
    other = make_channel(agency, name="Backup card")
    html = owner_client.get(url("list", agency)).content.decode()
    assert f'href="{url("disable", agency, channel_key=default.channel_key)}"' in html
    page = owner_client.get(url("disable", agency, channel_key=default.channel_key)).content.decode()
    assert "This is the default channel" in page and other.channel_key in page
    assert "No default channel" in page

    unanswered = owner_client.post(url("disable", agency, channel_key=default.channel_key), {})
    assert unanswered.status_code == 400
    assert "Choose which channel becomes the default, or no default." in unanswered.content.decode()
    default.refresh_from_db()
    assert default.enabled

    done = owner_client.post(url("disable", agency, channel_key=default.channel_key),
                             {"successor": other.channel_key}, follow=True)
    assert "Channel disabled. The default channel is now: " in done.content.decode()
    assert _defaults(agency) == ["Backup card"]


def test_a_stale_disable_button_on_what_became_the_default_asks_instead(owner_client, agency, default):
    response = owner_client.post(url("set_enabled", agency, channel_key=default.channel_key), {"enabled": "0"})
    assert response.status_code == 302
    assert response["Location"] == url("disable", agency, channel_key=default.channel_key)
    default.refresh_from_db()
    assert default.enabled and default.is_default


def test_deleting_the_default_with_no_default_says_so(owner_client, agency, default):
    page = owner_client.get(url("delete", agency, channel_key=default.channel_key)).content.decode()
    assert "This is the default channel" in page
    done = owner_client.post(url("delete", agency, channel_key=default.channel_key),
                             {"successor": "none"}, follow=True)
    html = done.content.decode()
    assert "This merchant has no default channel now." in html
    make_channel(agency)
    listing = owner_client.get(url("list", agency)).content.decode()
    assert "This merchant has no default channel: a payment must name its channel" in listing


def test_a_successor_from_another_merchant_is_a_form_error_not_a_500(owner_client, agency, default):
    theirs = make_channel(make_merchant("Other"))
    response = owner_client.post(url("delete", agency, channel_key=default.channel_key),
                                 {"successor": theirs.channel_key})
    assert response.status_code == 400
    assert "Choose a channel from the list." in response.content.decode()
    assert Channel.objects.filter(pk=default.pk, is_default=True).exists()


def test_a_non_default_card_offers_no_make_default_when_it_cannot_be(owner_client, agency):
    off = make_channel(agency)
    services.channel_set_enabled(actor=SYSTEM, channel=off, enabled=False)
    html = owner_client.get(url("list", agency)).content.decode()
    assert url("make_default", agency, channel_key=off.channel_key) not in html
