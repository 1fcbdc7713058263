import re

import pytest
from django.urls import reverse

from console.models import AuditEvent, Membership, Merchant
from tests.factories import OperatorFactory, make_member, make_sub_merchant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.mark.parametrize("model", ["operator", "merchant", "membership", "auditevent", "invitation"])
def test_changelists_open_with_bounded_queries(staff_client, agency, model, django_assert_max_num_queries):
    for i in range(25):
        sub = make_sub_merchant(agency, f"S{i:02d}")
        make_member(sub, "viewer")
    url = reverse(f"admin:console_{model}_changelist")
    with django_assert_max_num_queries(15):
        response = staff_client.get(url)
    assert response.status_code == 200
    assert staff_client.get(url + "?q=S01").status_code == 200


def test_staff_creates_a_merchant_and_a_sub_merchant(staff_client):
    response = staff_client.post(reverse("admin:console_merchant_add"), {"name": "New Co", "tier_code": ""})
    assert response.status_code == 302
    merchant = Merchant.objects.get(name="New Co")
    assert re.fullmatch(r"imp\d{8}", merchant.code)
    event = AuditEvent.objects.get(action="merchant.create", target_id=str(merchant.pk))
    assert event.actor == staff_client.staff

    response = staff_client.post(
        reverse("admin:console_merchant_add"),
        {"name": "New Co Busan", "parent": merchant.pk, "tier_code": "bsn"},
    )
    assert response.status_code == 302
    sub = Merchant.objects.get(name="New Co Busan")
    assert (sub.parent, sub.tier_code) == (merchant, "BSN")


@pytest.mark.parametrize(
    ("tier_code", "message"),
    [("TOOLONG", "Ensure this value has at most 3 characters"),
     ("a-1", "exactly 3 uppercase letters or digits"),
     ("", "A sub-merchant needs a tier code")],
)
def test_bad_sub_merchant_in_admin_is_a_form_error(staff_client, agency, tier_code, message):
    before = Merchant.objects.count()
    response = staff_client.post(
        reverse("admin:console_merchant_add"),
        {"name": "Bad", "parent": agency.pk, "tier_code": tier_code},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Merchant.objects.count() == before


def test_duplicate_tier_code_in_admin_is_a_form_error(staff_client, agency):
    make_sub_merchant(agency, "DUP")
    response = staff_client.post(
        reverse("admin:console_merchant_add"), {"name": "Dup", "parent": agency.pk, "tier_code": "DUP"}
    )
    assert response.status_code == 200
    assert "already has a sub-merchant with this tier code" in response.content.decode()


def test_staff_grants_changes_and_removes_a_membership(staff_client, agency):
    operator = OperatorFactory()
    add = staff_client.post(
        reverse("admin:console_membership_add"),
        {"operator": operator.pk, "merchant": agency.pk, "role": "developer"},
    )
    assert add.status_code == 302
    membership = Membership.objects.get(operator=operator)
    change = staff_client.post(
        reverse("admin:console_membership_change", args=[membership.pk]), {"role": "viewer"}
    )
    assert change.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "viewer"
    delete = staff_client.post(
        reverse("admin:console_membership_delete", args=[membership.pk]), {"post": "yes"}
    )
    assert delete.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    actions = list(AuditEvent.objects.filter(merchant=agency, target_type="console.membership")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["membership.create", "membership.update", "membership.delete"]


def test_duplicate_membership_in_admin_is_a_form_error(staff_client, agency):
    operator = make_member(agency, "viewer")
    response = staff_client.post(
        reverse("admin:console_membership_add"),
        {"operator": operator.pk, "merchant": agency.pk, "role": "owner"},
    )
    assert response.status_code == 200
    assert "already has a role on this merchant" in response.content.decode()


def test_audit_events_are_read_only_in_admin(staff_client, agency):
    event = AuditEvent.objects.filter(merchant=agency).first()
    assert staff_client.get(reverse("admin:console_auditevent_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:console_auditevent_change", args=[event.pk]), {"action": "forged"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.action != "forged"


def test_operator_admin_never_shows_a_password_hash(staff_client, agency):
    operator = make_member(agency, "owner")
    html = staff_client.get(reverse("admin:console_operator_change", args=[operator.pk])).content.decode()
    assert operator.password not in html


def test_admin_refuses_to_demote_or_delete_the_last_owner(staff_client, agency):
    owner = make_member(agency, "owner")
    membership = Membership.objects.get(operator=owner, merchant=agency)
    url = reverse("admin:console_membership_change", args=[membership.pk])
    response = staff_client.post(url, {"role": "viewer"})
    assert response.status_code == 200
    assert "last owner" in response.content.decode()
    assert Membership.objects.get(pk=membership.pk).role == "owner"
    assert staff_client.get(reverse("admin:console_membership_delete", args=[membership.pk])).status_code == 403
    response = staff_client.post(reverse("admin:console_membership_changelist"), {
        "action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"})
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_admin_keeps_the_one_admin_limit(staff_client, agency):
    make_member(agency, "admin")
    other = OperatorFactory()
    response = staff_client.post(reverse("admin:console_membership_add"),
                                 {"operator": other.pk, "merchant": agency.pk, "role": "admin"})
    assert response.status_code == 200
    assert "already has an admin" in response.content.decode()
    assert not Membership.objects.filter(operator=other).exists()


def test_invitations_in_admin_are_read_only_and_hide_the_link_hash(staff_client, agency):
    from accounts.services.invitations import invitation_create, invitation_send
    from console.models import Invitation
    from console.tenancy.audit import SYSTEM

    invitation = invitation_create(actor=SYSTEM, merchant=agency, email="staff-view@example.test",
                                   role="viewer", actor_role="owner")
    invitation_send(invitation.pk)
    invitation.refresh_from_db()
    page = staff_client.get(reverse("admin:console_invitation_change", args=[invitation.pk]))
    assert page.status_code == 200
    assert invitation.token_hash not in page.content.decode()
    response = staff_client.post(reverse("admin:console_invitation_changelist"),
                                 {"action": "revoke", "_selected_action": [invitation.pk]})
    assert response.status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None
    assert AuditEvent.objects.filter(action="invitation.revoke", actor=staff_client.staff).exists()


def test_staff_edit_a_sub_merchant_profile(staff_client, agency):
    sub = make_sub_merchant(agency, "A01")
    response = staff_client.post(reverse("admin:console_merchant_change", args=[sub.pk]), {
        "name": sub.name, "tier_code": "A01", "service_url": "https://a01.example.com",
        "contact_name": "Park", "contact_phone": "02-555-0101", "webhook_same_as_agency": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    sub.refresh_from_db()
    assert (sub.service_url, sub.contact_name, sub.contact_phone) == (
        "https://a01.example.com", "Park", "02-555-0101")
    event = AuditEvent.objects.get(action="sub_merchant.update", target_id=str(sub.pk))
    assert set(event.changed_fields) == {"service_url", "contact_name", "contact_phone"}
