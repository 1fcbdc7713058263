import re

import pytest
from django.urls import reverse

from console.models import AuditEvent, Membership, Merchant

from .factories import OperatorFactory, make_member, make_sub_merchant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


@pytest.mark.parametrize("model", ["operator", "merchant", "membership", "auditevent"])
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
