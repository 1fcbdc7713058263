"""Sub-merchants page: adding and editing with payment channels, search and paging, deleting
after a confirmation. Every bad input is a clear message and a 4xx with nothing half-saved;
nothing of another merchant is touched."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts import selectors as account_selectors
from accounts import services
from accounts.services import invitations
from channels.models import Channel
from channels.services import channel_assign, channels_assign_set
from console.models import AuditEvent, Invitation, Membership, Merchant
from console.tenancy.audit import SYSTEM, Actor
from tests.factories import make_channel, make_member, make_merchant, make_sub_merchant
from webhooks.models import Delivery
from webhooks.services import endpoint_ensure

pytestmark = pytest.mark.django_db

HTML_NAME = '<b>Bold</b><script>alert("x")</script>'


@pytest.fixture
def admin(agency):
    return make_member(agency, "admin")


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin)
    return client


def list_url(merchant):
    return reverse("console:sub_merchants", kwargs={"merchant_code": merchant.code})


def edit_url(sub):
    return reverse("console:sub_merchant_edit", kwargs={"merchant_code": sub.parent.code,
                                                        "sub_merchant_id": sub.pk})


def delete_url(sub):
    return reverse("console:sub_merchant_delete", kwargs={"merchant_code": sub.parent.code,
                                                          "sub_merchant_id": sub.pk})


def add(client, agency, **fields):
    return client.post(list_url(agency), {"name": "Acme Busan", "tier_code": "BSN",
                                          "webhook_same_as_agency": "on", **fields})


def sub_count(agency) -> int:
    return Merchant.objects.filter(parent=agency).count()


# --- Adding and editing, with channels ------------------------------------------------


def test_adding_with_a_channel_assigns_it_and_records_it(as_admin, agency, admin):
    live = make_channel(agency, mid="A0001", name="KCP card")
    response = add(as_admin, agency, channels=[live.channel_key], service_url="busan.example.com",
                   contact_name="Kim", contact_phone="051-123-4567")
    assert response.status_code == 302, response.content.decode()[:2000]
    sub = agency.sub_merchants.get(tier_code="BSN")
    live.refresh_from_db()
    assert live.assigned_to == sub and live.merchant == agency
    assert sub.service_url == "https://busan.example.com" and sub.webhook_same_as_agency
    assert sub.channels.filter(mode="test").exists()  # its own test channels, as always
    actions = list(AuditEvent.objects.filter(merchant=agency).order_by("id")
                   .values_list("action", "actor_email"))
    assert ("sub_merchant.create", admin.email) in actions
    assert ("channel.assign", admin.email) in actions
    page = as_admin.get(list_url(agency)).content.decode()
    row = page[page.index('data-tier="BSN"'):]
    assert "KCP card · kcp.A0001" in row[:row.index("</tr>")]


def test_the_form_offers_the_agencys_free_live_channels_only(as_admin, agency):
    free = make_channel(agency, mid="F0001", name="Free one")
    elsewhere = make_channel(agency, mid="E0001", name="Taken one")
    seoul = make_sub_merchant(agency, "SEL", name="Seoul")
    channel_assign(actor=SYSTEM, channel=elsewhere, sub_merchant=seoul)
    foreign = make_channel(make_merchant("Other agency"), mid="O0001", name="Not ours")
    agency_test = agency.channels.filter(mode="test").first()

    page = as_admin.get(list_url(agency)).content.decode()
    form = page[page.index('aria-label="Add a sub-merchant"'):]
    assert free.channel_key in form
    assert elsewhere.channel_key not in form and foreign.channel_key not in form
    assert agency_test is None or agency_test.channel_key not in form
    # Editing Seoul: its own channel, checked, and the free one.
    edit = as_admin.get(edit_url(seoul)).content.decode()
    assert free.channel_key in edit and elsewhere.channel_key in edit
    assert f'value="{elsewhere.channel_key}"' in edit and "checked" in edit


def test_editing_changes_the_channels_through_the_same_service(as_admin, agency, admin):
    one, two = make_channel(agency, mid="C0001"), make_channel(agency, mid="C0002")
    sub = services.sub_merchant_create(actor=SYSTEM, agency=agency, name="Seoul", tier_code="SEL",
                                       channel_keys=[one.channel_key])
    response = as_admin.post(edit_url(sub), {"name": "Seoul", "tier_code": "SEL",
                                             "webhook_same_as_agency": "on", "channels": [two.channel_key]})
    assert response.status_code == 302
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.assigned_to is None and two.assigned_to == sub
    rows = AuditEvent.objects.filter(merchant=agency, actor=admin).values_list("action", "target_id")
    assert set(rows) == {("channel.unassign", str(one.pk)), ("channel.assign", str(two.pk))}


def test_a_channel_assigned_to_another_sub_merchant_is_refused(as_admin, agency):
    free = make_channel(agency, mid="F0001")
    taken = make_channel(agency, mid="T0001", name="Seoul's")
    seoul = make_sub_merchant(agency, "SEL", name="Seoul")
    channel_assign(actor=SYSTEM, channel=taken, sub_merchant=seoul)
    before = AuditEvent.objects.count()

    response = add(as_admin, agency, channels=[free.channel_key, taken.channel_key])
    assert response.status_code == 400
    assert "is assigned to Seoul (SEL) already" in response.content.decode()
    assert sub_count(agency) == 1  # only Seoul: nothing half-saved
    # Editing another sub-merchant: neither its name nor any channel changes.
    busan = make_sub_merchant(agency, "BSN", name="Busan")
    before = AuditEvent.objects.count()
    response = as_admin.post(edit_url(busan), {"name": "Busan 2", "tier_code": "BSN",
                                               "channels": [free.channel_key, taken.channel_key]})
    assert response.status_code == 400
    assert "is assigned to Seoul (SEL) already" in response.content.decode()
    busan.refresh_from_db()
    free.refresh_from_db()
    taken.refresh_from_db()
    assert busan.name == "Busan" and free.assigned_to is None and taken.assigned_to == seoul
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("by", ["key", "id"])
def test_another_agencys_channel_is_refused_by_key_or_id(as_admin, agency, by):
    other = make_merchant("Other agency")
    foreign = make_channel(other, mid="O0001")
    value = foreign.channel_key if by == "key" else str(foreign.pk)
    response = add(as_admin, agency, channels=[value])
    assert response.status_code == 400
    assert "only this agency&#x27;s own channels can be assigned" in response.content.decode()
    assert sub_count(agency) == 0
    foreign.refresh_from_db()
    assert foreign.assigned_to is None and foreign.merchant == other
    # The service itself refuses it too (the admin, the REST API and the form share it).
    sub = make_sub_merchant(agency, "A01")
    with pytest.raises(ValidationError) as exc:
        channels_assign_set(actor=SYSTEM, sub_merchant=sub, channel_keys=[value, "x\x00y"])
    assert "channels" in exc.value.message_dict


@pytest.mark.parametrize(("tier_code", "message"), [
    ("A01", "The tier code A01 is taken"),
    ("A-1", "exactly 3 uppercase letters or digits"),
    ("ABCD", "at most 3 characters"),
    ("", "This field is required."),
])
def test_a_taken_or_malformed_tier_code_is_refused(as_admin, agency, tier_code, message):
    sub = make_sub_merchant(agency, "A01", name="Seoul")
    free = make_channel(agency, mid="F0001")
    response = add(as_admin, agency, tier_code=tier_code, channels=[free.channel_key])
    assert response.status_code == 400 and message in response.content.decode()
    assert sub_count(agency) == 1
    other = make_sub_merchant(agency, "A02")
    edited = "a01" if tier_code == "A01" else tier_code  # lower case is still A01, taken
    response = as_admin.post(edit_url(other), {"name": "X", "tier_code": edited, "channels": [free.channel_key]})
    assert response.status_code == 400 and message in response.content.decode()
    other.refresh_from_db()
    free.refresh_from_db()
    assert other.tier_code == "A02" and other.name != "X" and free.assigned_to is None
    assert sub.tier_code == "A01"


def test_a_name_of_ten_thousand_characters_is_refused(as_admin, agency):
    response = add(as_admin, agency, name="x" * 10_000)
    assert response.status_code == 400
    assert "Ensure this value has at most 100 characters (it has 10000)." in response.content.decode()
    assert sub_count(agency) == 0
    with pytest.raises(ValidationError) as exc:  # the service says the same to any caller
        services.sub_merchant_create(actor=SYSTEM, agency=agency, name="x" * 10_000, tier_code="A01")
    assert "at most 100 characters" in " ".join(exc.value.message_dict["name"])
    with pytest.raises(ValidationError) as exc:
        services.sub_merchant_create(actor=SYSTEM, agency=agency, name="Line\nbreak", tier_code="A01")
    assert "control characters" in " ".join(exc.value.message_dict["name"])
    assert sub_count(agency) == 0


def test_a_name_with_html_is_escaped_everywhere_it_shows(as_admin, agency):
    live = make_channel(agency, mid="H0001")
    response = add(as_admin, agency, name=HTML_NAME, channels=[live.channel_key])
    assert response.status_code == 302
    sub = agency.sub_merchants.get()
    assert sub.name == HTML_NAME  # stored as typed
    pages = {
        "list (with the flash message)": as_admin.get(list_url(agency)),
        "search": as_admin.get(list_url(agency), {"q": "<b>"}),
        "edit": as_admin.get(edit_url(sub)),
        "delete": as_admin.get(delete_url(sub)),
        "its overview (switcher)": as_admin.get(reverse("console:overview", kwargs={"merchant_code": sub.code})),
        "channels": as_admin.get(reverse("channels:list", kwargs={"merchant_code": agency.code})),
        "audit log": as_admin.get(reverse("console:audit_log", kwargs={"merchant_code": agency.code})),
    }
    for where, page in pages.items():
        html = page.content.decode()
        assert page.status_code == 200, where
        assert "<script>alert" not in html and "<b>Bold</b>" not in html, where
        assert "&lt;script&gt;alert(" in html or "&lt;b&gt;Bold&lt;/b&gt;" in html, where


# --- Search and paging ----------------------------------------------------------------


def test_search_by_name_or_tier_code_with_paging(as_admin, agency, monkeypatch, django_assert_max_num_queries):
    for i in range(7):
        make_sub_merchant(agency, f"S{i:02d}", name=f"Seoul store {i}")
    make_sub_merchant(agency, "BSN", name="Busan")
    make_sub_merchant(make_merchant("Other agency"), "S99", name="Seoul elsewhere")
    monkeypatch.setattr(account_selectors, "SUB_MERCHANTS_PER_PAGE", 3)

    def tiers(response) -> list[str]:
        html = response.content.decode()
        return [part.split('"', 1)[0] for part in html.split('data-tier="')[1:]]

    with django_assert_max_num_queries(10):
        first = as_admin.get(list_url(agency), {"q": "seoul"})
    assert first.status_code == 200 and tiers(first) == ["S00", "S01", "S02"]
    assert "7 sub-merchants" in first.content.decode()
    assert "?q=seoul&amp;page=2" in first.content.decode()  # paging keeps the search
    assert tiers(as_admin.get(list_url(agency), {"q": "seoul", "page": 3})) == ["S06"]
    assert tiers(as_admin.get(list_url(agency), {"q": "bsn"})) == ["BSN"]  # tier code, any case
    assert tiers(as_admin.get(list_url(agency), {"q": "s0"})) == ["S00", "S01", "S02"]
    none = as_admin.get(list_url(agency), {"q": "Jeju"})
    assert tiers(none) == [] and "No sub-merchant has “Jeju” in its name or tier code." in none.content.decode()
    assert as_admin.get(list_url(agency), {"q": "x" * 500, "page": "zz"}).status_code == 200
    assert as_admin.get(list_url(agency), {"q": "x\x00"}).status_code == 400  # NUL: console.tenancy.inputs


def test_the_list_query_count_does_not_grow_with_sub_merchants_or_channels(
    as_admin, agency, django_assert_max_num_queries
):
    for i in range(12):
        sub = make_sub_merchant(agency, f"Q{i:02d}")
        channel_assign(actor=SYSTEM, channel=make_channel(agency, mid=f"Q{i:04d}"), sub_merchant=sub)
    make_channel(agency, mid="FREE1")
    with django_assert_max_num_queries(10):
        response = as_admin.get(list_url(agency), {"q": "q"})
    assert response.status_code == 200 and response.content.decode().count("data-tier=") == 12


# --- Deleting -------------------------------------------------------------------------


@pytest.fixture
def doomed(agency, owner):
    """A sub-merchant with everything deletion touches, and another agency's look-alike."""
    sub = make_sub_merchant(agency, "SEL", name="Seoul")
    assigned = make_channel(agency, mid="A0001", name="Agency card")
    channel_assign(actor=SYSTEM, channel=assigned, sub_merchant=sub)
    own_live = make_channel(sub, mid="L0001", name="Seoul's own")
    member = make_member(sub, "manager")
    invitation = invitations.invitation_create(
        actor=Actor(user=owner), merchant=sub, email="pending@example.test", role="viewer",
        actor_role="owner", origin="http://testserver")
    other = make_merchant("Other agency")
    twin = make_sub_merchant(other, "SEL", name="Other Seoul")
    twin_channel = make_channel(other, mid="A0001", name="Other card")
    channel_assign(actor=SYSTEM, channel=twin_channel, sub_merchant=twin)
    twin_member = make_member(twin, "manager")
    return {"sub": sub, "assigned": assigned, "own_live": own_live, "member": member,
            "invitation": invitation, "other": other, "twin": twin, "twin_channel": twin_channel,
            "twin_member": twin_member}


def test_the_confirmation_page_says_what_follows(as_admin, doomed):
    page = as_admin.get(delete_url(doomed["sub"]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Delete Seoul (SEL)?" in html
    assert "These channels are this agency's again" in html and "Agency card · kcp.A0001" in html
    assert doomed["member"].email in html and "lose access" in html
    assert "pending@example.test" in html and "revoked" in html
    assert "Seoul&#x27;s own · kcp.L0001" in html and "stored credentials" in html
    assert "The tier code SEL is free again" in html
    assert "stay in this agency's delivery log" in html
    assert "Audit rows recorded on the sub-merchant itself are kept with their text" in html
    assert Merchant.objects.filter(pk=doomed["sub"].pk).exists()  # a GET deletes nothing


def test_deleting_returns_channels_ends_access_and_frees_the_tier_code(as_admin, agency, admin, doomed):
    sub = doomed["sub"]
    sub_pk, sub_code = sub.pk, sub.code
    own_event = AuditEvent.objects.filter(merchant=sub).first()
    assert own_event is not None  # e.g. its test channels being made
    response = as_admin.post(delete_url(sub), follow=True)
    assert response.status_code == 200
    assert ("Sub-merchant Seoul deleted. Channels back with this agency: 1. Members who lost access: 1. "
            "Invitations revoked: 1. The tier code SEL is free again.") in response.content.decode()

    assert not Merchant.objects.filter(pk=sub_pk).exists()
    doomed["assigned"].refresh_from_db()
    assert doomed["assigned"].assigned_to is None and doomed["assigned"].merchant == agency
    assert not Channel.objects.filter(pk=doomed["own_live"].pk).exists()
    assert not Membership.objects.filter(operator=doomed["member"]).exists()
    assert not Invitation.objects.filter(pk=doomed["invitation"].pk).exists()
    member = Client()
    member.force_login(doomed["member"])
    assert member.get(reverse("console:overview", kwargs={"merchant_code": sub_code})).status_code == 404

    # The agency's trail: the deletion, naming what it removed, and the channel coming back.
    event = AuditEvent.objects.get(action="sub_merchant.delete")
    assert event.merchant == agency and event.actor == admin and event.target_id == str(sub_pk)
    assert event.changes["tier_code"] == {"old": "SEL", "new": None}
    assert event.changes["channels"]["old"] == ["Agency card · kcp.A0001"]
    assert event.changes["members"]["old"] == [f"{doomed['member'].email} (manager)"]
    assert event.changes["invitations"]["old"] == ["pending@example.test (viewer)"]
    assert event.changes["own_channels"]["old"][0] == "Seoul's own · kcp.L0001"
    assert AuditEvent.objects.filter(merchant=agency, action="channel.unassign",
                                     target_id=str(doomed["assigned"].pk)).exists()
    own_event.refresh_from_db()
    assert own_event.merchant is None and own_event.target_repr  # kept, with its text

    # The tier code is free: a new sub-merchant takes it.
    assert add(as_admin, agency, name="New Seoul", tier_code="SEL").status_code == 302

    # Nothing of the other agency moved.
    for name in ("twin", "twin_channel", "twin_member"):
        doomed[name].refresh_from_db()
    assert doomed["twin"].tier_code == "SEL"
    assert doomed["twin_channel"].assigned_to == doomed["twin"]
    assert Membership.objects.filter(operator=doomed["twin_member"], merchant=doomed["twin"]).exists()
    assert not AuditEvent.objects.filter(merchant=doomed["other"], created_at__gte=event.created_at).exists()


def test_deleting_keeps_what_went_through_the_agencys_webhook_endpoint(as_admin, agency):
    sub = make_sub_merchant(agency, "SEL")

    def delivery(merchant, endpoint):
        return Delivery.objects.create(
            merchant=merchant, endpoint=endpoint, mode="live", trigger="event", event="paid",
            url="https://example.com/hook", content_type="json", version="v1", body="{}",
            status="succeeded")

    via_agency = delivery(sub, endpoint_ensure(merchant=agency, mode="live"))
    via_own = delivery(sub, endpoint_ensure(merchant=sub, mode="live"))
    assert as_admin.post(delete_url(sub)).status_code == 302
    via_agency.refresh_from_db()
    assert via_agency.merchant == agency  # still in the agency's delivery log
    log = as_admin.get(reverse("webhooks:deliveries", kwargs={"merchant_code": agency.code}))
    assert via_agency.message_id in log.content.decode()
    assert not Delivery.objects.filter(pk=via_own.pk).exists()
    event = AuditEvent.objects.get(action="sub_merchant.delete")
    assert event.changes["deliveries_kept_by_agency"] == {"old": None, "new": 1}


def test_deleting_twice_says_it_was_deleted(as_admin, agency, admin):
    sub = make_sub_merchant(agency, "SEL", name="Seoul")
    assert as_admin.post(delete_url(sub)).status_code == 302
    for response in (as_admin.post(delete_url(sub)), as_admin.get(delete_url(sub)),
                     as_admin.get(edit_url(sub)), as_admin.post(edit_url(sub), {"name": "X", "tier_code": "SEL"})):
        html = response.content.decode()
        assert response.status_code == 404
        assert "Seoul (SEL) was deleted already" in html and admin.email in html
    assert AuditEvent.objects.filter(action="sub_merchant.delete").count() == 1
    # The service, called twice (two tabs at once), refuses the second.
    again = make_sub_merchant(agency, "BSN")
    services.sub_merchant_delete(actor=SYSTEM, sub_merchant=again)
    with pytest.raises(services.merchants.SubMerchantGone):
        services.sub_merchant_delete(actor=SYSTEM, sub_merchant=again)


def test_only_the_agencys_owner_and_admin_delete(client, agency):
    sub = make_sub_merchant(agency, "SEL")
    for role in ("manager", "developer", "viewer"):
        client.force_login(make_member(agency, role))
        assert client.get(delete_url(sub)).status_code == 403
        assert client.post(delete_url(sub)).status_code == 403
    client.force_login(make_member(sub, "manager"))  # its own manager: the agency's page is not theirs
    assert client.post(delete_url(sub)).status_code == 404
    # Another agency's owner, naming this sub-merchant's id through their own agency.
    other = make_merchant("Other agency")
    client.force_login(make_member(other, "owner"))
    url = reverse("console:sub_merchant_delete", kwargs={"merchant_code": other.code, "sub_merchant_id": sub.pk})
    assert client.post(url).status_code == 404
    assert Merchant.objects.filter(pk=sub.pk).exists()
