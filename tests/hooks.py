"""Shared helpers for the webhook tests that use a real worker."""

import time

from console.tenancy.audit import Actor
from console.tenancy.crypto import decrypt_text
from webhooks import services
from webhooks.models import Delivery

# A worker that retries in seconds instead of minutes, so a test sees the schedule run.
FAST = {
    "WEBHOOK_READ_TIMEOUT": "1.5",
    "WEBHOOK_CONNECT_TIMEOUT": "1",
    "WEBHOOK_RETRY_UNIT_SECONDS": "1",
    "WEBHOOK_RETRY_SCHEDULE": "1,1,1,1,1",
    "WEBHOOK_DISPATCH_INTERVAL_SECONDS": "0.5",
    "WEBHOOK_LEASE_SECONDS": "4",
    # Under the lease, so a send that never ends cannot outlive it (see test_webhook_deadlines).
    "WEBHOOK_SEND_DEADLINE": "2.5",
    "WEBHOOK_DNS_TIMEOUT": "1",
}


def wait_final(delivery, timeout=30) -> Delivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.is_final:
            return delivery
        time.sleep(0.1)
    raise AssertionError(f"delivery still {delivery.status} after {timeout}s")


def endpoint_for(merchant, url, *, mode="test", version="v1", content_type="json"):
    return services.endpoint_save(actor=Actor(), merchant=merchant, mode=mode, url=url,
                                  content_type=content_type, version=version)


def secret_of(endpoint) -> str:
    return decrypt_text(endpoint.secrets.order_by("-created_at").first().secret_encrypted)
