"""Issue 20, item 7: a window anyone can open (the merchant code and a ``customer_uid`` are
enough) replaces an existing customer's billing key: another PG, a card that declines, the
buyer's name and e-mail. PortOne's rule is that issuing again under a ``customer_uid``
replaces its key, and the sandbox keeps it; but each replacement is now recorded: an audit row
in the same transaction (what changed, through which door, the window's ``imp_uid``, the
caller's address), and the key's page in the console shows when and from where it was
replaced."""

import re

import pytest
from django.urls import reverse

from console.models import AuditEvent
from console.tenancy.audit import Actor
from payments.audit import AuditAction
from payments.domain import billing_keys
from payments.models import BillingKey
from payments.sandbox import cards
from tests.factories import make_member, make_merchant
from tests.payments.test_window_billing_key import open_window, press, rsp_of

pytestmark = pytest.mark.django_db

APPROVE = "9410-0000-7000-0000"


@pytest.fixture
def shop(db):
    return make_merchant("Corner Shop")


def issued_over_the_api(merchant) -> BillingKey:
    return billing_keys.billing_key_issue(merchant=merchant, customer_uid="gildong_0001", card_number=APPROVE,
                                     expiry="2030-12", birth="900101", pg="ksnet.2999199990",
                                     customer_name="Hong Gildong", customer_email="gildong@example.test")


def replacements(merchant):
    return AuditEvent.objects.filter(merchant=merchant, action=AuditAction.BILLING_KEY_REPLACE)


def test_a_window_replacing_a_customers_key_is_recorded_and_shown_on_the_keys_page(client, shop):
    key = issued_over_the_api(shop)
    assert not replacements(shop).exists()  # issuing a key for the first time replaces nothing

    window = open_window(client, shop, customer_uid="gildong_0001", buyer_name="Mallory",
                         buyer_email="mallory@evil.example", merchant_uid="issue-evil")
    done, imp_uid = press(client, window, "issue", test_card="limit_exceeded")
    assert rsp_of(done)["success"] is True  # PortOne's rule stands: issuing again replaces the key

    key.refresh_from_db()
    assert key.deleted_at is None and key.pg_provider == "html5_inicis"
    assert key.card_number == cards.BY_KEY["limit_exceeded"].masked and key.customer_name == "Mallory"
    event = replacements(shop).get()
    assert (event.target_type, event.target_id) == ("payments.billingkey", str(key.pk))
    assert event.ip_address == "127.0.0.1" and event.actor is None and event.actor_email == ""
    changes = event.changes
    assert changes["issued_through"] == {"old": "api", "new": "window"}
    assert changes["imp_uid"] == {"old": None, "new": imp_uid}
    assert changes["pg_provider"] == {"old": "ksnet", "new": "html5_inicis"}
    assert changes["card_number"] == {"old": cards.BY_KEY["approve"].masked,
                                      "new": cards.BY_KEY["limit_exceeded"].masked}
    assert changes["customer_name"] == {"old": "Hong Gildong", "new": "Mallory"}
    assert changes["customer_email"] == {"old": "gildong@example.test", "new": "mallory@evil.example"}
    assert "9410000070000000" not in str(changes)  # masked numbers only

    client.force_login(make_member(shop, "viewer"))
    page = client.get(reverse("billing_keys:detail", kwargs={"merchant_code": shop.code,
                                                             "billing_key_id": key.pk}))
    html = page.content.decode()
    assert page.status_code == 200
    section = html[html.index('id="key-replacements"'):]
    assert "Replaced" in html and imp_uid in section and "127.0.0.1" in section
    assert "Payment window" in section and re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", section)
    assert cards.BY_KEY["approve"].masked in section and "Hong Gildong" in section


def test_a_replacement_over_the_api_names_the_api_key(shop):
    issued_over_the_api(shop)
    actor = Actor(ip="203.0.113.7")
    billing_keys.billing_key_issue(merchant=shop, customer_uid="gildong_0001", card_number=APPROVE, expiry="2030-12",
                              birth="900101", pg="ksnet.2999199990", customer_name="Hong Gildong", actor=actor)
    event = replacements(shop).get()
    assert event.ip_address == "203.0.113.7"
    assert event.changes["issued_through"] == {"old": "api", "new": "api"}
    assert "imp_uid" not in event.changes


def test_the_rest_api_records_its_key_as_the_one_who_replaced(client, shop):
    from api_keys.services.api_keys import api_key_create
    from console.tenancy.audit import SYSTEM

    issued_over_the_api(shop)
    issued = api_key_create(actor=SYSTEM, merchant=shop, name="billing server")
    token = client.post("/users/getToken", {"imp_key": issued.api_key.key, "imp_secret": issued.secret}
                        ).json()["response"]["access_token"]
    answer = client.post("/subscribe/customers/gildong_0001", {
        "card_number": APPROVE, "expiry": "2030-12", "birth": "900101", "pg": "ksnet.2999199990"},
        HTTP_AUTHORIZATION=token)
    assert answer.json()["code"] == 0
    event = replacements(shop).get()
    assert event.actor_email.startswith(f"API key {issued.api_key.key}")
