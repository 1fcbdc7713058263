"""No network I/O inside a transaction: saving an endpoint resolves its URL before it opens
one, and the services that report whether the broker took a delivery refuse to run inside a
caller's transaction (their commit, and so the hand-over to the broker, would come later)."""

import socket

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from console.models import Merchant
from console.tenancy.audit import Actor
from tests.factories import make_merchant
from webhooks import services
from webhooks.models import Delivery, WebhookEndpoint

_real_getaddrinfo = socket.getaddrinfo


@pytest.mark.django_db(transaction=True)
def test_saving_an_endpoint_holds_no_transaction_while_its_host_is_resolved(monkeypatch):
    """While the (slow) lookup runs, the saving connection is in no transaction (on SQLite,
    whose transactions begin IMMEDIATE, one would hold the database's write lock), and
    another connection writes to the tables the save is about to write."""
    merchant = make_merchant("Resolver")
    saving = connections["default"]  # this thread's connection, the one endpoint_save uses
    seen = {}

    def slow_getaddrinfo(host, port, *args, **kwargs):
        if host != "slow.example":
            return _real_getaddrinfo(host, port, *args, **kwargs)
        seen["in_transaction"] = saving.in_atomic_block
        try:  # another process writing meanwhile (this lookup thread has its own connection)
            Merchant.objects.filter(pk=merchant.pk).update(name="Renamed during the lookup")
            WebhookEndpoint.objects.create(merchant=merchant, mode="live", url="")
            seen["other_write"] = "committed"
        finally:
            connection.close()
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    endpoint = services.endpoint_save(actor=Actor(), merchant=merchant, mode="test",
                                      url="http://slow.example:9/hook", content_type="json", version="v1")
    assert seen == {"in_transaction": False, "other_write": "committed"}
    assert endpoint.url == "http://slow.example:9/hook"
    merchant.refresh_from_db()
    assert merchant.name == "Renamed during the lookup"
    assert set(WebhookEndpoint.objects.filter(merchant=merchant).values_list("mode", flat=True)) == {
        "live", "test"}


@pytest.fixture
def endpoint(db):
    merchant = make_merchant("Outermost")
    return services.endpoint_save(actor=Actor(), merchant=merchant, mode="test", url="http://127.0.0.1:9/h",
                                  content_type="json", version="v1")


def test_send_test_refuses_to_run_inside_an_outer_transaction(endpoint):
    with transaction.atomic(), pytest.raises(RuntimeError):
        services.delivery_send_test(actor=Actor(), merchant=endpoint.merchant, mode="test")
    assert not Delivery.objects.exists()


def test_notify_event_refuses_to_run_inside_an_outer_transaction(endpoint):
    with transaction.atomic(), pytest.raises(RuntimeError):
        services.notify_event(merchant=endpoint.merchant, mode="test", imp_uid="imp_1",
                              merchant_uid="o_1", status="paid")
    assert not Delivery.objects.exists()


def test_resend_refuses_to_run_inside_an_outer_transaction(endpoint):
    delivery = Delivery.objects.create(
        merchant=endpoint.merchant, endpoint=endpoint, mode="test", trigger="test", event="paid",
        url=endpoint.url, content_type="json", version="v1", body="{}", status="failed",
        attempt_count=1, max_attempts=1, completed_at=timezone.now())
    with transaction.atomic(), pytest.raises(RuntimeError):
        services.delivery_resend(actor=Actor(), delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == "failed"

