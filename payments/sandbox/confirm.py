"""PortOne's confirm process: a payment whose ``request_pay`` gave ``confirm_url`` is approved
only if the shop's server answers HTTP 200 to a POST of ``imp_uid``, ``merchant_uid`` and
``amount`` sent just before the approval. Any other answer (or none within 10 seconds) fails
the payment, with the ``reason`` the shop's JSON answer gives, as PortOne records it.

The call goes through ``webhooks.net`` (the address policy of webhooks: public addresses only,
unless ``WEBHOOK_ALLOWED_NETWORKS`` opens a range; no redirects; a bounded answer), and never
inside a transaction: the window's action asks first, then decides under the row lock."""

import json

from django.conf import settings
from django.db import transaction

from payments.models import Payment
from webhooks import net
from webhooks.services import allowed_networks

CONFIRM_REFUSED_CODE = "F1008"  # the sandbox's: the shop's confirm_url did not approve
CONFIRM_TIMEOUT_SECONDS = 10  # PortOne's
REFUSED_REASON = "고객사 요청에 의해 결제를 중단합니다. (상세사유 : %s)"  # PortOne's words, stored as such
UNKNOWN_REASON = "알 수 없음"


def _reason_of(body: str) -> str:
    try:
        reason = json.loads(body or "").get("reason")
    except (ValueError, AttributeError):
        reason = None
    return str(reason).strip()[:200] if reason not in (None, "") else UNKNOWN_REASON


def shop_refusal(payment: Payment) -> str | None:
    """Ask the shop's ``confirm_url`` to approve ``payment``: None when it answers 200 (or the
    payment gave no confirm_url), else the reason to fail it with."""
    if not payment.confirm_url:
        return None
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("confirm_url is called outside any transaction")
    body = json.dumps({"imp_uid": payment.imp_uid, "merchant_uid": payment.merchant_uid,
                       "amount": payment.amount}, separators=(",", ":")).encode()
    result = net.post(
        payment.confirm_url, body=body,
        headers={"Content-Type": "application/json", "User-Agent": settings.WEBHOOK_USER_AGENT},
        allowed_networks=allowed_networks(), connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT,
        read_timeout=CONFIRM_TIMEOUT_SECONDS, max_body=4096, deadline=CONFIRM_TIMEOUT_SECONDS + 2,
        dns_timeout=settings.WEBHOOK_DNS_TIMEOUT,
    )
    if result.status == 200 and not result.error_kind:
        return None
    return REFUSED_REASON % _reason_of(result.body if result.status is not None else "")
