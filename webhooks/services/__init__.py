"""Webhook endpoints, signing secrets and the one delivery engine (``endpoints``,
``deliveries``, ``engine``; the public names are re-exported here).

Tests and real notifications both become a ``Delivery``; after commit only its id
goes to Celery. ``deliver`` claims the delivery with a lease (so two workers never
send it at once), signs it with Standard Webhooks headers, sends it through
``webhooks.net`` and records an ``Attempt``. Retries are scheduled in the database
and picked up by ``dispatch_due`` (celery beat), never as long countdowns.
"""

from .deliveries import (
    RECOVER_MAX,
    Recovered,
    Resend,
    ResendOutcome,
    deliveries_dispatch,
    deliveries_recover,
    delivery_resend,
    delivery_send_test,
    endpoint_for_notification,
    notify_event,
    payment_event_record,
    recover_check,
    sub_merchant_deliveries_to_agency,
)
from .endpoints import (
    ENDPOINT_FIELDS,
    MAX_ACTIVE_SECRETS,
    active_secrets,
    allowed_networks,
    endpoint_ensure,
    endpoint_for_signing,
    endpoint_save,
    endpoint_version,
    secret_expire,
    secret_reveal,
    secret_rotate,
    sub_merchant_set_own_webhook,
)
from .engine import DISPATCH_GRACE_SECONDS, deliver, dispatch_due, sign

__all__ = [
    "RECOVER_MAX", "Recovered", "Resend", "ResendOutcome", "deliveries_dispatch", "deliveries_recover", "recover_check",
    "DISPATCH_GRACE_SECONDS", "ENDPOINT_FIELDS", "MAX_ACTIVE_SECRETS", "active_secrets",
    "allowed_networks", "deliver", "delivery_resend", "delivery_send_test", "dispatch_due",
    "endpoint_ensure", "endpoint_for_notification", "endpoint_for_signing", "endpoint_save", "endpoint_version", "notify_event",
    "payment_event_record", "secret_expire", "secret_reveal", "secret_rotate", "sign", "sub_merchant_deliveries_to_agency",
    "sub_merchant_set_own_webhook",
]
