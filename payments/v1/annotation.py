"""A payment as PortOne's V1 REST API answers it (``PaymentAnnotation``), field for field:
UNIX seconds for times (0 when not reached), null where PortOne gives null."""

from payments.models import BillingKey, Payment, Schedule, Status


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
        "customer_uid": payment.customer_uid or None,
        "customer_uid_usage": payment.customer_uid_usage or None,
    }


def customer_annotation(key: BillingKey) -> dict:
    """A billing key as PortOne's ``CustomerAnnotation``: the masked card, never a number."""
    return {
        "customer_uid": key.customer_uid,
        "pg_provider": key.pg_provider,
        "pg_id": key.pg_id,
        "customer_id": key.customer_id or None,
        "card_name": key.card_name,
        "card_code": key.card_code or None,
        "card_issuer_code": None,
        "card_issuer_name": None,
        "card_publisher_code": None,
        "card_publisher_name": None,
        "card_number": key.card_number,
        "card_type": key.card_type,
        "customer_name": key.customer_name or None,
        "customer_tel": key.customer_tel or None,
        "customer_email": key.customer_email or None,
        "customer_addr": key.customer_addr or None,
        "customer_postcode": key.customer_postcode or None,
        "inserted": _ts(key.created_at),
        "updated": _ts(key.updated_at),
    }


def schedule_annotation(schedule: Schedule) -> dict:
    """A schedule as PortOne's ``ScheduleResultAnnotation``: ``imp_uid``, the PG and
    ``payment_status`` once it ran (null before), ``executed_at``/``revoked_at`` 0 until then.
    Read its ``payment`` with ``select_related`` for a list."""
    payment = schedule.payment if schedule.payment_id else None
    return {
        "customer_uid": schedule.customer_uid,
        "merchant_uid": schedule.merchant_uid,
        "imp_uid": payment.imp_uid if payment else None,
        "pg_provider": payment.pg_provider if payment else None,
        "pg_id": payment.pg_id if payment else None,
        "customer_id": None,
        "schedule_at": _ts(schedule.schedule_at),
        "executed_at": _ts(schedule.executed_at),
        "revoked_at": _ts(schedule.revoked_at),
        "amount": schedule.amount,
        "currency": schedule.currency,
        "name": schedule.name or None,
        "buyer_name": schedule.buyer_name or None,
        "buyer_email": schedule.buyer_email or None,
        "buyer_tel": schedule.buyer_tel or None,
        "buyer_addr": schedule.buyer_addr or None,
        "buyer_postcode": schedule.buyer_postcode or None,
        "custom_data": schedule.custom_data or None,
        "schedule_status": schedule.status,
        "payment_status": payment.status if payment else None,
        "fail_reason": (payment.fail_reason or None) if payment else None,
    }


def window_result(payment: Payment) -> dict:
    """What the callback (and the m_redirect_url query) gets: PortOne's rsp."""
    success = payment.status == Status.PAID or payment.waits_for_deposit
    rsp = {
        "success": success, "imp_success": success, "imp_uid": payment.imp_uid,
        "merchant_uid": payment.merchant_uid, "pay_method": payment.pay_method,
        "paid_amount": payment.amount if success else 0, "status": payment.status,
        "name": payment.name, "pg_provider": payment.pg_provider, "pg_type": "payment",
        "pg_tid": payment.pg_tid or None, "buyer_name": payment.buyer_name,
        "buyer_email": payment.buyer_email, "buyer_tel": payment.buyer_tel,
        "buyer_addr": payment.buyer_addr, "buyer_postcode": payment.buyer_postcode,
        "custom_data": payment.custom_data or None, "currency": payment.currency,
        "paid_at": int(payment.paid_at.timestamp()) if payment.paid_at else 0,
        "receipt_url": None, "apply_num": payment.apply_num or None,
        "card_name": payment.card_name or None, "card_number": payment.card_number or None,
        "card_quota": payment.card_quota,
        "error_code": None if success else (payment.error_code or None),
        "error_msg": None if success else (payment.fail_reason or None),
    }
    if payment.customer_uid:  # a billing key's window: the key's customer_uid
        rsp["customer_uid"] = payment.customer_uid
    if payment.vbank_issued_at:
        rsp.update({"vbank_num": payment.vbank_num, "vbank_name": payment.vbank_name,
                    "vbank_holder": payment.vbank_holder, "vbank_code": payment.vbank_code,
                    "vbank_date": int(payment.vbank_date.timestamp())})
    return rsp
