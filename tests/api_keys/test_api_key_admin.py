"""Staff can revoke a leaked API key in the admin: a list-only page (never a hash or a token)
with a "Revoke" action that goes through ``api_key_revoke`` (audited), for staff who hold
the "change API key" permission only."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from api_keys.services import api_keys
from console.models import ApiKey, ApiToken, AuditEvent
from console.tenancy.audit import Actor
from tests.console.test_admin_action_permissions import action_names, staff_with
from tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:console_apikey_changelist"


@pytest.fixture
def issued(agency):
    return api_keys.api_key_create(actor=Actor(), merchant=agency, name="order server")


def rest_token(issued) -> str:
    response = Client().post("/users/getToken", json.dumps(
        {"imp_key": issued.api_key.key, "imp_secret": issued.secret}), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["response"]["access_token"]


def rest_status(issued, token) -> tuple[int, int]:
    """(GET /users/pg with the token, POST /users/getToken with the key and secret)."""
    rest = Client()
    users_pg = rest.get("/users/pg", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
    get_token = rest.post("/users/getToken", {"imp_key": issued.api_key.key,
                                              "imp_secret": issued.secret}).status_code
    return users_pg, get_token


def revoke(client, issued):
    return client.post(reverse(CHANGELIST), {"action": "revoke", "_selected_action": [issued.api_key.pk]})


def test_the_page_lists_keys_and_never_a_hash_or_a_token(client, agency, issued):
    token = rest_token(issued)
    client.force_login(OperatorFactory(is_staff=True, is_superuser=True))
    key = ApiKey.objects.get(pk=issued.api_key.pk)
    for query in ("", f"?q={key.key}", "?q=order+server", f"?q={agency.code}", "?q=Acme"):
        page = client.get(reverse(CHANGELIST) + query)
        html = page.content.decode()
        assert page.status_code == 200 and key.key in html and "order server" in html, query
        assert key.secret_hash not in html and issued.secret not in html and token not in html
    assert client.get(reverse(CHANGELIST) + "?q=no-such-key").content.decode().count(key.key) == 0
    detail = client.get(reverse("admin:console_apikey_change", args=[key.pk])).content.decode()
    assert key.key in detail and key.secret_hash not in detail and issued.secret not in detail
    stored = ApiToken.objects.get(api_key=key)
    assert stored.token_hash not in detail and stored.token_encrypted not in detail


def test_the_page_is_list_only(client, issued):
    client.force_login(OperatorFactory(is_staff=True, is_superuser=True))
    pk = issued.api_key.pk
    assert client.get(reverse("admin:console_apikey_add")).status_code == 403
    assert client.post(reverse("admin:console_apikey_change", args=[pk]), {"name": "x"}).status_code == 403
    assert client.post(reverse("admin:console_apikey_delete", args=[pk]), {"post": "yes"}).status_code == 403
    assert "delete_selected" not in action_names(client.get(reverse(CHANGELIST)))
    assert ApiKey.objects.get(pk=pk).name == "order server"


def test_revoke_ends_the_key_and_its_tokens_audited(client, agency, issued):
    token = rest_token(issued)
    assert rest_status(issued, token) == (200, 200)
    staff = staff_with("console.view_apikey", "console.change_apikey")
    client.force_login(staff)
    assert "revoke" in action_names(client.get(reverse(CHANGELIST)))
    response = revoke(client, issued)
    assert response.status_code == 302
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is not None
    assert rest_status(issued, token) == (401, 401)
    event = AuditEvent.objects.get(action="api_key.revoke")
    assert (event.actor, event.merchant, event.target_id) == (staff, agency, str(issued.api_key.pk))
    revoke(client, issued)  # again: nothing more to do, no second row
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 1


def test_view_only_staff_cannot_revoke_a_key(client, issued):
    token = rest_token(issued)
    client.force_login(staff_with("console.view_apikey"))
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200 and "revoke" not in action_names(page)
    revoke(client, issued)
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is None
    assert rest_status(issued, token) == (200, 200)
    assert not AuditEvent.objects.filter(action="api_key.revoke").exists()
