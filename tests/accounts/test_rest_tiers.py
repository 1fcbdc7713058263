"""REST tier management: GET, POST, PUT and DELETE /tiers/{tier_code} as i'mport's V1 API
defines them, through the Sub-merchants page's services, rules and audit rows, with the API
key as the actor. Every failure is a clear message in the envelope and nothing half-saved."""

import json
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from api_keys.services import api_keys
from api_keys.services.whitelist import whitelist_save
from channels.services import channel_assign
from console.models import AuditEvent, Membership, Merchant
from console.tenancy.audit import SYSTEM
from tests.factories import make_channel, make_member, make_merchant, make_sub_merchant

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(agency):
    return api_keys.api_key_create(actor=SYSTEM, merchant=agency, name="order server")


@pytest.fixture
def token(client, issued):
    response = client.post("/users/getToken", {"imp_key": issued.api_key.key, "imp_secret": issued.secret})
    assert response.status_code == 200, response.content
    return response.json()["response"]["access_token"]


def call(client, method, path, token, *, data=None, as_json=False, **headers):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}
    if data is not None and as_json:
        kwargs.update(data=json.dumps(data), content_type="application/json")
    elif data is not None:
        kwargs.update(data=data if method == "post" else _form(data),
                      **({} if method == "post" else {"content_type": "application/x-www-form-urlencoded"}))
    return getattr(client, method)(path, **kwargs)


def _form(data: dict) -> str:
    return urlencode(data)


def ok(response) -> dict:
    body = response.json()
    assert response.status_code == 200 and body["code"] == 0 and body["message"] is None, body
    return body["response"]


def refused(response, status: int) -> str:
    body = response.json()
    assert response.status_code == status, body
    assert response["Content-Type"].startswith("application/json")
    assert body["code"] != 0 and body["response"] is None and body["message"]
    return body["message"]


@pytest.mark.parametrize("as_json", [False, True])
def test_add_rename_read_and_delete_a_tier(client, agency, issued, token, as_json):
    added = ok(call(client, "post", "/tiers/SEL", token, data={"tier_name": "Seoul"}, as_json=as_json))
    assert added == {"tier_code": "SEL", "tier_name": "Seoul"}
    sub = agency.sub_merchants.get(tier_code="SEL")
    assert sub.channels.filter(mode="test").exists()  # test channels, as from the console
    assert ok(call(client, "get", "/tiers/SEL", token)) == added
    renamed = ok(call(client, "put", "/tiers/SEL", token, data={"tier_name": "  Seoul Gangnam "},
                      as_json=as_json))
    assert renamed == {"tier_code": "SEL", "tier_name": "Seoul Gangnam"}
    assert ok(call(client, "delete", "/tiers/SEL", token)) == renamed
    assert not Merchant.objects.filter(pk=sub.pk).exists()
    assert "SEL" in refused(call(client, "get", "/tiers/SEL", token), 404)
    assert "SEL" in refused(call(client, "delete", "/tiers/SEL", token), 404)  # deleted already

    label = f"API key {issued.api_key.key} (order server)"
    rows = list(AuditEvent.objects.filter(merchant=agency, action__startswith="sub_merchant")
                .order_by("id").values_list("action", "actor_email", "actor_id"))
    assert rows == [("sub_merchant.create", label, None), ("sub_merchant.update", label, None),
                    ("sub_merchant.delete", label, None)]
    assert AuditEvent.objects.get(action="sub_merchant.update").changes["name"] == {
        "old": "Seoul", "new": "Seoul Gangnam"}


def test_deleting_through_the_api_does_what_the_console_does(client, agency, token):
    sub = make_sub_merchant(agency, "SEL", name="Seoul")
    channel = make_channel(agency, mid="A0001")
    channel_assign(actor=SYSTEM, channel=channel, sub_merchant=sub)
    member = make_member(sub, "viewer")
    ok(call(client, "delete", "/tiers/SEL", token))
    channel.refresh_from_db()
    assert channel.assigned_to is None and channel.merchant == agency
    assert not Membership.objects.filter(operator=member).exists()
    assert AuditEvent.objects.filter(merchant=agency, action="channel.unassign").exists()
    ok(call(client, "post", "/tiers/SEL", token, data={"tier_name": "Seoul again"}))  # the code is free


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("method", ["post", "put"])
def test_a_missing_or_bad_tier_name_is_a_400(client, agency, token, method, as_json):
    make_sub_merchant(agency, "SEL", name="Seoul")
    path = "/tiers/NEW" if method == "post" else "/tiers/SEL"
    for data in ({}, {"tier_name": ""}, {"tier_name": "   "}):
        assert "tier_name is required" in refused(call(client, method, path, token, data=data, as_json=as_json), 400)
    assert "at most 100 characters" in refused(
        call(client, method, path, token, data={"tier_name": "x" * 10_000}, as_json=as_json), 400)
    assert "control characters" in refused(
        call(client, method, path, token, data={"tier_name": "Se\x00oul"}, as_json=as_json), 400)
    if as_json:
        assert "must be a string" in refused(call(client, method, path, token, data={"tier_name": 7},
                                                  as_json=True), 400)
        bad = client.generic(method.upper(), path, "[1, 2]", content_type="application/json",
                             HTTP_AUTHORIZATION=token)
        assert "JSON 또는 폼" in refused(bad, 400)  # i'mport answers in Korean
    assert not agency.sub_merchants.filter(tier_code="NEW").exists()
    assert agency.sub_merchants.get(tier_code="SEL").name == "Seoul"


def test_a_duplicate_code_is_a_400(client, agency, token):
    make_sub_merchant(agency, "SEL", name="Seoul")
    message = refused(call(client, "post", "/tiers/SEL", token, data={"tier_name": "Another"}), 400)
    assert "SEL 코드는 이미 사용 중입니다" in message
    assert agency.sub_merchants.get().name == "Seoul"


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_a_malformed_code_is_a_400_that_says_why(client, agency, token, method):
    """A 400 where PortOne documents one (POST, PUT), else i'mport's refusal in a 200."""
    make_sub_merchant(agency, "SEL", name="Seoul")
    data = {"tier_name": "Seoul"} if method in ("post", "put") else None
    status = 400 if method in ("post", "put") else 200
    message = refused(call(client, method, "/tiers/sel", token, data=data), status)
    assert "티어 코드는 대문자입니다" in message and "/tiers/SEL" in message  # i'mport answers in Korean
    for code in ("SE", "SEOL", "S-L", "%EC%84%9C%EC%9A%B8"):
        assert "정확히 3자" in refused(call(client, method, f"/tiers/{code}", token,
                                                                       data=data), status)
    assert agency.sub_merchants.get().name == "Seoul"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_agencys_tier_is_a_404(client, agency, token, method):
    other = make_merchant("Other agency")
    theirs = make_sub_merchant(other, "OTH", name="Theirs")
    data = {"tier_name": "Mine now"} if method == "put" else None
    assert "OTH" in refused(call(client, method, "/tiers/OTH", token, data=data), 404)
    theirs.refresh_from_db()
    assert theirs.name == "Theirs" and theirs.parent == other
    assert not AuditEvent.objects.filter(merchant=other, action__startswith="sub_merchant.",
                                         actor_email__startswith="API key").exists()


def test_adding_the_code_another_agency_uses_is_fine(client, agency, token):
    make_sub_merchant(make_merchant("Other agency"), "SEL")
    assert ok(call(client, "post", "/tiers/SEL", token, data={"tier_name": "Ours"}))["tier_code"] == "SEL"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_call_acting_for_a_sub_merchant_may_not_manage_tiers(client, agency, token, method):
    make_sub_merchant(agency, "SEL", name="Seoul")
    make_sub_merchant(agency, "BSN", name="Busan")
    data = {"tier_name": "Renamed"} if method != "delete" else None
    for path in ("/tiers/SEL", "/tiers/BSN", "/tiers/NEW"):
        message = refused(call(client, method, path, token, data=data, HTTP_TIER="SEL"), 403)
        assert "Tier 헤더 없이" in message
    assert sorted(agency.sub_merchants.values_list("tier_code", "name")) == [("BSN", "Busan"), ("SEL", "Seoul")]
    # Reading stays as it was: its own tier, and nobody else's.
    assert ok(call(client, "get", "/tiers/SEL", token, HTTP_TIER="SEL"))["tier_name"] == "Seoul"
    refused(call(client, "get", "/tiers/BSN", token, HTTP_TIER="SEL"), 404)


def test_no_token_is_a_401_and_nothing_changes(client, agency):
    for method in ("post", "put", "delete"):
        assert "액세스 토큰" in refused(client.generic(method.upper(), "/tiers/SEL", "tier_name=x",
                                                        content_type="application/x-www-form-urlencoded"), 401)
    assert not agency.sub_merchants.exists()


@pytest.mark.parametrize("method", ["post", "put"])
def test_a_body_of_three_megabytes_is_a_400(client, agency, token, settings, method):
    make_sub_merchant(agency, "SEL", name="Seoul")
    path = "/tiers/NEW" if method == "post" else "/tiers/SEL"
    big_json = json.dumps({"tier_name": "x" * (3 * 1024 * 1024)})
    big_form = "tier_name=" + "x" * (3 * 1024 * 1024)
    for body, content_type in ((big_json, "application/json"), (big_form, "application/x-www-form-urlencoded")):
        response = client.generic(method.upper(), path, body, content_type=content_type,
                                  HTTP_AUTHORIZATION=token)
        assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in refused(response, 400)
    assert sorted(agency.sub_merchants.values_list("tier_code", "name")) == [("SEL", "Seoul")]


def test_an_html_name_is_kept_as_sent_and_escaped_in_the_console(client, agency, owner, token):
    name = "<img src=x onerror=alert(1)>"
    assert ok(call(client, "post", "/tiers/XSS", token, data={"tier_name": name}))["tier_name"] == name
    client.force_login(owner)
    page = client.get(reverse("console:sub_merchants", kwargs={"merchant_code": agency.code})).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_tier_endpoints_sit_behind_the_whitelist(client, agency, token):
    whitelist_save(actor=SYSTEM, merchant=agency, enabled=True, rows=[("203.0.113.0/24", "office")])
    response = call(client, "post", "/tiers/SEL", token, data={"tier_name": "Seoul"}, REMOTE_ADDR="198.51.100.1")
    assert "198.51.100.1" in refused(response, 403)
    assert not agency.sub_merchants.exists()
