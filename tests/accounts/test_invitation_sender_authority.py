"""An invitation grants a role only while its sender may still give it.

(a) Demoting or removing a member withdraws, in the same transaction and audited, their open
invitations that they may no longer give. (b) Accepting checks the sender's authority again,
as it is now: a sender who is gone or may no longer give the role gets the invitation refused
with a clear message, and nothing is created. Staff who may add memberships in the admin
carry staff authority; an invitation whose sender's account was deleted is refused.
"""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.services import acceptance, invitations
from console.models import AuditEvent, Invitation, Membership, Operator
from console.tenancy.audit import Actor
from console.tenancy.roles import STAFF_AUTHORITY
from tests.accounts.test_accounts import NEW_PASSWORD, invite, send, token_of
from tests.factories import OperatorFactory, make_member, make_sub_merchant

pytestmark = pytest.mark.django_db

REFUSED = "The person who invited you can no longer give this role. Ask for a new invitation."
WITHDRAWN = "invitation.revoke_sender_role"


def membership(operator, merchant) -> Membership:
    return Membership.objects.get(operator=operator, merchant=merchant)


def is_open(invitation) -> bool:
    return Invitation.objects.get(pk=invitation.pk).is_open


def accept_as_new(invitation):
    return acceptance.invitation_accept(invitation=invitation, password=NEW_PASSWORD, full_name="New")


def assert_refused_and_nothing_created(invitation):
    with pytest.raises(ValidationError) as exc:
        accept_as_new(invitation)
    assert exc.value.messages == [REFUSED]
    assert not Operator.objects.filter(email=invitation.email).exists()
    assert not Membership.objects.filter(operator__email=invitation.email).exists()
    assert is_open(invitation)
    assert not AuditEvent.objects.filter(action="invitation.accept").exists()


# --- (a) demoting or removing a member withdraws what they may no longer give ---------------


def test_demoting_an_admin_withdraws_their_invitations_audited(agency, owner):
    admin = make_member(agency, "admin")
    manager_invite = invite(agency, "m@example.test", "manager", by=admin, actor_role="admin")
    token = token_of(send(manager_invite))
    services.membership_set_role(actor=Actor(user=owner), membership=membership(admin, agency),
                                 role="viewer", actor_role="owner")
    assert not is_open(manager_invite)  # a viewer gives no role at all
    event = AuditEvent.objects.get(action=WITHDRAWN)
    assert (event.actor, event.merchant, event.target_id) == (owner, agency, str(manager_invite.pk))
    assert set(event.changed_fields) == {"revoked_at"}
    with pytest.raises(acceptance.InvitationInvalid, match="withdrawn"):
        acceptance.invitation_from_token(token)


def test_demoting_an_owner_withdraws_only_the_roles_they_can_no_longer_give(agency, owner):
    second = make_member(agency, "owner")
    owner_invite = invite(agency, "o@example.test", "owner", by=second)
    viewer_invite = invite(agency, "v@example.test", "viewer", by=second)
    services.membership_set_role(actor=Actor(user=owner), membership=membership(second, agency),
                                 role="admin", actor_role="owner")
    assert not is_open(owner_invite) and is_open(viewer_invite)  # an admin gives no Owner role
    assert AuditEvent.objects.filter(action=WITHDRAWN).count() == 1
    accept_as_new(viewer_invite)  # the one they may still give works
    assert Membership.objects.get(operator__email="v@example.test").role == "viewer"


def test_removing_an_agency_member_withdraws_all_their_invitations_there_and_below(agency, owner):
    sub = make_sub_merchant(agency, "S01")
    admin = make_member(agency, "admin")
    on_agency = invite(agency, "x@example.test", "developer", by=admin, actor_role="admin")
    on_sub = invite(sub, "y@example.test", "manager", by=admin, actor_role="admin")
    someone_elses = invite(agency, "z@example.test", "viewer", by=owner)
    services.membership_delete(actor=Actor(user=owner), membership=membership(admin, agency),
                               actor_role="owner")
    assert not is_open(on_agency) and not is_open(on_sub) and is_open(someone_elses)
    rows = AuditEvent.objects.filter(action=WITHDRAWN)
    assert {(e.merchant_id, e.target_id) for e in rows} == {(agency.pk, str(on_agency.pk)),
                                                            (sub.pk, str(on_sub.pk))}


def test_a_role_kept_through_the_agency_keeps_the_invitations(agency, owner):
    sub = make_sub_merchant(agency, "S01")
    make_member(sub, "manager", operator=owner)  # the agency's owner, also a member of the sub
    on_sub = invite(sub, "y@example.test", "manager", by=owner)
    services.membership_delete(actor=Actor(user=owner), membership=membership(owner, sub),
                               actor_role="owner")
    assert is_open(on_sub)  # still the sub-merchant's owner, through the agency
    assert not AuditEvent.objects.filter(action=WITHDRAWN).exists()


def test_a_refused_demotion_withdraws_nothing(agency, owner):
    pending = invite(agency, "a@example.test", "admin", by=owner)
    with pytest.raises(ValidationError, match="last owner"):
        services.membership_set_role(actor=Actor(user=owner), membership=membership(owner, agency),
                                     role="viewer", actor_role="owner")
    assert is_open(pending)


def test_removing_a_member_from_the_accounts_page_withdraws_their_invitations(client, agency, owner):
    admin = make_member(agency, "admin")
    pending = invite(agency, "m@example.test", "manager", by=admin, actor_role="admin")
    client.force_login(owner)
    url = reverse("console:member_remove",
                  kwargs={"merchant_code": agency.code, "member_id": membership(admin, agency).pk})
    assert client.post(url).status_code == 302
    assert not is_open(pending)
    assert AuditEvent.objects.get(action=WITHDRAWN).actor == owner


def test_staff_removing_a_member_in_the_admin_withdraws_their_invitations(client, agency, owner):
    admin = make_member(agency, "admin")
    pending = invite(agency, "m@example.test", "manager", by=admin, actor_role="admin")
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    url = reverse("admin:console_membership_delete", args=[membership(admin, agency).pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not is_open(pending)
    assert AuditEvent.objects.get(action=WITHDRAWN).actor == staff


# --- (b) acceptance checks the sender's authority as it is now -----------------------------


def test_a_sender_demoted_behind_the_services_back_cannot_grant(agency, owner):
    admin = make_member(agency, "admin")
    pending = invite(agency, "m@example.test", "manager", by=admin, actor_role="admin")
    Membership.objects.filter(operator=admin).update(role="viewer")  # no service, no withdrawal
    assert_refused_and_nothing_created(pending)


def test_a_sender_who_left_cannot_grant(agency, owner):
    admin = make_member(agency, "admin")
    pending = invite(agency, "m@example.test", "manager", by=admin, actor_role="admin")
    Membership.objects.filter(operator=admin).delete()
    assert_refused_and_nothing_created(pending)


def test_an_owner_demoted_to_admin_cannot_grant_admin(agency, owner):
    second = make_member(agency, "owner")
    pending = invite(agency, "a@example.test", "admin", by=second)
    Membership.objects.filter(operator=second).update(role="admin")
    assert_refused_and_nothing_created(pending)


def test_a_deactivated_sender_cannot_grant(agency, owner):
    pending = invite(agency, "m@example.test", "manager", by=owner)
    Operator.objects.filter(pk=owner.pk).update(is_active=False)
    assert_refused_and_nothing_created(pending)


def test_a_deleted_sender_cannot_grant(agency, owner):
    second = make_member(agency, "owner")
    pending = invite(agency, "m@example.test", "manager", by=second)
    Operator.objects.filter(pk=second.pk).delete()  # invited_by becomes empty
    assert Invitation.objects.get(pk=pending.pk).invited_by_id is None
    assert_refused_and_nothing_created(pending)


def test_an_existing_operator_is_refused_too(agency, owner):
    known = OperatorFactory(email="known@example.test")
    admin = make_member(agency, "admin")
    pending = invite(agency, "known@example.test", "manager", by=admin, actor_role="admin")
    Membership.objects.filter(operator=admin).delete()
    with pytest.raises(ValidationError, match="can no longer give this role"):
        acceptance.invitation_accept(invitation=pending, operator=known)
    assert not Membership.objects.filter(operator=known).exists()


def test_the_agency_role_counts_for_a_sub_merchant_invitation(agency, owner):
    sub = make_sub_merchant(agency, "S01")
    pending = invite(sub, "m@example.test", "manager", by=owner)
    accepted = accept_as_new(pending)
    assert (accepted.membership.merchant, accepted.membership.role) == (sub, "manager")


def test_the_accept_page_says_why_and_creates_nothing(client, agency, owner):
    admin = make_member(agency, "admin")
    path = send(invite(agency, "m@example.test", "manager", by=admin, actor_role="admin"))
    Membership.objects.filter(operator=admin).update(role="developer")
    page = client.get(path, follow=True)  # the accept form, wherever the link leads to it
    assert page.status_code == 200
    response = client.post(page.request["PATH_INFO"],
                           {"full_name": "M", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 400
    assert "can no longer give this role. Ask for a new invitation." in response.content.decode()
    assert not Operator.objects.filter(email="m@example.test").exists()


# --- staff ------------------------------------------------------------------------------


def staff_invite(agency, staff, email="s@example.test", role="admin"):
    return invitations.invitation_create(actor=Actor(user=staff), merchant=agency, email=email, role=role,
                                         actor_role=STAFF_AUTHORITY, origin="http://testserver")


def test_staff_who_may_add_memberships_carry_staff_authority(agency, owner):
    staff = OperatorFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="console",
                                                      codename="add_membership"))
    accepted = accept_as_new(staff_invite(agency, staff))
    assert accepted.membership.role == "admin"


def test_staff_without_the_membership_permission_cannot_grant(agency, owner):
    staff = OperatorFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="console",
                                                      codename="view_membership"))
    assert_refused_and_nothing_created(staff_invite(agency, staff))


def test_former_staff_cannot_grant(agency, owner):
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    pending = staff_invite(agency, staff)
    Operator.objects.filter(pk=staff.pk).update(is_staff=False, is_superuser=False)
    assert_refused_and_nothing_created(pending)
