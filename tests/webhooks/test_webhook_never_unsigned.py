"""A delivery never goes out unsigned. An endpoint whose every secret is gone (deleted or
expired behind the console's back) gets a new one at send time, rotated in and audited as
the system, and the webhook is signed with it (see webhooks.services.endpoints.
secrets_ensure_active for why this, rather than failing the attempt)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from console.models import AuditEvent
from console.tenancy.audit import Actor
from console.tenancy.crypto import decrypt_text
from tests.factories import make_merchant
from tests.receiver import Receiver, Reply
from webhooks import services
from webhooks.models import Delivery, WebhookSecret

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.mark.parametrize("lost", ["deleted", "expired"])
def test_an_endpoint_without_an_active_secret_signs_with_a_new_one(receiver, lost):
    merchant = make_merchant("Unsigned")
    receiver.script("/signed", [Reply(200, b"ok")])
    endpoint = services.endpoint_save(actor=Actor(), merchant=merchant, mode="live",
                                      url=receiver.url("/signed"), content_type="json", version="v1")
    old = list(WebhookSecret.objects.filter(endpoint=endpoint))
    if lost == "deleted":
        WebhookSecret.objects.filter(endpoint=endpoint).delete()
    else:
        WebhookSecret.objects.filter(endpoint=endpoint).update(expires_at=timezone.now() - timedelta(hours=1))
    delivery = Delivery.objects.create(
        merchant=merchant, endpoint=endpoint, mode="live", trigger="event", event="paid",
        url=endpoint.url, content_type="json", version="v1", body='{"status":"paid"}',
        next_attempt_at=timezone.now())

    attempt = services.deliver(delivery.pk)

    assert attempt is not None and attempt.ok
    [new] = services.active_secrets(endpoint)
    assert new not in old
    request = receiver.wait_for(1, "/signed")[0]
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(decrypt_text(new.secret_encrypted)).verify(request.body, headers) == {"status": "paid"}
    event = AuditEvent.objects.get(action="webhook_secret.rotate", merchant=merchant)
    assert event.actor_id is None  # the system
    assert event.target_id == str(new.pk)


def test_a_second_send_reuses_the_secret_made_for_the_first(receiver):
    merchant = make_merchant("Once")
    receiver.script("/twice", [Reply(200, b"ok")])
    endpoint = services.endpoint_save(actor=Actor(), merchant=merchant, mode="live",
                                      url=receiver.url("/twice"), content_type="json", version="v1")
    WebhookSecret.objects.filter(endpoint=endpoint).delete()
    for n in range(2):
        delivery = Delivery.objects.create(
            merchant=merchant, endpoint=endpoint, mode="live", trigger="event", event="paid",
            url=endpoint.url, content_type="json", version="v1", body=f'{{"n":{n}}}',
            next_attempt_at=timezone.now())
        assert services.deliver(delivery.pk).ok
    assert WebhookSecret.objects.filter(endpoint=endpoint).count() == 1
    assert AuditEvent.objects.filter(action="webhook_secret.rotate", merchant=merchant).count() == 1
    first, second = receiver.wait_for(2, "/twice")[:2]
    assert first.headers["webhook-signature"] and second.headers["webhook-signature"]
