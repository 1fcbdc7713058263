"""The audit log as an operator reads it: operators' changes first (the system's own
bookkeeping on request), a bad filter lists nothing, and a row reads alike in every language."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.services import invitations
from console.models import AuditEvent
from console.tenancy.audit import Actor
from tests.factories import make_member, make_sub_merchant
from webhooks import services as webhook_services

pytestmark = pytest.mark.django_db


def _page(client, agency, **params):
    return client.get(reverse("console:audit_log", kwargs={"merchant_code": agency.code}), params)



def test_the_systems_own_bookkeeping_is_hidden_until_asked_for(client, agency, owner):
    make_sub_merchant(agency, "B01", name="Busan")  # the system adds its shared test channels
    bookkeeping = AuditEvent.objects.filter(action="channel.create_shared_test", actor_email="").count()
    assert bookkeeping >= 10
    client.force_login(owner)
    html = _page(client, agency).content.decode()
    assert f"({bookkeeping} rows: shared test channels" in html
    html = html.split("<tbody>", 1)[1]  # the rows, not the filter's list of actions
    assert "channel.create_shared_test" not in html
    assert "sub_merchant.create" in html  # an operator's (here the system's) real change stays
    shown = _page(client, agency, bookkeeping="on").content.decode().split("<tbody>", 1)[1]
    assert "channel.create_shared_test" in shown
    # Asking for the action itself lists it too.
    asked = _page(client, agency, action="channel.create_shared_test").content.decode().split("<tbody>", 1)[1]
    assert "channel.create_shared_test" in asked


def test_a_reversed_date_range_is_an_error_that_lists_nothing(client, agency, owner):
    client.force_login(owner)
    response = _page(client, agency, date_from="2026-12-02", date_to="2026-11-01")
    html = response.content.decode()
    assert response.status_code == 400
    assert "The end date is before the start date." in html
    assert "Nothing is listed until the filters are fixed." in html
    assert "<tbody>" not in html


def test_a_row_names_its_target_alike_whatever_language_the_actor_used(client, agency, owner):
    webhook_services.endpoint_save(actor=Actor(), merchant=agency, mode="test",
                                   url="http://127.0.0.1:9/x", content_type="json", version="v1")
    with translation.override("ko"):  # a Korean operator acts
        webhook_services.delivery_send_test(actor=Actor(user=owner), merchant=agency, mode="test")
        invitations.invitation_create(actor=Actor(user=owner), merchant=agency, email="k@example.test",
                                      role="viewer", actor_role="owner", origin="http://testserver")
        make_member(agency, "developer")
    rows = AuditEvent.objects.filter(merchant=agency).values_list("target_repr", flat=True)
    hangul = re.compile(r"[\uac00-\ud7a3]")
    assert not [r for r in rows if hangul.search(r)], list(rows)
    client.force_login(owner)
    html = _page(client, agency).content.decode()
    assert "k@example.test" in html and not hangul.search(html.split("<tbody>", 1)[1])
