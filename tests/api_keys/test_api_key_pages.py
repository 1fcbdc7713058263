import pytest
from django.urls import reverse

from api_keys.services.api_keys import api_key_check, api_key_create
from api_keys.views import SHOWN_SECRET
from console.models import ApiKey
from console.tenancy.audit import Actor
from tests.factories import make_member, make_sub_merchant

pytestmark = pytest.mark.django_db


def url(merchant, name="api_keys", **kw):
    return reverse(f"console:{name}", kwargs={"merchant_code": merchant.code, **kw})


def test_create_shows_the_secret_once(client, agency, owner):
    client.force_login(owner)
    page = client.get(url(agency)).content.decode()
    for words in ("API keys", "Create API key", agency.code, "No API key yet."):
        assert words in page
    posted = client.post(url(agency), {"name": "order server", "expires_on": "2099-12-31"})
    assert posted.status_code == 302 and posted["Location"] == url(agency)  # post/redirect/get
    response = client.get(posted["Location"])
    html = response.content.decode()
    key = ApiKey.objects.get(merchant=agency)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "shown only now" in html and key.key in html
    secret = html.split('data-copy="', 3)[-1].split('"')[0]  # the imp_secret copy button
    assert len(secret) == 80 and secret not in key.secret_hash
    again = client.get(url(agency)).content.decode()
    assert key.key in again and secret not in again and "2099-12-31" in again


def test_a_reload_after_create_shows_no_secret_and_creates_nothing(client, agency, owner):
    client.force_login(owner)
    posted = client.post(url(agency), {"name": "order server"})
    assert posted.status_code == 302 and not posted.content  # a redirect, no page of its own
    kept = client.session[SHOWN_SECRET]
    first = client.get(url(agency))
    secret = first.content.decode().split('data-copy="', 3)[-1].split('"')[0]
    assert len(secret) == 80 and secret not in kept  # the session kept it encrypted
    assert SHOWN_SECRET not in client.session  # taken out by the first GET
    reload = client.get(url(agency))  # F5 on the page that showed it
    assert reload.status_code == 200 and secret not in reload.content.decode()
    assert "shown only now" not in reload.content.decode()
    assert ApiKey.objects.filter(merchant=agency).count() == 1
    assert api_key_check(ApiKey.objects.get().key, secret) is not None


def test_a_reload_after_reissue_rotates_nothing(client, agency, owner):
    issued = api_key_create(actor=Actor(), merchant=agency, name="k")
    client.force_login(owner)
    posted = client.post(url(agency, "api_key_reissue", key_id=issued.api_key.pk))
    assert posted.status_code == 302 and posted["Location"] == url(agency)
    shown = client.get(posted["Location"])
    assert "no-store" in shown["Cache-Control"]
    secret = shown.content.decode().split('data-copy="', 3)[-1].split('"')[0]
    issued.api_key.refresh_from_db()
    version = issued.api_key.secret_version
    reload = client.get(url(agency))
    assert secret not in reload.content.decode() and "shown only now" not in reload.content.decode()
    issued.api_key.refresh_from_db()
    assert issued.api_key.secret_version == version == 2
    assert api_key_check(issued.api_key.key, secret) is not None
    assert api_key_check(issued.api_key.key, issued.secret) is None


def test_a_kept_secret_is_shown_only_on_its_own_merchants_page(client, agency, owner):
    other = make_sub_merchant(agency, "S02")
    client.force_login(owner)
    client.post(url(agency), {"name": "order server"})
    page = client.get(url(other)).content.decode()  # another page of the console first
    assert "shown only now" not in page
    assert "shown only now" not in client.get(url(agency)).content.decode()  # and not later


@pytest.mark.parametrize(("data", "message"), [
    ({"name": ""}, "Give the key a name"),
    ({"name": "x" * 61}, "at most 60 characters"),
    ({"name": "k", "expires_on": "31/12/2099"}, "Enter the expiry as a date"),
    ({"name": "k", "expires_on": "2000-01-01"}, "must be in the future"),
])
def test_bad_input_is_a_400_and_nothing_is_created(client, agency, owner, data, message):
    client.force_login(owner)
    response = client.post(url(agency), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ApiKey.objects.exists()


def test_reissue_and_revoke_from_the_page(client, agency, owner):
    issued = api_key_create(actor=Actor(), merchant=agency, name="k")
    client.force_login(owner)
    response = client.post(url(agency, "api_key_reissue", key_id=issued.api_key.pk), follow=True)
    assert response.redirect_chain == [(url(agency), 302)]
    assert response.status_code == 200 and "shown only now" in response.content.decode()
    assert issued.secret not in response.content.decode()
    assert client.get(url(agency, "api_key_reissue", key_id=issued.api_key.pk)).status_code == 405
    client.post(url(agency, "api_key_revoke", key_id=issued.api_key.pk))
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is not None
    assert "Revoked" in client.get(url(agency)).content.decode()


@pytest.mark.parametrize("role", ["manager", "developer", "viewer"])
def test_only_owner_and_admin_manage_keys(client, agency, role):
    issued = api_key_create(actor=Actor(), merchant=agency, name="k")
    operator = make_member(agency, role)
    client.force_login(operator)
    page = client.get(url(agency)).content.decode()
    assert issued.api_key.key in page and "Create API key" not in page and "Reissue secret" not in page
    assert client.post(url(agency), {"name": "x"}).status_code == 403
    assert client.post(url(agency, "api_key_reissue", key_id=issued.api_key.pk)).status_code == 403
    assert client.post(url(agency, "api_key_revoke", key_id=issued.api_key.pk)).status_code == 403
    assert ApiKey.objects.count() == 1


def test_sub_merchant_page_explains_the_tier_header(client, agency, owner):
    sub = make_sub_merchant(agency, "S01")
    client.force_login(owner)
    html = client.get(url(sub)).content.decode()
    assert "Tier: S01" in html and "Create API key" not in html


def test_api_keys_page_query_count_is_flat(client, agency, owner, django_assert_max_num_queries):
    for i in range(40):
        api_key_create(actor=Actor(), merchant=agency, name=f"key {i}")
    client.force_login(owner)
    with django_assert_max_num_queries(10):
        response = client.get(url(agency))
    assert response.status_code == 200 and response.content.decode().count("Reissue secret") == 40
