"""A payment as PortOne's V1 REST API answers it (``PaymentAnnotation``), field for field:
UNIX seconds for times (0 when not reached), null where PortOne gives null."""

from .models import Payment, Status


def _ts(value) -> int:
    return int(value.timestamp()) if value else 0


def payment_annotation(payment: Payment) -> dict:
    # Nothing cancelled, nothing to read (the REST hot path stays one query); else the
    # cancellations, prefetched by a list's selector or read here.
    cancellations = list(payment.cancellations.all()) if payment.cancel_amount else []
    return {
        "imp_uid": payment.imp_uid,
        "merchant_uid": payment.merchant_uid,
        "pay_method": payment.pay_method,
        "channel": payment.channel_type,
        "pg_provider": payment.pg_provider,
        "emb_pg_provider": None,
        "pg_tid": payment.pg_tid or None,
        "pg_id": payment.pg_id,
        "escrow": False,
        "apply_num": payment.apply_num or None,
        "bank_code": None,
        "bank_name": None,
        "card_code": payment.card_code or None,
        "card_name": payment.card_name or None,
        "card_issuer_code": None,
        "card_issuer_name": None,
        "card_publisher_code": None,
        "card_publisher_name": None,
        "card_quota": payment.card_quota,
        "card_number": payment.card_number or None,
        "card_type": payment.card_type,
        "vbank_code": payment.vbank_code or None,
        "vbank_name": payment.vbank_name or None,
        "vbank_num": payment.vbank_num or None,
        "vbank_holder": payment.vbank_holder or None,
        "vbank_date": _ts(payment.vbank_date),
        "vbank_issued_at": _ts(payment.vbank_issued_at),
        "name": payment.name or None,
        "amount": payment.amount,
        "cancel_amount": payment.cancel_amount,
        "currency": payment.currency,
        "buyer_name": payment.buyer_name or None,
        "buyer_email": payment.buyer_email or None,
        "buyer_tel": payment.buyer_tel or None,
        "buyer_addr": payment.buyer_addr or None,
        "buyer_postcode": payment.buyer_postcode or None,
        "custom_data": payment.custom_data or None,
        "user_agent": payment.user_agent or None,
        "status": payment.status,
        "started_at": _ts(payment.started_at),
        "paid_at": _ts(payment.paid_at) if payment.status in (Status.PAID, Status.CANCELLED) else 0,
        "failed_at": _ts(payment.failed_at),
        "cancelled_at": _ts(payment.cancelled_at),
        "fail_reason": payment.fail_reason or None,
        "cancel_reason": payment.cancel_reason or None,
        "receipt_url": None,
        "cancel_history": [
            {"pg_tid": c.pg_tid, "amount": c.amount, "cancelled_at": _ts(c.cancelled_at),
             "reason": c.reason, "cancellation_id": c.cancellation_id, "receipt_url": None}
            for c in cancellations
        ],
        "cancel_receipt_urls": [],
        "cash_receipt_issued": False,
        "customer_uid": None,
        "customer_uid_usage": None,
    }
