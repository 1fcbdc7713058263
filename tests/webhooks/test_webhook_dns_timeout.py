"""Resolving a webhook's host has a deadline, at save time (inside the operator's web request)
and at send time: a resolver that hangs costs WEBHOOK_DNS_TIMEOUT, then a clear "could not be
resolved in N seconds" (kind dns), never a request or a worker stuck behind it.

The system resolver is replaced (as tests/webhooks/test_webhook_net.py's ``fake_dns`` does) by one that
hangs for names under ``hang.test``; it would answer after 20 s, so a test that ends well
before proves the caller stopped waiting."""

import socket
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from console.tenancy.audit import Actor
from tests.factories import make_merchant
from webhooks import services
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.net import UnsafeURL, check_url, post

HANG = 20  # seconds the resolver takes for *.hang.test (released at the end of each test)
ENDED = 10  # far above the timeouts used, far below HANG: the call ended instead of waiting

_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def hanging_dns(monkeypatch):
    release = threading.Event()
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".hang.test"):
            calls.append(host)
            release.wait(HANG)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield calls
    release.set()  # let the abandoned lookups finish


def test_check_url_gives_up_on_a_hanging_resolver(hanging_dns):
    started = time.monotonic()
    with pytest.raises(UnsafeURL) as info:
        check_url("https://hooks.hang.test/pg", dns_timeout=0.3)
    assert time.monotonic() - started < ENDED
    assert info.value.kind == "dns"
    assert info.value.message == "hooks.hang.test could not be resolved in 0.3 seconds."
    assert info.value.reason.as_json() == {"code": "dns.timeout", "host": "hooks.hang.test", "seconds": 0.3}
    assert hanging_dns == ["hooks.hang.test"]


@pytest.mark.django_db
def test_saving_an_endpoint_gives_up_on_a_hanging_resolver(hanging_dns, settings):
    settings.WEBHOOK_DNS_TIMEOUT = 0.3
    merchant = make_merchant("Patient")
    started = time.monotonic()
    with pytest.raises(ValidationError) as info:
        services.endpoint_save(actor=Actor(), merchant=merchant, mode="test",
                               url="https://hooks.hang.test/pg", content_type="json", version="v1")
    assert time.monotonic() - started < ENDED
    assert info.value.message_dict["url"] == ["hooks.hang.test could not be resolved in 0.3 seconds."]
    assert not WebhookEndpoint.objects.filter(merchant=merchant).exists()


@pytest.mark.django_db
def test_the_save_page_answers_with_the_dns_error(client, owner, agency, hanging_dns, settings):
    settings.WEBHOOK_DNS_TIMEOUT = 0.3
    client.force_login(owner)
    started = time.monotonic()
    response = client.post(reverse("webhooks:save", kwargs={"merchant_code": agency.code, "mode": "test"}),
                           {"test-url": "https://hooks.hang.test/pg", "test-content_type": "json",
                            "test-version": "v1", "test-enabled": "on"})
    assert time.monotonic() - started < ENDED
    assert response.status_code == 400
    assert "hooks.hang.test could not be resolved in 0.3 seconds." in response.content.decode()


def test_a_send_gives_up_on_a_hanging_resolver(hanging_dns):
    started = time.monotonic()
    result = post("https://hooks.hang.test/pg", body=b"{}", headers={}, dns_timeout=0.3)
    assert time.monotonic() - started < ENDED
    assert result.error_kind == "dns" and result.status is None
    assert result.error_message == "hooks.hang.test could not be resolved in 0.3 seconds."
    assert result.error_params == {"code": "dns.timeout", "host": "hooks.hang.test", "seconds": 0.3}


def test_the_send_deadline_bounds_the_lookup_too(hanging_dns):
    """A DNS timeout longer than the whole send's deadline is cut to what is left of it."""
    started = time.monotonic()
    result = post("https://hooks.hang.test/pg", body=b"{}", headers={}, dns_timeout=8, deadline=0.5)
    assert time.monotonic() - started < ENDED - 2  # not the 8 s of the DNS timeout
    assert result.error_kind == "dns"
    assert result.error_params["code"] == "dns.timeout" and result.error_params["seconds"] <= 0.5


@pytest.mark.django_db
def test_a_delivery_to_a_host_that_cannot_be_resolved_in_time_is_a_retryable_dns_attempt(
        hanging_dns, settings):
    settings.WEBHOOK_DNS_TIMEOUT = 0.3
    merchant = make_merchant("Unresolved")
    endpoint = services.endpoint_ensure(merchant=merchant, mode="live")
    # The URL set behind the form's back (saving it would resolve it): a send goes to the
    # endpoint's URL as it is at send time.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://hooks.hang.test/pg")
    delivery = Delivery.objects.create(
        merchant=merchant, endpoint=endpoint, mode="live", trigger="event", event="paid",
        url="https://hooks.hang.test/pg", content_type="json", version="v1", body="{}",
        next_attempt_at=timezone.now())
    started = time.monotonic()
    attempt = services.deliver(delivery.pk)
    assert time.monotonic() - started < ENDED
    delivery.refresh_from_db()
    assert attempt.error_kind == "dns" and attempt.error_params["code"] == "dns.timeout"
    assert attempt.error_text == "hooks.hang.test could not be resolved in 0.3 seconds."
    assert delivery.status == "retrying"  # DNS trouble is worth another try
