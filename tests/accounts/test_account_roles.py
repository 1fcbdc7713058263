"""The roles as PortOne documents them, on the Accounts page: who invites whom, what the read-only
roles see, the sub-merchant's own Manager, and the memo on each account; with the bad inputs
(a role one may not give, a memo too long or with HTML), each a clear message and nothing saved.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.services import acceptance, invitations
from console.models import AuditEvent, Invitation, Membership
from console.tenancy.audit import Actor
from tests.accounts.test_accounts import NEW_PASSWORD, send, token_of
from tests.factories import make_member, make_sub_merchant

pytestmark = pytest.mark.django_db

INVITE_FORM = 'aria-label="Invite a member"'


def accounts_url(merchant) -> str:
    return reverse("console:accounts", kwargs={"merchant_code": merchant.code})


def member_url(name, merchant, membership) -> str:
    return reverse(f"console:{name}", kwargs={"merchant_code": merchant.code, "member_id": membership.pk})


def membership(operator, merchant) -> Membership:
    return Membership.objects.get(operator=operator, merchant=merchant)


# --- A Manager invites Viewers ----------------------------------------------------------


def test_a_manager_invites_a_viewer_and_nothing_else(client, agency, owner):
    manager = make_member(agency, "manager")
    client.force_login(manager)
    page = client.get(accounts_url(agency)).content.decode()
    assert INVITE_FORM in page
    assert '<option value="viewer"' in page
    for other in ("owner", "admin", "manager", "developer"):
        assert f'<option value="{other}"' not in page, other
    viewer = membership(make_member(agency, "viewer"), agency)
    assert f'id="role-{viewer.pk}"' not in page  # it changes no member
    response = client.post(accounts_url(agency), {"email": "desk@example.test", "role": "viewer"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="desk@example.test")
    assert (invitation.role, invitation.invited_by) == ("viewer", manager)
    # Accepting checks the sender's authority again: a Manager may still give Viewer.
    accepted = acceptance.invitation_accept(
        invitation=acceptance.invitation_from_token(token_of(send(invitation))), password=NEW_PASSWORD)
    assert accepted.membership.role == "viewer"


@pytest.mark.parametrize("role", ["developer", "admin", "owner", "manager", "root"])
def test_a_manager_posting_another_role_gets_400_and_nothing_is_saved(client, agency, owner, role):
    client.force_login(make_member(agency, "manager"))
    events = AuditEvent.objects.count()
    response = client.post(accounts_url(agency), {"email": "sneaky@example.test", "role": role})
    assert response.status_code == 400
    assert "Select a valid choice. The roles you can give here: Viewer." in response.content.decode()
    assert not Invitation.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_services_say_which_roles_a_role_may_give(agency, owner):
    manager = make_member(agency, "manager")
    with pytest.raises(ValidationError) as exc:
        invitations.invitation_create(actor=Actor(user=manager), merchant=agency, email="x@example.test",
                                      role="developer", actor_role="manager")
    assert exc.value.message_dict["role"] == ["Your role (Manager) can give only: Viewer."]
    developer = make_member(agency, "developer")
    with pytest.raises(ValidationError) as exc:
        invitations.invitation_create(actor=Actor(user=developer), merchant=agency, email="x@example.test",
                                      role="viewer", actor_role="developer")
    assert exc.value.message_dict["role"] == ["Your role (Developer) cannot give roles here."]
    target = membership(make_member(agency, "viewer"), agency)
    with pytest.raises(ValidationError, match=r"Your role \(Manager\) cannot change or remove this member."):
        services.membership_set_role(actor=Actor(user=manager), membership=target, role="manager",
                                     actor_role="manager")
    assert not Invitation.objects.exists()


def test_demoting_a_manager_withdraws_its_viewer_invitations(agency, owner):
    manager = make_member(agency, "manager")
    pending = invitations.invitation_create(actor=Actor(user=manager), merchant=agency, email="v@example.test",
                                            role="viewer", actor_role="manager")
    services.membership_set_role(actor=Actor(user=owner), membership=membership(manager, agency), role="viewer",
                                 actor_role="owner")
    assert not Invitation.objects.get(pk=pending.pk).is_open


# --- Read-only roles --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["developer", "viewer"])
def test_developer_and_viewer_see_the_accounts_page_read_only(client, agency, owner, role):
    invitations.invitation_create(actor=Actor(user=owner), merchant=agency, email="open@example.test",
                                  role="viewer", actor_role="owner", memo="Pending desk")
    other = membership(make_member(agency, "viewer"), agency)
    services.membership_set_memo(actor=Actor(user=owner), membership=other, memo="Audit team", actor_role="owner")
    client.force_login(make_member(agency, role))
    page = client.get(accounts_url(agency))
    html = page.content.decode()
    assert page.status_code == 200
    assert owner.email in html and "Audit team" in html and "Pending desk" in html
    assert "You can see this page; only an owner or the admin can change it." in html
    assert INVITE_FORM not in html and "<select" not in html
    assert 'name="memo"' not in html and ">Remove<" not in html and ">Resend<" not in html
    assert 'id="require_two_factor" name="require_two_factor" disabled' in html


def test_a_developer_sees_the_api_keys_read_only(client, agency, owner):
    from api_keys.services.api_keys import api_key_create

    issued = api_key_create(actor=Actor(user=owner), merchant=agency, name="order server")
    client.force_login(make_member(agency, "developer"))
    html = client.get(reverse("console:api_keys", kwargs={"merchant_code": agency.code})).content.decode()
    assert issued.api_key.key in html and agency.code in html
    assert "Create API key" not in html and "Reissue secret" not in html and ">Revoke<" not in html


@pytest.mark.parametrize("role", ["viewer", "developer"])
def test_a_viewer_and_a_developer_read_the_audit_log(client, agency, owner, role):
    """PortOne's Dev uses the integration and reads the accounts; the audit log is the history
    of both, so it reads it as a Viewer does (issue 22)."""
    services.merchant_update(actor=Actor(user=owner), merchant=agency, contact_name="Lee")
    url = reverse("console:audit_log", kwargs={"merchant_code": agency.code})
    client.force_login(make_member(agency, role))
    page = client.get(url)
    assert page.status_code == 200 and "merchant.update" in page.content.decode()


def test_a_sub_merchant_viewer_reads_only_its_sub_merchants_trail(client, agency, owner):
    seoul, busan = make_sub_merchant(agency, "SEL"), make_sub_merchant(agency, "BSN")
    in_seoul, in_busan = make_member(seoul, "manager"), make_member(busan, "manager")
    in_agency = make_member(agency, "developer")
    client.force_login(make_member(seoul, "viewer"))
    html = client.get(reverse("console:audit_log", kwargs={"merchant_code": seoul.code})).content.decode()
    assert in_seoul.email in html  # its member added, in its own trail
    assert in_busan.email not in html and in_agency.email not in html


# --- A sub-merchant's own Manager ---------------------------------------------------------


@pytest.fixture
def tiers(agency, owner):
    seoul, busan = make_sub_merchant(agency, "SEL"), make_sub_merchant(agency, "BSN")
    manager = make_member(seoul, "manager")
    return {"agency": agency, "seoul": seoul, "busan": busan, "manager": manager}


def test_a_sub_merchant_manager_gives_no_role_on_the_agency_or_a_sibling(client, tiers, owner):
    client.force_login(tiers["manager"])
    for merchant in (tiers["agency"], tiers["busan"]):
        response = client.post(accounts_url(merchant), {"email": "x@example.test", "role": "viewer"})
        assert response.status_code == 404, merchant
    agency_member = membership(make_member(tiers["agency"], "viewer"), tiers["agency"])
    sibling_member = membership(make_member(tiers["busan"], "viewer"), tiers["busan"])
    assert client.post(member_url("member_role", tiers["agency"], agency_member),
                       {"role": "manager"}).status_code == 404
    # Through its own sub-merchant's URL, another merchant's membership is not found either.
    for other in (agency_member, sibling_member):
        assert client.post(member_url("member_role", tiers["seoul"], other), {"role": "manager"}).status_code == 404
        assert client.post(member_url("member_remove", tiers["seoul"], other)).status_code == 404
    assert Membership.objects.get(pk=agency_member.pk).role == "viewer"
    assert Membership.objects.get(pk=sibling_member.pk).role == "viewer"
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", ["developer", "admin", "owner"])
def test_a_sub_merchant_manager_cannot_give_other_roles_on_its_own(client, tiers, role):
    seoul = tiers["seoul"]
    client.force_login(tiers["manager"])
    response = client.post(accounts_url(seoul), {"email": "x@example.test", "role": role})
    assert response.status_code == 400
    assert "Select a valid choice. The roles you can give here: Manager, Viewer." in response.content.decode()
    assert not Invitation.objects.exists()
    viewer = membership(make_member(seoul, "viewer"), seoul)
    response = client.post(member_url("member_role", seoul, viewer), {"role": role})
    assert response.status_code == 400
    assert "A sub-merchant&#x27;s members can only be Manager or Viewer." in response.content.decode()
    assert Membership.objects.get(pk=viewer.pk).role == "viewer"


def test_a_sub_merchant_manager_removes_and_revokes_for_its_own_sub_merchant(client, tiers, owner):
    seoul = tiers["seoul"]
    viewer = membership(make_member(seoul, "viewer"), seoul)
    pending = invitations.invitation_create(actor=Actor(user=owner), merchant=seoul, email="p@example.test",
                                            role="viewer", actor_role="owner")
    client.force_login(tiers["manager"])
    assert client.post(member_url("member_remove", seoul, viewer)).status_code == 302
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    revoke = reverse("console:invitation_revoke", kwargs={"merchant_code": seoul.code, "invitation_id": pending.pk})
    assert client.post(revoke).status_code == 302
    assert not Invitation.objects.get(pk=pending.pk).is_open
    # The two-factor rule binds the agency's owners and admins: not its to set.
    rule = reverse("console:two_factor_policy", kwargs={"merchant_code": seoul.code})
    assert client.post(rule, {"require_two_factor": "on"}).status_code == 403


def test_an_agency_developer_who_is_also_a_sub_merchant_manager_holds_both(client, tiers):
    seoul, busan = tiers["seoul"], tiers["busan"]
    both = make_member(tiers["agency"], "developer")
    make_member(seoul, "manager", operator=both)
    client.force_login(both)
    page = client.get(accounts_url(seoul)).content.decode()
    assert "Sub-merchant Manager" in client.get(
        reverse("console:overview", kwargs={"merchant_code": seoul.code})).content.decode()
    assert INVITE_FORM in page  # the sub-merchant's Manager invites there
    assert client.get(reverse("channels:new", kwargs={"merchant_code": seoul.code})).status_code == 200  # developer
    assert INVITE_FORM not in client.get(accounts_url(busan)).content.decode()  # only a developer there


# --- The memo on each account ------------------------------------------------------------


def test_the_memo_is_set_at_invitation_carried_on_acceptance_and_edited_audited(client, agency, owner):
    client.force_login(owner)
    response = client.post(accounts_url(agency), {"email": "kim@example.test", "role": "developer",
                                                  "memo": "  Checkout team  "})
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="kim@example.test")
    assert invitation.memo == "Checkout team"
    created = AuditEvent.objects.get(action="invitation.create", target_id=str(invitation.pk))
    assert created.changes["memo"] == {"old": None, "new": "Checkout team"}
    accepted = acceptance.invitation_accept(
        invitation=acceptance.invitation_from_token(token_of(send(invitation))), password=NEW_PASSWORD)
    assert accepted.membership.memo == "Checkout team"
    page = client.get(accounts_url(agency)).content.decode()
    assert f'id="memo-{accepted.membership.pk}"' in page and 'value="Checkout team"' in page
    response = client.post(member_url("member_memo", agency, accepted.membership), {"memo": "Payments team"})
    assert response.status_code == 302
    assert Membership.objects.get(pk=accepted.membership.pk).memo == "Payments team"
    event = AuditEvent.objects.get(action="membership.memo")
    assert (event.actor, event.merchant) == (owner, agency)
    assert event.changes == {"memo": {"old": "Checkout team", "new": "Payments team"}}
    # The same memo again changes nothing and records nothing.
    client.post(member_url("member_memo", agency, accepted.membership), {"memo": "Payments team"})
    assert AuditEvent.objects.filter(action="membership.memo").count() == 1


@pytest.mark.parametrize(("memo", "message"), [
    ("x" * 10_000, "The memo is too long: at most 200 characters (this one has 10000)."),
    ("<script>alert(1)</script>", "A memo is plain text: leave out HTML tags (anything like &lt;b&gt; or &lt;/a&gt;)."),
    ("<b>boss</b>", "A memo is plain text"),
    ('<img src=x onerror="alert(1)">', "A memo is plain text"),
])
def test_a_bad_memo_is_refused_with_a_clear_message(client, agency, owner, memo, message):
    client.force_login(owner)
    response = client.post(accounts_url(agency), {"email": "m@example.test", "role": "viewer", "memo": memo})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Invitation.objects.exists()
    target = membership(make_member(agency, "viewer"), agency)
    response = client.post(member_url("member_memo", agency, target), {"memo": memo})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Membership.objects.get(pk=target.pk).memo == ""
    assert not AuditEvent.objects.filter(action="membership.memo").exists()


def test_a_memo_is_shown_escaped(client, agency, owner):
    target = membership(make_member(agency, "viewer"), agency)
    services.membership_set_memo(actor=Actor(user=owner), membership=target, memo='a < b & "c" > d',
                                 actor_role="owner")
    client.force_login(owner)
    html = client.get(accounts_url(agency)).content.decode()
    assert 'value="a &lt; b &amp; &quot;c&quot; &gt; d"' in html
    client.force_login(make_member(agency, "viewer"))  # read-only: the text, escaped
    html = client.get(accounts_url(agency)).content.decode()
    assert "a &lt; b &amp; &quot;c&quot; &gt; d" in html and 'a < b' not in html


def test_only_who_may_manage_a_member_edits_its_memo(client, agency, owner):
    admin = make_member(agency, "admin")
    owner_membership = membership(owner, agency)
    client.force_login(admin)
    response = client.post(member_url("member_memo", agency, owner_membership), {"memo": "boss"})
    assert response.status_code == 400
    assert "Only an owner can change or remove an owner or the admin." in response.content.decode()
    client.force_login(make_member(agency, "manager"))
    viewer = membership(make_member(agency, "viewer"), agency)
    assert client.post(member_url("member_memo", agency, viewer), {"memo": "x"}).status_code == 403
    assert Membership.objects.get(pk=owner_membership.pk).memo == ""
    assert Membership.objects.get(pk=viewer.pk).memo == ""
