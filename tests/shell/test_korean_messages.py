"""What a Korean operator reads is Korean: Django's own validation messages on our forms, and
the role named in the Korean half of the invitation mail (issue 13, item 6)."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts.services import invitations
from console.tenancy.audit import Actor
from console.tenancy.roles import Role

pytestmark = pytest.mark.django_db

KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}


def test_django_validation_messages_come_in_korean(client, agency, owner):
    client.force_login(owner)
    page = client.post(reverse("console:accounts", kwargs={"merchant_code": agency.code}),
                       {"email": "not-an-email", "role": "viewer"}, **KO)
    html = page.content.decode()
    assert page.status_code == 400
    assert "올바른 이메일 주소를 입력하세요" in html
    assert "Enter a valid email address" not in html


def test_a_length_message_from_django_is_korean_too(client, agency, owner):
    """The issue's example: "Ensure this value has at least 3 characters" on a tier code."""
    client.force_login(owner)
    page = client.post(reverse("console:sub_merchants", kwargs={"merchant_code": agency.code}),
                       {"name": "Seoul", "tier_code": "A1"}, **KO)
    html = page.content.decode()
    assert page.status_code == 400
    assert "최소 3" in html and "Ensure this value" not in html


def test_the_invitation_mail_names_the_role_in_each_language(agency, owner):
    invitation = invitations.invitation_create(
        actor=Actor(user=owner), merchant=agency, email="ko@example.test", role="developer",
        actor_role="owner", origin="http://testserver")
    assert invitations.invitation_send(invitation.pk) is True
    body = next(m for m in mail.outbox if m.to == ["ko@example.test"]).body
    english, korean = body.split("----")
    assert "as Developer." in english
    with translation.override("ko"):
        developer_ko = str(Role.DEVELOPER.label)
    assert developer_ko != "Developer"
    assert f"역할: {developer_ko}" in korean
