"""Webhook bodies in the formats merchant servers already parse
(shared/reference/api-and-webhooks.md): V1 (i'mport) as JSON or form, V2 (PortOne) as JSON."""

import json
import secrets
from urllib.parse import urlencode

from django.utils import timezone

from .models import ContentType, PayloadVersion

V1_STATUSES = ("paid", "ready", "failed", "cancelled")
V2_TYPES = {
    "paid": "Transaction.Paid",
    "ready": "Transaction.Ready",
    "failed": "Transaction.Failed",
    "cancelled": "Transaction.Cancelled",
    "partial_cancelled": "Transaction.PartialCancelled",
    "virtual_account_issued": "Transaction.VirtualAccountIssued",
    "pay_pending": "Transaction.PayPending",
    "cancel_pending": "Transaction.CancelPending",
    "billing_key_issued": "BillingKey.Issued",
}
# What a V1 (i'mport) endpoint is told of an event it has no word for: i'mport notifies a
# billing key issued in the window as ``paid``, a partial cancel as ``cancelled``.
V1_STATUS_OF = {
    "partial_cancelled": "cancelled",
    "cancel_pending": "cancelled",
    "billing_key_issued": "paid",
}


def build(
    *, version: str, content_type: str, store_id: str, imp_uid: str, merchant_uid: str,
    status: str, cancellation_id: str | None = None, billing_key: str | None = None,
) -> tuple[str, str]:
    """The exact body to send, and the event name shown in the log. A V2 ``BillingKey.*``
    event carries ``storeId`` and ``billingKey`` (the V1 ``customer_uid``) only."""
    if version == PayloadVersion.V2:
        if status.startswith("billing_key_"):
            data = {"storeId": store_id, "billingKey": billing_key or ""}
        else:
            data = {"storeId": store_id, "paymentId": merchant_uid, "transactionId": imp_uid}
        if cancellation_id:
            data["cancellationId"] = cancellation_id
        event = V2_TYPES[status]
        stamp = timezone.now().astimezone(timezone.UTC).isoformat(timespec="milliseconds")
        body = {"type": event, "timestamp": stamp.replace("+00:00", "Z"), "data": data}
        return json.dumps(body, separators=(",", ":")), event
    fields = {"imp_uid": imp_uid, "merchant_uid": merchant_uid, "status": status}
    if cancellation_id:
        fields["cancellation_id"] = cancellation_id
    if content_type == ContentType.FORM:
        return urlencode(fields), status
    return json.dumps(fields, separators=(",", ":")), status


def sample_ids() -> tuple[str, str]:
    """imp_uid and merchant_uid for a test notification: clearly marked as test values."""
    return f"imp_test_{secrets.token_hex(6)}", f"test_{secrets.token_hex(6)}"
