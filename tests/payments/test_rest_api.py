"""Contract tests of the i'mport-compatible REST API (shared/reference/api-and-webhooks.md)."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from api_keys.services import api_keys
from api_keys.services.whitelist import whitelist_save
from console.models import ApiKey, ApiToken, AuditEvent
from console.tenancy.audit import Actor
from tests.factories import make_channel, make_merchant, make_sub_merchant

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(agency):
    return api_keys.api_key_create(actor=Actor(), merchant=agency, name="order server")


def get_token(client, key, secret, *, form=False, ip="198.51.100.5", **extra):
    body = {"imp_key": key, "imp_secret": secret}
    if form:
        return client.post("/users/getToken", body, REMOTE_ADDR=ip, **extra)
    return client.post("/users/getToken", json.dumps(body), content_type="application/json", REMOTE_ADDR=ip, **extra)


def token_of(client, issued, **kw) -> str:
    response = get_token(client, issued.api_key.key, issued.secret, **kw)
    assert response.status_code == 200, response.content
    return response.json()["response"]["access_token"]


@pytest.mark.parametrize("form", [False, True])
def test_get_token_with_json_and_form_bodies(client, issued, form):
    response = get_token(client, issued.api_key.key, issued.secret, form=form)
    body = response.json()
    assert response.status_code == 200 and body["code"] == 0 and body["message"] is None
    token = body["response"]
    assert isinstance(token["now"], int) and token["expired_at"] - token["now"] == 1800
    assert len(token["access_token"]) >= 32


@pytest.mark.parametrize(("key", "secret"), [("0000000000000000", "x"), (None, "wrong-secret")])
def test_bad_key_or_secret_is_a_401_envelope(client, issued, key, secret):
    response = get_token(client, key if key is not None else issued.api_key.key, secret)
    body = response.json()
    assert response.status_code == 401 and body["code"] != 0 and body["response"] is None
    assert "올바르지 않거나" in body["message"]


@pytest.mark.parametrize("body", [{}, {"imp_key": None, "imp_secret": None}, {"imp_key": "", "imp_secret": ""},
                                  {"imp_key": "1234"}, {"imp_secret": "x"}])
def test_a_missing_key_or_secret_is_imports_refusal_in_a_200(client, body):
    """PortOne documents getToken with 200 and 401 only: a missing field is i'mport's refusal,
    HTTP 200 with a non-zero code and i'mport's own words (issue 23, items 1 and 2)."""
    response = client.post("/users/getToken", json.dumps(body), content_type="application/json",
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.json() == {"code": -1, "message": "imp_key, imp_secret 파라메터가 누락되었습니다.", "response": None}


def test_malformed_json_is_a_refusal_in_the_envelope(client, issued, agency):
    """A 400 where the operation documents one (PUT /tiers), else i'mport's refusal in a 200:
    PortOne documents getToken with 200 and 401 only."""
    response = client.post("/users/getToken", "{not json", content_type="application/json")
    assert response.status_code == 200 and response.json()["code"] != 0
    make_sub_merchant(agency, "ABC")
    response = client.put("/tiers/ABC", "{not json", content_type="application/json",
                          HTTP_AUTHORIZATION=token_of(client, issued))
    assert response.status_code == 400 and response.json()["code"] != 0


def test_same_token_until_expiry_then_extension_then_new(client, issued, monkeypatch):
    first = get_token(client, issued.api_key.key, issued.secret).json()["response"]
    again = get_token(client, issued.api_key.key, issued.secret).json()["response"]
    assert again["access_token"] == first["access_token"] and again["expired_at"] == first["expired_at"]

    real_now = timezone.now
    monkeypatch.setattr(api_keys.timezone, "now", lambda: real_now() + timedelta(minutes=29, seconds=30))
    extended = get_token(client, issued.api_key.key, issued.secret).json()["response"]
    assert extended["access_token"] == first["access_token"]
    assert extended["expired_at"] == first["expired_at"] + 300

    monkeypatch.setattr(api_keys.timezone, "now", lambda: real_now() + timedelta(minutes=40))
    assert client.get("/users/pg", HTTP_AUTHORIZATION=first["access_token"]).status_code == 401  # expired
    renewed = get_token(client, issued.api_key.key, issued.secret).json()["response"]
    assert renewed["access_token"] != first["access_token"]


def test_tokens_are_not_stored_in_clear(client, issued):
    token = token_of(client, issued)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM console_apitoken")
        rows = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM console_apikey")
        rows += repr(cursor.fetchall())
    assert token not in rows and issued.secret not in rows


@pytest.mark.parametrize("scheme", ["", "Bearer "])
def test_users_pg_lists_channels_without_credentials(client, issued, agency, scheme):
    live = make_channel(agency, mid="A52Q7", name="KCP card", credentials={"site_key": "never-in-the-api-1"})
    token = token_of(client, issued)
    response = client.get("/users/pg", HTTP_AUTHORIZATION=scheme + token)
    body = response.json()
    assert response.status_code == 200 and body["code"] == 0
    rows = body["response"]
    assert {"pg_provider": "kcp", "pg_id": "A52Q7", "sandbox": False, "type": "payment",
            "channel_name": "KCP card", "channel_key": live.channel_key} in rows
    assert any(r["pg_provider"] == "kcp" and r["pg_id"] == "T0000" and r["sandbox"] for r in rows)
    assert all(set(r) == {"pg_provider", "pg_id", "sandbox", "type", "channel_name", "channel_key"} for r in rows)
    assert "never-in-the-api-1" not in response.content.decode()


def test_missing_or_unknown_token_is_401(client):
    assert client.get("/users/pg").status_code == 401
    response = client.get("/users/pg", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401 and response.json()["response"] is None


def test_tier_header_own_and_foreign(client, issued, agency):
    seoul = make_sub_merchant(agency, "SEL", name="Seoul")
    foreign = make_sub_merchant(make_merchant("Other"), "FOR")
    assigned = make_channel(agency, mid="B0001")
    from channels.services import channel_assign
    channel_assign(actor=Actor(), channel=assigned, sub_merchant=seoul)
    unassigned = make_channel(agency, mid="C0001")
    token = token_of(client, issued)
    rows = client.get("/users/pg", HTTP_AUTHORIZATION=token, HTTP_TIER="SEL").json()["response"]
    keys = {r["channel_key"] for r in rows}
    assert assigned.channel_key in keys and unassigned.channel_key not in keys
    for tier in ("FOR", "ZZZ"):
        response = client.get("/users/pg", HTTP_AUTHORIZATION=token, HTTP_TIER=tier)
        assert response.status_code == 200 and response.json()["code"] != 0  # /users/pg documents 200 only
    assert client.get("/tiers/SEL", HTTP_AUTHORIZATION=token).json()["response"] == {
        "tier_code": "SEL", "tier_name": "Seoul"}
    assert client.get(f"/tiers/{foreign.tier_code}", HTTP_AUTHORIZATION=token).status_code == 404


def test_whitelist_on_and_off_with_v4_and_v6(client, issued, agency):
    token = token_of(client, issued, ip="203.0.113.9")
    whitelist_save(actor=Actor(), merchant=agency, enabled=True,
                   rows=[("203.0.113.0/24", "office"), ("2001:db8::/32", "v6")])
    assert client.get("/users/pg", HTTP_AUTHORIZATION=token, REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.get("/users/pg", HTTP_AUTHORIZATION=token, REMOTE_ADDR="2001:db8::7").status_code == 200
    for address in ("198.51.100.1", "2001:db9::1"):
        response = client.get("/users/pg", HTTP_AUTHORIZATION=token, REMOTE_ADDR=address)
        assert response.status_code == 403 and address in response.json()["message"]
    refused = get_token(client, issued.api_key.key, issued.secret, ip="198.51.100.1")
    assert refused.status_code == 403 and "198.51.100.1" in refused.json()["message"]
    whitelist_save(actor=Actor(), merchant=agency, enabled=False, rows=[("203.0.113.0/24", "office")])
    assert client.get("/users/pg", HTTP_AUTHORIZATION=token, REMOTE_ADDR="198.51.100.1").status_code == 200


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(client, issued, agency, settings):
    token = token_of(client, issued)
    whitelist_save(actor=Actor(), merchant=agency, enabled=True, rows=[("203.0.113.0/24", "")])
    forged = client.get("/users/pg", HTTP_AUTHORIZATION=token, REMOTE_ADDR="198.51.100.1",
                        HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forged.status_code == 403  # an untrusted sender cannot claim an address
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    via_proxy = client.get("/users/pg", HTTP_AUTHORIZATION=token, REMOTE_ADDR="10.1.2.3",
                           HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.9")
    assert via_proxy.status_code == 200
    refused = client.get("/users/pg", HTTP_AUTHORIZATION=token, REMOTE_ADDR="10.1.2.3",
                         HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert refused.status_code == 403 and "198.51.100.77" in refused.json()["message"]


def test_reissue_and_revoke_end_existing_tokens(client, issued, agency):
    token = token_of(client, issued)
    reissued = api_keys.api_key_reissue(actor=Actor(), api_key=issued.api_key)
    assert client.get("/users/pg", HTTP_AUTHORIZATION=token).status_code == 401
    assert get_token(client, issued.api_key.key, issued.secret).status_code == 401  # old secret
    new_token = token_of(client, reissued)
    api_keys.api_key_revoke(actor=Actor(), api_key=issued.api_key)
    assert client.get("/users/pg", HTTP_AUTHORIZATION=new_token).status_code == 401
    assert get_token(client, issued.api_key.key, reissued.secret).status_code == 401
    actions = list(AuditEvent.objects.filter(merchant=agency, action__startswith="api_key")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["api_key.create", "api_key.reissue", "api_key.revoke"]
    for event in AuditEvent.objects.filter(action__startswith="api_key"):
        assert issued.secret not in repr(event.__dict__) and reissued.secret not in repr(event.__dict__)


def test_failed_get_token_is_limited_per_address_success_is_not(client, issued):
    for _ in range(10):
        assert get_token(client, issued.api_key.key, "wrong", ip="192.0.2.50").status_code == 401
    limited = get_token(client, issued.api_key.key, issued.secret, ip="192.0.2.50")
    assert limited.status_code == 429 and limited.json()["code"] != 0
    assert get_token(client, issued.api_key.key, issued.secret, ip="192.0.2.51").status_code == 200
    for _ in range(30):  # successes are never slowed
        assert get_token(client, issued.api_key.key, issued.secret, ip="192.0.2.52").status_code == 200


def test_last_used_is_written_at_most_once_a_minute(client, issued, django_assert_max_num_queries):
    token = token_of(client, issued)
    ApiKey.objects.filter(pk=issued.api_key.pk).update(last_used_at=timezone.now())
    before = ApiKey.objects.get(pk=issued.api_key.pk).last_used_at
    for _ in range(5):
        client.get("/users/pg", HTTP_AUTHORIZATION=token)
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at == before


def test_sub_merchants_have_no_keys_and_csrf_is_not_needed(agency):
    from django.core.exceptions import ValidationError
    from django.test import Client

    sub = make_sub_merchant(agency, "S01")
    with pytest.raises(ValidationError):
        api_keys.api_key_create(actor=Actor(), merchant=sub, name="x")
    strict = Client(enforce_csrf_checks=True)
    issued = api_keys.api_key_create(actor=Actor(), merchant=agency, name="y")
    assert get_token(strict, issued.api_key.key, issued.secret).status_code == 200
    assert ApiToken.objects.count() == 1


# --- Every answer in the envelope (issue: hardening, REST answers) ----------------------


def test_a_wrong_method_is_a_405_in_the_envelope(client):
    for method, path in (("get", "/users/getToken"), ("post", "/users/pg"), ("patch", "/tiers/ABC")):
        response = getattr(client, method)(path)
        assert response.status_code == 405, (method, path)
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        assert body["code"] != 0 and body["response"] is None
        assert method.upper() in body["message"]
        assert set(response["Allow"].split(", ")) in ({"GET", "HEAD"}, {"POST"},
                                                      {"GET", "HEAD", "POST", "PUT", "DELETE"})


def test_a_body_over_the_upload_limit_is_a_refusal_in_the_envelope(client, settings):
    big = b'{"tier_name": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = client.put("/tiers/ABC", data=big, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] != 0 and body["response"] is None
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in body["message"]
    form = client.post("/users/getToken", data="imp_key=" + "x" * (3 * 1024 * 1024),
                       content_type="application/x-www-form-urlencoded")
    assert form.status_code == 200 and form.json()["code"] != 0  # getToken documents no 400


@pytest.mark.parametrize("path", ["/users/nothing", "/payments/imp_123456789012/refund", "/tiers", "/vbanks/x/y",
                                  "/subscribe/nothing", "/subscribe/customers/abc/cards"])
def test_an_unknown_path_under_the_api_is_a_404_in_the_envelope(client, path):
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code == 404, (method, path)
        body = response.json()
        assert body["code"] != 0 and body["response"] is None and path in body["message"]


def test_a_console_path_is_still_a_console_page(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")


def test_users_pg_leaves_out_a_disabled_channel(client, issued, agency):
    from channels.services import channel_set_enabled

    on = make_channel(agency, mid="ONMID", name="On")  # KCP site codes are 5 characters
    off = make_channel(agency, mid="OFFMD", name="Off")
    channel_set_enabled(actor=Actor(), channel=off, enabled=False)
    keys = {r["channel_key"] for r in client.get(
        "/users/pg", HTTP_AUTHORIZATION=token_of(client, issued)).json()["response"]}
    assert on.channel_key in keys and off.channel_key not in keys


def test_an_answer_is_json_whatever_accept_asks_for(client, issued):
    """A client that asks for HTML (or anything else) still gets the envelope, not a 406."""
    for accept in ("text/html", "application/xml", "image/png"):
        response = client.post("/users/getToken", {"imp_key": issued.api_key.key, "imp_secret": issued.secret},
                               content_type="application/json", HTTP_ACCEPT=accept)
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == 0


def test_a_body_in_neither_json_nor_a_form_is_a_refusal_in_the_envelope(client):
    response = client.post("/users/getToken", "imp_key=1", content_type="text/plain")
    assert response.status_code == 200  # getToken documents no 400: i'mport's refusal
    body = response.json()
    assert body["code"] != 0 and body["response"] is None and "JSON 또는 폼" in body["message"]  # i'mport answers in Korean
