"""Virtual accounts over the REST API (issue 15), at the service level on the real database:
POST /vbanks issues one (ready, webhook), PUT changes its amount or due date while it waits,
DELETE revokes it, and an account past its due date takes no deposit."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from channels.models import Channel
from console.models import AuditEvent
from console.tenancy.audit import SYSTEM, Actor
from payments.audit import AuditAction
from payments.domain import lifecycle, vbanks
from payments.domain.errors import PaymentError
from payments.models import Payment
from payments.sandbox import window as sandbox_window
from payments.v1.annotation import payment_annotation
from tests.factories import make_channel, make_merchant
from tests.portone_schema import validator
from webhooks.models import Delivery
from webhooks.services import endpoint_save

pytestmark = pytest.mark.django_db


def _due(days=3) -> int:
    return int((timezone.now() + timedelta(days=days)).timestamp())


def _issue(merchant, **fields):
    values = {"merchant_uid": "vbank_1", "amount": 30000, "vbank_code": "004", "vbank_due": _due(),
              "vbank_holder": "Corner Shop", "pg": "nice", "name": "Blue mug", "buyer_name": "Kim"}
    values.update(fields)
    return vbanks.vbank_issue(merchant=merchant, **values)


def _refused(call, *words, code=None):
    with pytest.raises(PaymentError) as refused:
        call()
    for word in words:
        assert word in refused.value.message, refused.value.message
    if code:
        assert refused.value.code == code
    return refused.value


@pytest.fixture
def endpoint(agency):
    return endpoint_save(actor=SYSTEM, merchant=agency, mode="test", url="http://127.0.0.1:9/hook",
                         content_type="json", version="v1")


def test_an_account_is_issued_ready_on_a_key_in_channel_with_a_webhook(agency, endpoint):
    payment = _issue(agency)
    nice = Channel.objects.get(merchant=agency, pg_provider="nice", module="api_keyin")
    assert (payment.status, payment.pay_method, payment.channel_type, payment.channel) == ("ready", "vbank", "api", nice)
    assert payment.waits_for_deposit and payment.vbank_num and payment.vbank_holder == "Corner Shop"
    assert (payment.vbank_code, payment.vbank_name) == ("004", "KB국민은행")
    assert payment.vbank_date.timestamp() == pytest.approx(_due(), abs=5)
    deliveries = list(Delivery.objects.filter(merchant=agency))
    assert len(deliveries) == 1 and '"status":"ready"' in deliveries[0].body
    validator("PaymentAnnotation").validate(payment_annotation(payment))
    # The PG's own code for a bank works too, and a holder is filled in when none is given.
    other = _issue(agency, merchant_uid="vbank_2", pg="ksnet", vbank_code="088", vbank_holder="")
    assert other.vbank_name == "신한은행" and other.vbank_holder == vbanks.DEFAULT_HOLDER


def test_bad_accounts_are_refused_and_nothing_is_saved(agency):
    kcp_keyin = make_channel(agency, mode="test", provider="kcp", module="api_keyin", mid="K0001")
    cases = [
        ({"vbank_code": "999"}, ["Unknown vbank_code “999”"]),
        ({"vbank_code": ""}, ["vbank_code is required"]),
        ({"vbank_due": _due(-1)}, ["vbank_due is in the past"]),
        ({"vbank_due": _due(400)}, ["too far ahead"]),
        ({"vbank_due": "tomorrow"}, ["UNIX seconds"]),
        ({"amount": -5}, ["more than 0 won"]),
        ({"pg": "kcp.T0000"}, ["“API · key-in”", "“Payment window · general”"]),
        ({"pg": f"kcp.{kcp_keyin.mid}"}, ["issues no virtual accounts through the API"]),
        ({"vbank_num": "12ab"}, ["digits and dashes"]),
    ]
    for fields, words in cases:
        _refused(lambda fields=fields: _issue(agency, **fields), *words, code="invalid")
    assert not Payment.objects.exists()


def test_an_order_takes_one_account(agency):
    _issue(agency)
    _refused(lambda: _issue(agency), "already used by a payment that is ready", code="conflict")
    assert Payment.objects.filter(merchant=agency).count() == 1


def test_amount_and_due_date_change_while_the_account_waits(agency, owner):
    payment = _issue(agency)
    new_due = _due(7)
    changed = vbanks.vbank_update(actor=Actor(user=owner), merchant=agency, imp_uid=payment.imp_uid,
                                  amount=25000, vbank_due=new_due)
    assert changed.amount == 25000 and int(changed.vbank_date.timestamp()) == new_due
    event = AuditEvent.objects.get(action=AuditAction.PAYMENT_VBANK_UPDATE)
    assert event.changes["amount"] == {"old": 30000, "new": 25000} and event.actor == owner
    _refused(lambda: vbanks.vbank_update(actor=SYSTEM, merchant=agency, imp_uid=payment.imp_uid),
             "Give a new amount")
    _refused(lambda: vbanks.vbank_update(actor=SYSTEM, merchant=agency, imp_uid=payment.imp_uid,
                                         vbank_due=_due(-2)), "in the past")
    # Another merchant's account is unknown; a paid one changes no more.
    _refused(lambda: vbanks.vbank_update(actor=SYSTEM, merchant=make_merchant("Other"), imp_uid=payment.imp_uid,
                                         amount=1), code="not_found")
    lifecycle.vbank_deposit(actor=Actor(user=owner), payment=changed)
    _refused(lambda: vbanks.vbank_update(actor=SYSTEM, merchant=agency, imp_uid=payment.imp_uid, amount=1),
             "only one waiting for its deposit", code="conflict")


def test_only_an_account_issued_over_the_api_changes(agency):
    opened = sandbox_window.window_open(merchant_code=agency.code, tier_code=None, params={
        "pg": "kcp.T0000", "pay_method": "vbank", "merchant_uid": "w1", "amount": 1000})
    window = sandbox_window.window_issue_vbank(imp_uid=opened.imp_uid, token=sandbox_window.window_token(opened),
                                               bank="004")
    _refused(lambda: vbanks.vbank_update(actor=SYSTEM, merchant=agency, imp_uid=window.imp_uid, amount=5),
             "issued in the payment window", code="conflict")
    card = sandbox_window.window_open(merchant_code=agency.code, tier_code=None, params={
        "pg": "kcp.T0000", "merchant_uid": "c1", "amount": 1000})
    sandbox_window.window_approve(imp_uid=card.imp_uid, token=sandbox_window.window_token(card))
    _refused(lambda: vbanks.vbank_revoke(actor=SYSTEM, merchant=agency, imp_uid=card.imp_uid),
             "not a virtual account", code="invalid")


def test_a_revoked_account_takes_no_deposit_and_notifies_cancelled(agency, owner, endpoint):
    payment = _issue(agency)
    revoked = vbanks.vbank_revoke(actor=Actor(user=owner), merchant=agency, imp_uid=payment.imp_uid)
    assert (revoked.status, revoked.cancel_amount) == ("cancelled", revoked.amount) and revoked.cancelled_at
    assert revoked.cancel_reason == "가상계좌 발급 취소"
    assert AuditEvent.objects.filter(action=AuditAction.PAYMENT_VBANK_REVOKE, actor=owner).count() == 1
    [cancellation] = revoked.cancellations.all()
    assert (cancellation.amount, cancellation.reason) == (revoked.amount, "가상계좌 발급 취소")
    bodies = [json.loads(body) for body in
              Delivery.objects.filter(merchant=agency).order_by("id").values_list("body", flat=True)]
    assert [body["status"] for body in bodies] == ["ready", "cancelled"]
    # The cancel webhook names its cancellation, as every cancel's does.
    assert "cancellation_id" not in bodies[0] and bodies[1]["cancellation_id"] == cancellation.cancellation_id
    assert payment_annotation(revoked)["cancel_history"][0]["amount"] == revoked.amount
    _refused(lambda: vbanks.vbank_revoke(actor=SYSTEM, merchant=agency, imp_uid=payment.imp_uid), code="conflict")
    _refused(lambda: lifecycle.vbank_deposit(actor=Actor(user=owner), payment=revoked),
             "waiting for its deposit", code="conflict")
    validator("PaymentAnnotation").validate(payment_annotation(revoked))


def test_a_revoked_account_tells_a_v2_endpoint_its_cancellation_id(agency):
    endpoint_save(actor=SYSTEM, merchant=agency, mode="test", url="http://127.0.0.1:9/hook",
                  content_type="json", version="v2")
    payment = _issue(agency)
    vbanks.vbank_revoke(actor=SYSTEM, merchant=agency, imp_uid=payment.imp_uid)
    [cancellation] = payment.cancellations.all()
    bodies = [json.loads(body) for body in
              Delivery.objects.filter(merchant=agency).order_by("id").values_list("body", flat=True)]
    assert [body["type"] for body in bodies] == ["Transaction.VirtualAccountIssued", "Transaction.Cancelled"]
    assert bodies[1]["data"] == {"storeId": agency.code, "paymentId": payment.merchant_uid,
                                 "transactionId": payment.imp_uid,
                                 "cancellationId": cancellation.cancellation_id}


def test_an_account_past_its_due_date_takes_no_deposit(agency, owner):
    payment = _issue(agency)
    Payment.objects.filter(pk=payment.pk).update(vbank_date=timezone.now() - timedelta(minutes=1))
    _refused(lambda: lifecycle.vbank_deposit(actor=Actor(user=owner), payment=payment),
             "deadline has passed", code="conflict")
    payment.refresh_from_db()
    assert payment.status == "ready" and not AuditEvent.objects.filter(action=AuditAction.PAYMENT_DEPOSIT).exists()
    # A new due date revives it.
    vbanks.vbank_update(actor=SYSTEM, merchant=agency, imp_uid=payment.imp_uid, vbank_due=_due(1))
    assert lifecycle.vbank_deposit(actor=Actor(user=owner), payment=payment).status == "paid"
