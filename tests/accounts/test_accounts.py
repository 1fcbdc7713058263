"""Accounts: invitations, roles and their limits, sub-merchants, the two-factor rule, audit filters.

Services are tested directly; pages through the test client, including every role against
every action and the bad inputs the issue names (each a clear message and a 4xx).
"""

import copy
import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.services import acceptance, invitations
from console.models import AuditEvent, Invitation, Membership, Merchant, Operator
from console.tenancy.audit import SYSTEM, Actor
from console.tenancy.roles import Role, assignable_roles
from tests.factories import (
    TEST_PASSWORD,
    OperatorFactory,
    make_member,
    make_merchant,
    make_sub_merchant,
)
from tests.roles_world import ROLES, action_request, world_build

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-fresh-passphrase-42"


def invite(merchant, email, role="viewer", *, by=None, actor_role="owner"):
    return invitations.invitation_create(
        actor=Actor(user=by), merchant=merchant, email=email, role=role, actor_role=actor_role,
        origin="http://testserver",
    )


def send(invitation) -> str:
    """Send the invitation (as the worker would) and return the link in the mail."""
    before = len(mail.outbox)
    assert invitations.invitation_send(invitation.pk) is True
    assert len(mail.outbox) == before + 1
    body = mail.outbox[-1].body
    return re.search(r"http://testserver(/accounts/invitation/\S+/)", body).group(1)


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


ACCEPT = "/accounts/invitation/accept/"  # where the emailed link hands over, without its token


def open_link(client, path: str):
    """Open the emailed link as a browser does: it redirects to the accept step."""
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == ACCEPT
    return client.get(ACCEPT)


# --- Invitations: services ------------------------------------------------------


def test_invite_then_accept_makes_the_account(agency, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        invitation = invite(agency, "New.Person@Example.test", "developer", by=owner)
    assert len(callbacks) == 1  # the mail goes out from the worker, after commit
    assert invitation.email == "new.person@example.test"
    path = send(invitation)
    message = mail.outbox[-1]
    assert message.to == ["new.person@example.test"]
    assert agency.name in message.subject and "Developer" in message.body
    # The subject names the merchant once; the Korean half calls the product as the console does.
    assert message.subject.count(agency.name) == 1 and "초대" in message.subject
    english, korean = message.body.split("----")
    assert "PG Console" in english and "PG 콘솔" in korean and "PG Console" not in korean
    assert "개발자" in korean

    found = acceptance.invitation_from_token(token_of(path))
    accepted = acceptance.invitation_accept(invitation=found, password=NEW_PASSWORD, full_name="New Person")
    assert accepted.created_account
    operator = Operator.objects.get(email="new.person@example.test")
    assert operator.check_password(NEW_PASSWORD) and operator.full_name == "New Person"
    assert Membership.objects.get(operator=operator, merchant=agency).role == "developer"
    actions = list(AuditEvent.objects.filter(merchant=agency).values_list("action", flat=True))
    assert {"invitation.create", "invitation.accept", "membership.create"} <= set(actions)

    # The link works once.
    with pytest.raises(acceptance.InvitationInvalid) as exc:
        acceptance.invitation_from_token(token_of(path))
    assert exc.value.status == 410 and "already used" in exc.value.message


def test_the_database_never_holds_a_working_link(agency, owner):
    invitation = invite(agency, "x@example.test", by=owner)
    token = token_of(send(invitation))
    nonce = signing.loads(token, salt=invitations.SALT)["n"]
    invitation.refresh_from_db()
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert not any(nonce in str(value) or token in str(value) for value in row.values())
    assert invitation.token_hash and len(invitation.token_hash) == 64
    events = AuditEvent.objects.filter(target_type="console.invitation").values()
    assert not any(nonce in str(value) for event in events for value in event.values())


def test_existing_operator_just_gains_the_membership(agency, owner):
    somebody = OperatorFactory(email="known@example.test")
    invitation = invite(agency, "KNOWN@example.test", "manager", by=owner)
    found = acceptance.invitation_from_token(token_of(send(invitation)))
    with pytest.raises(ValidationError, match="log in to accept"):
        acceptance.invitation_accept(invitation=found, password=NEW_PASSWORD)
    accepted = acceptance.invitation_accept(invitation=found, operator=somebody)
    assert not accepted.created_account
    assert somebody.check_password(TEST_PASSWORD)  # untouched
    assert Membership.objects.get(operator=somebody, merchant=agency).role == "manager"
    assert Operator.objects.filter(email__iexact="known@example.test").count() == 1


def test_another_logged_in_operator_cannot_take_the_invitation(agency, owner):
    invitation = invite(agency, "meant@example.test", by=owner)
    found = acceptance.invitation_from_token(token_of(send(invitation)))
    with pytest.raises(ValidationError, match="is for meant@example.test"):
        acceptance.invitation_accept(invitation=found, operator=owner)
    assert not Membership.objects.filter(merchant=agency, operator__email="meant@example.test").exists()


def test_resend_replaces_the_link_and_revoke_ends_it(agency, owner):
    invitation = invite(agency, "again@example.test", by=owner)
    first = send(invitation)
    with pytest.raises(ValidationError, match="less than a minute ago"):  # no mail flood
        invitations.invitation_resend(actor=Actor(user=owner), invitation=invitation)
    assert acceptance.invitation_from_token(token_of(first))  # the refused resend changed nothing
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(minutes=2))
    invitations.invitation_resend(actor=Actor(user=owner), invitation=invitation)
    with pytest.raises(acceptance.InvitationInvalid):  # ended at once, before the new mail
        acceptance.invitation_from_token(token_of(first))
    second = send(invitation)
    invitation.refresh_from_db()
    assert invitation.send_count == 2
    with pytest.raises(acceptance.InvitationInvalid, match="replaced by a newer invitation"):
        acceptance.invitation_from_token(token_of(first))
    assert acceptance.invitation_from_token(token_of(second)).pk == invitation.pk

    invitations.invitation_revoke(actor=Actor(user=owner), invitation=invitation)
    with pytest.raises(acceptance.InvitationInvalid, match="withdrawn"):
        acceptance.invitation_from_token(token_of(second))
    assert invitations.invitation_send(invitation.pk) is False  # nothing more goes out
    actions = set(AuditEvent.objects.filter(target_type="console.invitation").values_list("action", flat=True))
    assert {"invitation.create", "invitation.resend", "invitation.revoke"} <= actions


def test_expired_link_is_refused_with_a_clear_message(agency, owner):
    invitation = invite(agency, "late@example.test", by=owner)
    token = token_of(send(invitation))
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(acceptance.InvitationInvalid, match="expired") as exc:
        acceptance.invitation_from_token(token)
    assert exc.value.status == 410


@pytest.mark.parametrize("token", [
    "", "garbage", "a" * 500, "eyJpIjoxLCJuIjoieCJ9:1vABCD:forged-signature",
    signing.dumps({"i": 1, "n": "x"}, salt="another.salt"),
    signing.dumps({"i": "not-a-number", "n": "x"}, salt=invitations.SALT),
    signing.dumps(["a", "list"], salt=invitations.SALT),
], ids=["empty", "garbage", "long", "forged", "other-salt", "bad-id", "a-list"])  # the same in every xdist worker
def test_malformed_links_are_refused(token):
    with pytest.raises(acceptance.InvitationInvalid, match="not valid") as exc:
        acceptance.invitation_from_token(token)
    assert exc.value.status == 400


def test_a_signed_link_naming_a_missing_invitation_is_gone():
    token = signing.dumps({"i": 987654, "n": "x"}, salt=invitations.SALT)
    with pytest.raises(acceptance.InvitationInvalid) as exc:
        acceptance.invitation_from_token(token)
    assert exc.value.status == 410


def test_an_email_that_is_already_a_member_is_refused(agency, owner):
    member = make_member(agency, "viewer")
    with pytest.raises(ValidationError) as exc:
        invite(agency, member.email.upper(), by=owner)
    assert exc.value.message_dict["email"] == [f"{member.email} is already a member of this merchant."]
    sub = make_sub_merchant(agency, "S01")
    with pytest.raises(ValidationError, match="as a member of the agency"):
        invite(sub, member.email, "viewer", by=owner)


def test_a_second_open_invitation_to_one_email_is_refused_until_it_expires(agency, owner):
    first = invite(agency, "twice@example.test", by=owner)
    with pytest.raises(ValidationError, match="already has an open invitation"):
        invite(agency, "twice@example.test", by=owner)
    Invitation.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(days=1))
    second = invite(agency, "twice@example.test", by=owner)
    first.refresh_from_db()
    assert first.revoked_at is not None and second.is_open


# --- Role rules -------------------------------------------------------------------


def test_one_admin_per_merchant_counting_open_invitations(agency, owner):
    invite(agency, "admin1@example.test", "admin", by=owner)
    with pytest.raises(ValidationError, match="already has an admin"):
        invite(agency, "admin2@example.test", "admin", by=owner)
    viewer = make_member(agency, "viewer")
    membership = Membership.objects.get(operator=viewer, merchant=agency)
    with pytest.raises(ValidationError, match="already has an admin"):
        services.membership_set_role(actor=SYSTEM, membership=membership, role="admin", actor_role="owner")
    assert Membership.objects.get(pk=membership.pk).role == "viewer"


def test_at_most_ten_developers(agency, owner):
    for _ in range(services.MAX_DEVELOPERS - 1):
        make_member(agency, "developer")
    invite(agency, "tenth@example.test", "developer", by=owner)
    with pytest.raises(ValidationError, match="already has 10 developers"):
        invite(agency, "eleventh@example.test", "developer", by=owner)
    with pytest.raises(ValidationError, match="already has 10 developers"):
        make_member(agency, "developer")
    assert Membership.objects.filter(merchant=agency, role="developer").count() == 9


def test_the_last_owner_can_be_neither_demoted_nor_removed(agency, owner):
    membership = Membership.objects.get(operator=owner, merchant=agency)
    with pytest.raises(ValidationError, match="last owner"):
        services.membership_set_role(actor=Actor(user=owner), membership=membership, role="admin", actor_role="owner")
    with pytest.raises(ValidationError, match="last owner"):
        services.membership_delete(actor=Actor(user=owner), membership=membership, actor_role="owner")
    assert Membership.objects.get(pk=membership.pk).role == "owner"
    second = make_member(agency, "owner")
    services.membership_set_role(actor=Actor(user=second), membership=membership, role="manager", actor_role="owner")
    assert Membership.objects.get(pk=membership.pk).role == "manager"


def test_an_admin_manages_everyone_but_owners_and_admins(agency, owner):
    admin = make_member(agency, "admin")
    by_admin = Actor(user=admin)
    owner_membership = Membership.objects.get(operator=owner, merchant=agency)
    with pytest.raises(ValidationError, match="Only an owner"):
        services.membership_set_role(actor=by_admin, membership=owner_membership, role="viewer",
                                     actor_role="admin")
    with pytest.raises(ValidationError, match="Only an owner"):
        services.membership_delete(actor=by_admin, membership=owner_membership, actor_role="admin")
    with pytest.raises(ValidationError, match="Only an owner can give"):
        invite(agency, "boss@example.test", "owner", by=admin, actor_role="admin")
    dev = Membership.objects.get(operator=make_member(agency, "developer"), merchant=agency)
    services.membership_set_role(actor=by_admin, membership=dev, role="manager", actor_role="admin")
    with pytest.raises(ValidationError, match="Only an owner can give"):
        services.membership_set_role(actor=by_admin, membership=dev, role="owner", actor_role="admin")
    services.membership_delete(actor=by_admin, membership=dev, actor_role="admin")
    assert not Membership.objects.filter(pk=dev.pk).exists()
    # an admin may leave
    services.membership_delete(actor=by_admin, membership=Membership.objects.get(operator=admin),
                               actor_role="admin")


def test_sub_merchant_members_are_manager_or_viewer(agency, owner):
    sub = make_sub_merchant(agency, "S01")
    for role in ("owner", "admin", "developer"):
        with pytest.raises(ValidationError, match="only be Manager or Viewer"):
            invite(sub, f"{role}@example.test", role, by=owner)
        with pytest.raises(ValidationError, match="only be Manager or Viewer"):
            make_member(sub, role)
    manager = Membership.objects.get(operator=make_member(sub, "manager"))
    with pytest.raises(ValidationError, match="only be Manager or Viewer"):
        services.membership_set_role(actor=SYSTEM, membership=manager, role="developer", actor_role="owner")
    assert assignable_roles(actor_role="owner", merchant=sub) == [Role.MANAGER, Role.VIEWER]


# --- Sub-merchants ------------------------------------------------------------------


def test_sub_merchant_profile_is_saved_and_audited(agency, owner):
    sub = services.sub_merchant_create(
        actor=Actor(user=owner), agency=agency, name="Busan store", tier_code="bsn",
        service_url="https://busan.example.com", contact_name="Kim", contact_phone="051-123-4567",
        webhook_same_as_agency=False,
    )
    assert sub.tier_code == "BSN" and not sub.webhook_same_as_agency
    services.merchant_update(actor=Actor(user=owner), merchant=sub, contact_phone="+82 51 123 4567",
                             tier_code="BS2")
    event = AuditEvent.objects.filter(action="sub_merchant.update").get()
    assert event.merchant == agency and set(event.changed_fields) == {"contact_phone", "tier_code"}
    assert "051" not in str(event.changed_fields)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("tier_code", "A1", "exactly 3 uppercase letters or digits"),
    ("tier_code", "A-1", "exactly 3 uppercase letters or digits"),
    ("contact_phone", "call me", "phone number"),
    ("service_url", "javascript:alert(1)", "valid URL"),
])
def test_bad_sub_merchant_fields_are_refused(agency, field, value, message):
    values = {"name": "Store", "tier_code": "S01", field: value}
    with pytest.raises(ValidationError) as exc:
        services.sub_merchant_create(actor=SYSTEM, agency=agency, **values)
    assert message in " ".join(exc.value.message_dict[field])
    assert not agency.sub_merchants.exists()


def test_a_taken_tier_code_is_refused_on_create_and_on_edit(agency):
    make_sub_merchant(agency, "A01")
    other = make_sub_merchant(agency, "A02")
    with pytest.raises(ValidationError) as exc:
        services.sub_merchant_create(actor=SYSTEM, agency=agency, name="Dup", tier_code="a01")
    assert "taken" in exc.value.message_dict["tier_code"][0]
    with pytest.raises(ValidationError) as exc:
        services.merchant_update(actor=SYSTEM, merchant=other, tier_code="A01")
    assert "taken" in exc.value.message_dict["tier_code"][0]
    assert Merchant.objects.get(pk=other.pk).tier_code == "A02"


# --- Pages: every role against every action -------------------------------------

# What each role gets for each action of the Accounts, Sub-merchants, Audit log, API keys,
# Whitelist, Channels and Webhooks pages, on the agency's pages and on its sub-merchant's,
# written out by hand (not derived from console.tenancy.roles) so the two are checked against
# each other. The actions and the world they run in are in tests/roles_world.py. The agency's
# five roles hold a membership on the agency (which reaches the sub-merchant); the two
# sub-merchant roles are a Manager and a Viewer of the sub-merchant itself.
#                              owner admin  mgr   dev viewer s_mgr s_view
AGENCY_MATRIX = {
    "accounts.view":            (200, 200, 200, 200, 200, 404, 404),
    "accounts.invite":          (302, 302, 302, 403, 403, 404, 404),
    "accounts.change_role":     (302, 302, 403, 403, 403, 404, 404),
    "accounts.memo":            (302, 302, 403, 403, 403, 404, 404),
    "accounts.remove":          (302, 302, 403, 403, 403, 404, 404),
    "accounts.resend":          (302, 302, 403, 403, 403, 404, 404),
    "accounts.revoke":          (302, 302, 403, 403, 403, 404, 404),
    "accounts.two_factor":      (302, 302, 403, 403, 403, 404, 404),
    "sub_merchants.view":       (200, 200, 200, 200, 200, 404, 404),
    "sub_merchants.add":        (302, 302, 403, 403, 403, 404, 404),
    "sub_merchants.edit":       (302, 302, 403, 403, 403, 404, 404),
    "audit.view":               (200, 200, 200, 200, 200, 404, 404),
    "api_keys.view":            (200, 200, 200, 200, 200, 404, 404),
    "api_keys.create":          (302, 302, 403, 403, 403, 404, 404),
    "api_keys.reissue":         (302, 302, 403, 403, 403, 404, 404),
    "api_keys.revoke":          (302, 302, 403, 403, 403, 404, 404),
    "whitelist.view":           (200, 200, 200, 200, 200, 404, 404),
    "whitelist.save":           (302, 302, 403, 302, 403, 404, 404),
    "whitelist.row":            (200, 200, 403, 200, 403, 404, 404),
    "channels.view":            (200, 200, 200, 200, 200, 404, 404),
    "channels.new":             (200, 200, 403, 200, 403, 404, 404),
    "channels.edit":            (200, 200, 403, 200, 403, 404, 404),
    "channels.disable":         (302, 302, 403, 302, 403, 404, 404),
    "channels.make_default":    (302, 302, 403, 302, 403, 404, 404),
    "channels.assign":          (302, 302, 403, 302, 403, 404, 404),
    "channels.delete":          (302, 302, 403, 302, 403, 404, 404),
    "webhooks.view":            (200, 200, 200, 200, 200, 404, 404),
    "webhooks.save":            (302, 302, 403, 302, 403, 404, 404),
    "webhooks.send_test":       (302, 302, 403, 302, 403, 404, 404),
    "webhooks.own":             (302, 302, 403, 302, 403, 404, 404),
    "webhooks.reveal":          (200, 200, 403, 200, 403, 404, 404),
    "webhooks.rotate":          (302, 302, 403, 302, 403, 404, 404),
    "webhooks.expire":          (302, 302, 403, 302, 403, 404, 404),
    "webhooks.deliveries":      (200, 200, 200, 200, 200, 404, 404),
    "webhooks.delivery":        (200, 200, 200, 200, 200, 404, 404),
    "webhooks.delivery_result": (200, 200, 200, 200, 200, 404, 404),
    "webhooks.resend":          (302, 302, 403, 302, 403, 404, 404),
}
# The same actions on the sub-merchant's pages (it has no Sub-merchants page). Its two-factor
# rule is the agency's (400, saying so). It holds no API key (the agency's act for it: the
# agency's key is not found through it) and no whitelist of its own (its calls pass the
# agency's). It uses its own webhook.
#                              owner admin  mgr   dev viewer s_mgr s_view
SUB_MATRIX = {
    "accounts.view":            (200, 200, 200, 200, 200, 200, 200),
    "accounts.invite":          (302, 302, 302, 403, 403, 302, 403),
    "accounts.change_role":     (302, 302, 403, 403, 403, 302, 403),
    "accounts.memo":            (302, 302, 403, 403, 403, 302, 403),
    "accounts.remove":          (302, 302, 403, 403, 403, 302, 403),
    "accounts.resend":          (302, 302, 403, 403, 403, 302, 403),
    "accounts.revoke":          (302, 302, 403, 403, 403, 302, 403),
    "accounts.two_factor":      (400, 400, 403, 403, 403, 403, 403),
    "audit.view":               (200, 200, 200, 200, 200, 200, 200),
    "api_keys.view":            (200, 200, 200, 200, 200, 200, 200),
    "api_keys.create":          (400, 400, 403, 403, 403, 403, 403),
    "api_keys.reissue":         (404, 404, 403, 403, 403, 403, 403),
    "api_keys.revoke":          (404, 404, 403, 403, 403, 403, 403),
    "whitelist.view":           (200, 200, 200, 200, 200, 200, 200),
    "whitelist.save":           (403, 403, 403, 403, 403, 403, 403),
    "whitelist.row":            (200, 200, 403, 200, 403, 403, 403),
    "channels.view":            (200, 200, 200, 200, 200, 200, 200),
    "channels.new":             (200, 200, 403, 200, 403, 403, 403),
    "channels.edit":            (200, 200, 403, 200, 403, 403, 403),
    "channels.disable":         (302, 302, 403, 302, 403, 403, 403),
    "channels.make_default":    (302, 302, 403, 302, 403, 403, 403),
    "channels.assign":          (302, 302, 403, 302, 403, 403, 403),
    "channels.delete":          (302, 302, 403, 302, 403, 403, 403),
    "webhooks.view":            (200, 200, 200, 200, 200, 200, 200),
    "webhooks.save":            (302, 302, 403, 302, 403, 302, 403),
    "webhooks.send_test":       (302, 302, 403, 302, 403, 302, 403),
    "webhooks.own":             (302, 302, 403, 302, 403, 302, 403),
    "webhooks.reveal":          (200, 200, 403, 200, 403, 200, 403),
    "webhooks.rotate":          (302, 302, 403, 302, 403, 302, 403),
    "webhooks.expire":          (302, 302, 403, 302, 403, 302, 403),
    "webhooks.deliveries":      (200, 200, 200, 200, 200, 200, 200),
    "webhooks.delivery":        (200, 200, 200, 200, 200, 200, 200),
    "webhooks.delivery_result": (200, 200, 200, 200, 200, 200, 200),
    "webhooks.resend":          (302, 302, 403, 302, 403, 302, 403),
}
CELLS = [("agency", action) for action in AGENCY_MATRIX] + [("sub", action) for action in SUB_MATRIX]


@pytest.fixture(scope="module")
def matrix_world(module_transaction, django_db_blocker):
    """The world, made once for the matrix's cells (each cell's changes are undone after it)."""
    with django_db_blocker.unblock():
        return world_build()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("where", "action"), CELLS, ids=[f"{w}-{a}" for w, a in CELLS])
def test_permission_matrix(client, monkeypatch, matrix_world, where, action, role):
    from webhooks import tasks

    monkeypatch.setattr(tasks.deliver, "apply_async", lambda *args, **kwargs: None)  # no broker needed
    world = copy.deepcopy(matrix_world)  # the instances too are this cell's own
    client.force_login(world.operator(role))
    method, url, data = action_request(action, world, where)
    events = AuditEvent.objects.count()
    response = client.get(url) if method == "get" else client.post(url, data)
    expected = (AGENCY_MATRIX if where == "agency" else SUB_MATRIX)[action][ROLES.index(role)]
    assert response.status_code == expected, (role, where, action, response.status_code)
    if expected >= 400:
        assert AuditEvent.objects.count() == events  # refused: nothing changed


@pytest.fixture
def stage(agency, owner):
    sub = make_sub_merchant(agency, "A01", name="Acme Seoul")
    return {"agency": agency, "sub": sub}


def test_a_sub_merchant_manager_invites_and_manages_its_own_members(client, stage, owner):
    sub = stage["sub"]
    manager = make_member(sub, "manager")
    viewer = Membership.objects.get(operator=make_member(sub, "viewer"))
    client.force_login(manager)
    url = reverse("console:accounts", kwargs={"merchant_code": sub.code})
    page = client.get(url).content.decode()
    assert 'aria-label="Invite a member"' in page
    assert '<option value="manager"' in page and '<option value="viewer"' in page
    assert '<option value="developer"' not in page and '<option value="owner"' not in page
    assert f'id="role-{viewer.pk}"' in page  # its own members' roles can be changed
    agency_owner = Membership.objects.get(operator=owner)
    assert f'id="role-{agency_owner.pk}"' not in page  # the agency's reach it read-only
    assert client.post(url, {"email": "till@example.test", "role": "viewer", "memo": "Till 2"}).status_code == 302
    invitation = Invitation.objects.get(email="till@example.test")
    assert (invitation.merchant, invitation.role, invitation.memo, invitation.invited_by) == (
        sub, "viewer", "Till 2", manager)
    role_url = reverse("console:member_role", kwargs={"merchant_code": sub.code, "member_id": viewer.pk})
    assert client.post(role_url, {"role": "manager"}).status_code == 302
    assert Membership.objects.get(pk=viewer.pk).role == "manager"
    # The agency's memberships are not the sub-merchant's: not found through it.
    agency_role_url = reverse("console:member_role", kwargs={"merchant_code": sub.code,
                                                             "member_id": agency_owner.pk})
    assert client.post(agency_role_url, {"role": "viewer"}).status_code == 404
    assert Membership.objects.get(pk=agency_owner.pk).role == "owner"


def test_an_invitation_from_a_sub_merchant_manager_is_accepted_with_its_memo(stage):
    sub = stage["sub"]
    manager = make_member(sub, "manager")
    invitation = invitations.invitation_create(
        actor=Actor(user=manager), merchant=sub, email="new@example.test", role="manager",
        actor_role="sub_manager", origin="http://testserver", memo="Weekend desk")
    found = acceptance.invitation_from_token(token_of(send(invitation)))
    accepted = acceptance.invitation_accept(invitation=found, password=NEW_PASSWORD)
    assert (accepted.membership.merchant, accepted.membership.role, accepted.membership.memo) == (
        sub, "manager", "Weekend desk")
    created = AuditEvent.objects.get(action="membership.create", target_id=str(accepted.membership.pk))
    assert created.changes["memo"] == {"old": None, "new": "Weekend desk"}


def test_the_agency_owner_invites_a_sub_merchant_manager(client, stage, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    url = reverse("console:accounts", kwargs={"merchant_code": stage["sub"].code})
    page = client.get(url).content.decode()
    assert '<option value="manager"' in page and '<option value="owner"' not in page
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, {"email": "store@example.test", "role": "manager"})
    assert response.status_code == 302
    assert Invitation.objects.get(email="store@example.test").merchant == stage["sub"]
    bad = client.post(url, {"email": "store2@example.test", "role": "developer"})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()


# --- Pages: bad input -----------------------------------------------------------------


def _client_as(client, operator):
    client.force_login(operator)
    return client


def test_inviting_an_existing_member_says_so(client, agency, owner):
    member = make_member(agency, "viewer")
    response = _client_as(client, owner).post(
        reverse("console:accounts", kwargs={"merchant_code": agency.code}),
        {"email": member.email, "role": "manager"},
    )
    assert response.status_code == 400
    assert f"{member.email} is already a member of this merchant." in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("data", [
    {"email": "not-an-email", "role": "viewer"},
    {"email": "", "role": "viewer"},
    {"email": "x@example.test", "role": "superuser"},
    {"email": "x" * 300 + "@example.test", "role": "viewer"},
    {},
])
def test_bad_invitation_forms_get_400(client, agency, owner, data):
    response = _client_as(client, owner).post(
        reverse("console:accounts", kwargs={"merchant_code": agency.code}), data)
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()
    assert not Invitation.objects.exists()


def test_demoting_the_last_owner_says_why(client, agency, owner):
    membership = Membership.objects.get(operator=owner, merchant=agency)
    c = _client_as(client, owner)
    response = c.post(reverse("console:member_role", kwargs={"merchant_code": agency.code,
                                                             "member_id": membership.pk}),
                      {"role": "viewer"})
    assert response.status_code == 400
    assert "This is the merchant&#x27;s last owner" in response.content.decode()
    response = c.post(reverse("console:member_remove", kwargs={"merchant_code": agency.code,
                                                               "member_id": membership.pk}))
    assert response.status_code == 400
    assert Membership.objects.get(pk=membership.pk).role == "owner"


def test_a_garbage_role_is_refused(client, agency, owner):
    target = Membership.objects.get(operator=make_member(agency, "viewer"))
    response = _client_as(client, owner).post(
        reverse("console:member_role", kwargs={"merchant_code": agency.code, "member_id": target.pk}),
        {"role": "root"})
    assert response.status_code == 400 and "Choose a role from the list." in response.content.decode()


def test_a_taken_tier_code_on_the_page_says_so(client, agency, owner):
    make_sub_merchant(agency, "A01")
    c = _client_as(client, owner)
    response = c.post(reverse("console:sub_merchants", kwargs={"merchant_code": agency.code}),
                      {"name": "Another", "tier_code": "A01"})
    assert response.status_code == 400
    assert "The tier code A01 is taken" in response.content.decode()
    assert agency.sub_merchants.count() == 1
    for bad in ({"name": "", "tier_code": "B01"}, {"name": "X", "tier_code": "lower"},
                {"name": "X", "tier_code": "ab"}, {"name": "X", "tier_code": "B01", "service_url": "no url"}):
        response = c.post(reverse("console:sub_merchants", kwargs={"merchant_code": agency.code}), bad)
        assert response.status_code == 400, bad
    assert agency.sub_merchants.count() == 1


def test_an_unknown_sub_merchant_in_the_url_is_404(client, agency, owner):
    url = reverse("console:sub_merchant_edit", kwargs={"merchant_code": agency.code, "sub_merchant_id": 999999})
    assert _client_as(client, owner).get(url).status_code == 404
    # Sub-merchants are addressed by id: a tier code in the URL names nothing.
    make_sub_merchant(agency, "ZZZ")
    assert client.get(f"/m/{agency.code}/sub-merchants/ZZZ/").status_code == 404


@pytest.mark.parametrize("token", ["garbage", "x" * 2000, "a:b:c"])
def test_malformed_invitation_link_pages(client, token):
    response = client.get(reverse("invitation_accept", kwargs={"token": token}))
    assert response.status_code == 400
    assert "This invitation link is not valid." in response.content.decode()
    assert client.post(reverse("invitation_accept", kwargs={"token": token})).status_code == 400


def test_expired_invitation_link_page(client, agency, owner):
    invitation = invite(agency, "late@example.test", by=owner)
    path = send(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(path)
    assert response.status_code == 410
    assert "This invitation expired." in response.content.decode()
    response = client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert not Operator.objects.filter(email="late@example.test").exists()


def test_accept_page_creates_the_account_and_logs_in(client, agency, owner):
    path = send(invite(agency, "fresh@example.test", "manager", by=owner))
    page = open_link(client, path)
    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    weak = client.post(ACCEPT, {"password1": "12345", "password2": "12345"})
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    differ = client.post(ACCEPT, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    assert differ.status_code == 400 and "The two passwords differ." in differ.content.decode()
    assert not Operator.objects.filter(email="fresh@example.test").exists()
    done = client.post(ACCEPT, {"full_name": "Fresh", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == reverse("console:overview", kwargs={"merchant_code": agency.code})
    assert client.get(done["Location"]).status_code == 200  # logged in
    assert client.get(path).status_code == 410  # used


def test_accept_page_for_an_existing_operator_asks_to_log_in(client, agency, owner):
    known = OperatorFactory(email="known@example.test")
    path = send(invite(agency, "known@example.test", "viewer", by=owner))
    page = open_link(client, path)
    assert "Log in to accept" in page.content.decode()
    assert client.post(ACCEPT, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 200
    assert not Membership.objects.filter(operator=known).exists()
    client.force_login(known)
    assert client.post(ACCEPT).status_code == 302
    assert Membership.objects.get(operator=known, merchant=agency).role == "viewer"


def test_accept_page_refuses_a_different_logged_in_operator(client, agency, owner):
    path = send(invite(agency, "meant@example.test", by=owner))
    client.force_login(owner)
    assert client.get(path)["Location"] == ACCEPT
    response = client.post(ACCEPT)
    assert response.status_code == 403
    assert "Log out, then open the link again." in response.content.decode()


def test_a_role_change_takes_effect_at_the_next_request(client, agency, owner):
    admin = make_member(agency, "admin")
    url = reverse("console:accounts", kwargs={"merchant_code": agency.code})
    client.force_login(admin)
    assert 'aria-label="Invite a member"' in client.get(url).content.decode()
    services.membership_set_role(actor=Actor(user=owner), membership=Membership.objects.get(operator=admin),
                                 role="developer", actor_role="owner")
    page = client.get(url)  # a developer sees the page read-only
    assert page.status_code == 200 and 'aria-label="Invite a member"' not in page.content.decode()
    assert client.post(url, {"email": "x@example.test", "role": "viewer"}).status_code == 403
    assert not Invitation.objects.exists()


def test_accounts_page_query_count_is_flat(client, agency, owner, django_assert_max_num_queries):
    for _ in range(30):
        make_member(agency, "viewer")
    for i in range(20):
        invite(agency, f"p{i}@example.test", by=owner)
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("console:accounts", kwargs={"merchant_code": agency.code}))
    assert response.status_code == 200
    assert response.content.decode().count("data-member=") == 31
    assert response.content.decode().count("data-invitation=") == 20


# --- Two-factor rule ------------------------------------------------------------------


def test_two_factor_rule_is_audited(client, agency, owner):
    client.force_login(owner)
    url = reverse("console:two_factor_policy", kwargs={"merchant_code": agency.code})
    assert client.post(url, {"require_two_factor": "on"}).status_code == 302
    agency.refresh_from_db()
    assert agency.require_two_factor
    event = AuditEvent.objects.get(action="merchant.update", merchant=agency)
    assert event.changed_fields == ["require_two_factor"]
    assert client.post(url, {}).status_code == 302
    agency.refresh_from_db()
    assert not agency.require_two_factor


# --- Audit page filters --------------------------------------------------------------


def test_audit_filters_by_actor_action_and_date(client, agency, owner):
    other = make_member(agency, "admin")
    services.merchant_update(actor=Actor(user=owner), merchant=agency, name="Renamed")
    services.merchant_update(actor=Actor(user=other), merchant=agency, contact_name="Lee")
    old = AuditEvent.objects.filter(actor=other).get()
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    client.force_login(owner)
    url = reverse("console:audit_log", kwargs={"merchant_code": agency.code})

    def rows(**params):
        response = client.get(url, params)
        assert response.status_code == 200, response.content.decode()[:500]
        return response.content.decode().count("<tr>") - 1  # minus the header row

    # The system's own bookkeeping (shared test channels) is listed when asked for.
    bookkeeping = AuditEvent.objects.filter(merchant=agency, actor_email="",
                                            action="channel.create_shared_test").count()
    everything = rows(bookkeeping="on")
    assert everything == AuditEvent.objects.filter(merchant=agency).count()
    assert rows() == everything - bookkeeping
    assert rows(actor=other.email) == 1
    assert rows(actor="system", bookkeeping="on") == AuditEvent.objects.filter(
        merchant=agency, actor_email="").count()
    assert rows(action="merchant.update") == 2
    today = timezone.localdate()
    assert rows(action="merchant.update", date_from=today.isoformat()) == 1
    assert rows(action="merchant.update", date_to=(today - timedelta(days=5)).isoformat()) == 1
    page = client.get(url, {"actor": owner.email}).content.decode()
    assert "Clear filters" in page


@pytest.mark.parametrize("params", [
    {"date_from": "yesterday"}, {"date_from": "2026-02-30"}, {"actor": "nobody@example.test"},
    {"action": "drop table"}, {"date_from": "2026-05-02", "date_to": "2026-05-01"},
])
def test_bad_audit_filters_get_400_with_a_message(client, agency, owner, params):
    client.force_login(owner)
    response = client.get(reverse("console:audit_log", kwargs={"merchant_code": agency.code}), params)
    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode()


def test_audit_paging_keeps_the_filters(client, agency, owner):
    for i in range(60):
        services.merchant_update(actor=Actor(user=owner), merchant=agency, contact_name=f"n{i}")
    client.force_login(owner)
    url = reverse("console:audit_log", kwargs={"merchant_code": agency.code})
    page = client.get(url, {"action": "merchant.update"}).content.decode()
    assert "Page 1 of 2" in page
    assert "?action=merchant.update&amp;page=2" in page
    second = client.get(url, {"action": "merchant.update", "page": 2}).content.decode()
    assert second.count("<tr>") - 1 == 10


def test_no_secret_reaches_audit_rows_or_mail_logs(agency, owner, caplog):
    caplog.set_level("DEBUG")
    invitation = invite(agency, "quiet@example.test", by=owner)
    token = token_of(send(invitation))
    assert token not in caplog.text
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM console_auditevent")
        assert token not in str(cursor.fetchall())


def test_invitation_tokens_are_redacted_from_logs(client, agency, owner):
    import logging

    from ops.log_filters import RedactSecrets

    path = send(invite(agency, "logged@example.test", by=owner))
    token = token_of(path)
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Gone: %s", (path,), None)
    RedactSecrets().filter(record)
    assert token not in record.getMessage()
    assert record.getMessage() == "Gone: /accounts/invitation/[redacted]/"
    handlers = [h for h in logging.getLogger().handlers
                if any(isinstance(f, RedactSecrets) for f in h.filters)]
    assert handlers, "the configured log handler must redact"


# --- Several processes at once: the merchant's row is the lock ------------------------


def _race(*calls):
    """Run the calls at the same moment in separate threads (separate connections)."""
    import threading

    from django.db import connection as thread_connection

    barrier, results = threading.Barrier(len(calls)), []

    def run(call):
        try:
            barrier.wait()
            call()
            results.append("done")
        except ValidationError as exc:
            results.append(" ".join(exc.messages))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(results, key=lambda result: result != "done")  # "done" first


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_admin_invitations_take_one_seat():
    agency = make_merchant("Race Co")
    owner = make_member(agency, "owner")
    results = _race(*[
        (lambda i=i: invite(agency, f"admin{i}@example.test", "admin", by=owner)) for i in range(2)
    ])
    assert results[0] == "done" and "already has an admin" in results[1], results
    assert Invitation.objects.filter(merchant=agency, role="admin").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner():
    agency = make_merchant("Race Co")
    first, second = make_member(agency, "owner"), make_member(agency, "owner")
    m1, m2 = (Membership.objects.get(operator=o) for o in (first, second))
    results = _race(
        lambda: services.membership_set_role(actor=Actor(user=first), membership=m2, role="viewer", actor_role="owner"),
        lambda: services.membership_set_role(actor=Actor(user=second), membership=m1, role="viewer", actor_role="owner"),
    )
    assert results[0] == "done" and "last owner" in results[1], results
    assert Membership.objects.filter(merchant=agency, role="owner").count() == 1


def test_sub_merchants_page_query_count_is_flat(client, agency, owner, django_assert_max_num_queries):
    for i in range(30):
        make_sub_merchant(agency, f"Q{i:02d}")
    client.force_login(owner)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("console:sub_merchants", kwargs={"merchant_code": agency.code}))
    assert response.status_code == 200
    assert response.content.decode().count("data-tier=") == 30


# --- The emailed link hands over to the session (no token in later URLs or logs) -------


def test_the_link_redirects_to_a_url_without_its_token(client, agency, owner):
    path = send(invite(agency, "handoff@example.test", by=owner))
    token = token_of(path)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == ACCEPT and token not in response["Location"]
    assert response["Cache-Control"].startswith("max-age=0")
    page = client.get(ACCEPT)
    assert page.status_code == 200 and "Join Acme Agency" in page.content.decode()
    assert token not in page.content.decode()  # nor in the form's action, or anywhere


def test_the_session_holds_the_invitation_not_the_token(client, agency, owner):
    from django.contrib.sessions.models import Session

    from console.tenancy.hashing import sha256_hex

    invitation = invite(agency, "held@example.test", by=owner)
    path = send(invitation)
    token = token_of(path)
    nonce = signing.loads(token, salt=invitations.SALT)["n"]
    client.get(path)
    assert client.session[acceptance.SESSION_KEY] == {"i": invitation.pk, "h": sha256_hex(nonce)}
    # The stored session is no working link either: neither the token nor its nonce.
    stored = Session.objects.get(session_key=client.session.session_key)
    assert token not in stored.session_data and nonce not in str(stored.get_decoded())


def test_another_browser_cannot_use_the_accept_url(client, agency, owner):
    from django.test import Client

    path = send(invite(agency, "mine@example.test", by=owner))
    assert open_link(client, path).status_code == 200
    stranger = Client()
    page = stranger.get(ACCEPT)
    assert page.status_code == 400
    assert "To accept an invitation, open the link in its email in this browser." in page.content.decode()
    refused = stranger.post(ACCEPT, {"full_name": "X", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert refused.status_code == 400
    assert not Operator.objects.filter(email="mine@example.test").exists()
    # The browser that opened the link goes on.
    done = client.post(ACCEPT, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert Operator.objects.filter(email="mine@example.test").exists()
    assert acceptance.SESSION_KEY not in client.session  # spent
    assert client.get(ACCEPT).status_code == 400


def test_logging_in_first_comes_back_to_the_accept_step(client, agency, owner):
    known = OperatorFactory(email="returning@example.test")
    path = send(invite(agency, "returning@example.test", "manager", by=owner))
    page = open_link(client, path).content.decode()
    login_url = "/accounts/login/?next=%2Faccounts%2Finvitation%2Faccept%2F"
    assert f'href="{login_url}"' in page
    logged_in = client.post(login_url, {"username": "Returning@Example.test", "password": TEST_PASSWORD})
    assert logged_in.status_code == 302 and logged_in["Location"] == ACCEPT  # back, session kept
    join = client.get(ACCEPT)
    assert join.status_code == 200 and "Log in to accept" not in join.content.decode()
    done = client.post(ACCEPT)
    assert done.status_code == 302
    assert done["Location"] == reverse("console:overview", kwargs={"merchant_code": agency.code})
    assert Membership.objects.get(operator=known, merchant=agency).role == "manager"


def test_a_newer_mail_ends_the_invitation_a_session_holds(client, agency, owner):
    invitation = invite(agency, "twice@example.test", by=owner)
    assert open_link(client, send(invitation)).status_code == 200
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(minutes=2))
    invitations.invitation_resend(actor=Actor(user=owner), invitation=invitation)
    send(invitation)
    page = client.get(ACCEPT)
    assert page.status_code == 410 and "replaced by a newer invitation email" in page.content.decode()
