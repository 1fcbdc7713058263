"""A paid virtual account is cancelled to a refund account (PortOne's refund_holder,
refund_bank, refund_account), one rule for the REST cancel and the console's; the number is
never kept whole (the audit row masks it); and a cancel's audit row says what changed: the
amount taken back, the total cancelled, what is left, the status only when it changed
(issue 22, items 8 and 11)."""

import json
import logging

import pytest
from django.urls import reverse
from django.utils import translation

from console.models import AuditEvent
from console.tenancy.audit import Actor
from payments.domain import cancels, lifecycle, refunds
from payments.domain.errors import PaymentError
from payments.models import Payment
from payments.sandbox import window
from tests.payments.test_payments import _open, _paid, _token, _token_of, issued  # noqa: F401

pytestmark = pytest.mark.django_db

NUMBER = "110-123-456789"


def _paid_vbank(merchant, owner, merchant_uid="order_v"):
    payment = _open(merchant, pay_method="vbank", merchant_uid=merchant_uid, amount=50000)
    window.window_issue_vbank(imp_uid=payment.imp_uid, token=_token(payment), bank="088")
    return lifecycle.vbank_deposit(actor=Actor(user=owner), payment=Payment.objects.get(pk=payment.pk))


def test_the_mask_keeps_the_last_four_digits():
    assert refunds.mask_account(NUMBER) == "********6789"
    assert "456789" not in repr(refunds.RefundAccount("Kim", "088", "Shinhan", NUMBER))


@pytest.mark.parametrize(("fields", "problem"), [
    ({}, "refund_holder is required."),
    ({"refund_holder": "Kim"}, "refund_bank is required."),
    ({"refund_holder": "Kim", "refund_bank": "999", "refund_account": NUMBER}, "Unknown refund_bank"),
    ({"refund_holder": "Kim", "refund_bank": "088"}, "refund_account is required."),
    ({"refund_holder": "Kim", "refund_bank": "088", "refund_account": "12-34"}, "6 to 20 digits"),
    ({"refund_holder": "Kim", "refund_bank": "088", "refund_account": "١١٠١٢٣٤٥٦٧"}, "6 to 20 digits"),
])
def test_a_paid_virtual_account_needs_its_refund_account(agency, owner, fields, problem):
    paid = _paid_vbank(agency, owner)
    with pytest.raises(PaymentError) as refused:
        cancels.payment_cancel(actor=Actor(user=owner), payment=paid, **fields)
    assert refused.value.code == "invalid" and problem in refused.value.message
    paid.refresh_from_db()
    assert paid.status == "paid" and paid.cancel_amount == 0 and not paid.cancellations.exists()
    assert not AuditEvent.objects.filter(action="payment.cancel").exists()


def test_the_rest_cancel_takes_the_refund_account_and_the_audit_row_masks_it(client, agency, owner, issued, caplog):  # noqa: F811
    paid = _paid_vbank(agency, owner)
    auth = {"HTTP_AUTHORIZATION": _token_of(client, issued)}
    missing = client.post("/payments/cancel", {"imp_uid": paid.imp_uid}, **auth)
    # /payments/cancel documents 200 and 401 only: i'mport's refusal is HTTP 200 with a non-zero code.
    assert missing.status_code == 200 and missing.json()["code"] != 0 and "refund_holder" in missing.json()["message"]
    with caplog.at_level(logging.DEBUG):
        done = client.post("/payments/cancel", {"imp_uid": paid.imp_uid, "refund_holder": "Kim Minsu",
                                                "refund_bank": "088", "refund_account": NUMBER}, **auth).json()
    assert done["code"] == 0 and done["response"]["status"] == "cancelled"
    row = AuditEvent.objects.get(action="payment.cancel")
    assert row.changes["refund_to"]["new"] == "088 · ********6789 · Kim Minsu"
    everything = json.dumps(list(AuditEvent.objects.values()), default=str) + caplog.text
    assert "456789" not in everything and "123-456" not in everything


def test_other_payments_ignore_a_refund_account(agency, owner):
    card = _paid(agency, amount=1000)
    cancels.payment_cancel(actor=Actor(user=owner), payment=card)  # none asked for a card
    card.refresh_from_db()
    assert card.status == "cancelled"


def test_a_partial_cancel_row_says_what_changed_in_both_languages(agency, owner):
    payment = _paid(agency, amount=10000)
    cancels.payment_cancel(actor=Actor(user=owner), payment=payment, amount=3000)
    part = AuditEvent.objects.get(action="payment.cancel")
    assert "status" not in part.changes  # it stays paid: no "paid → paid"
    assert part.changes["cancelled_now"] == {"old": None, "new": 3000}
    assert part.changes["remaining"] == {"old": 10000, "new": 7000}
    with translation.override("en"):
        shown = {c.label: (c.old, c.new) for c in part.change_list()}
    assert shown == {"Cancelled now": ("—", "3,000"), "Cancelled amount": ("0", "3,000"),
                     "Left to cancel": ("10,000", "7,000")}
    with translation.override("ko"):
        shown = {c.label: (c.old, c.new) for c in part.change_list()}
    assert shown["이번 취소 금액"] == ("—", "3,000") and shown["취소 가능 잔액"] == ("10,000", "7,000")
    cancels.payment_cancel(actor=Actor(user=owner), payment=payment)
    rest = AuditEvent.objects.filter(action="payment.cancel").latest("id")
    with translation.override("en"):
        status = {c.label: (c.old, c.new) for c in rest.change_list()}["Status"]
    assert status == ("Paid", "Cancelled")


def test_coded_values_on_the_audit_log_read_as_labels(client, agency, owner):
    from tests.factories import make_channel

    make_channel(agency, mode="live", provider="ksnet", module="api_keyin", mid="2999199990",
                 credentials={"api_key": "ksnet-api-key-secret-0001"})
    assert AuditEvent.objects.filter(action="channel.create", changes__module__new="api_keyin").exists()
    client.force_login(owner)
    url = reverse("console:audit_log", kwargs={"merchant_code": agency.code})
    for lang, module, live in (("en", "API · key-in", "Live"), ("ko", "API 수기결제", "실연동")):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
        assert f"→ {module}" in html and f"→ {live}" in html
        assert "→ api_keyin" not in html and "→ live" not in html


def test_a_rest_cancel_takes_null_refund_fields(client, agency, issued):  # noqa: F811
    """Clients send every field of the cancel, null when unused (JSON ``null``): a card payment's
    cancel with null refund fields is a cancel, not a 400."""
    card = _paid(agency, amount=1000)
    auth = {"HTTP_AUTHORIZATION": _token_of(client, issued)}
    body = {"imp_uid": card.imp_uid, "refund_holder": None, "refund_bank": None, "refund_account": None}
    done = client.post("/payments/cancel", json.dumps(body), content_type="application/json", **auth).json()
    assert done["code"] == 0 and done["response"]["status"] == "cancelled"
