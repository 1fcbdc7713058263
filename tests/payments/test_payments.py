"""Sandbox payments (issue 14, part one): the window's services, the webhooks they cause, and
GET /payments/{imp_uid} and /payments/prepare over the REST API, checked against PortOne's
own V1 contract."""

import pytest

from api_keys.services.api_keys import api_key_create
from channels import services as channel_services
from channels.models import Channel
from console.models import AuditEvent
from console.tenancy.audit import SYSTEM, Actor
from payments.domain import inputs, lifecycle, orders
from payments.domain.errors import PaymentError
from payments.models import Payment, Status
from payments.sandbox import window
from payments.v1 import annotation
from tests.factories import make_channel, make_merchant, make_sub_merchant
from tests.portone_schema import validator
from webhooks.models import Delivery
from webhooks.services import endpoint_save

pytestmark = pytest.mark.django_db


def _open(merchant, **params):
    base = {"pg": "kcp.T0000", "merchant_uid": "order_1", "amount": 1000, "name": "Coffee",
            "buyer_name": "Kim"}
    base.update(params)
    return window.window_open(merchant_code=merchant.code, tier_code=None, params=base,
                              user_agent="pytest")


def _token(payment):
    return window.window_token(payment)


def _endpoint(merchant, mode="test", version="v1"):
    return endpoint_save(actor=SYSTEM, merchant=merchant, mode=mode, url="http://127.0.0.1:9/hook",
                         content_type="json", version=version)


# --- the window ----------------------------------------------------------------------


def test_a_test_channel_pays_and_one_webhook_says_paid(agency):
    _endpoint(agency)
    payment = _open(agency)
    assert (payment.status, payment.pg_provider, payment.pg_id, payment.amount) == ("ready", "kcp", "T0000", 1000)
    assert payment.imp_uid.startswith("imp_") and len(payment.imp_uid) == 16
    paid = window.window_approve(imp_uid=payment.imp_uid, token=_token(payment))
    again = window.window_approve(imp_uid=payment.imp_uid, token=_token(payment))  # a double click
    assert paid.status == again.status == Status.PAID and paid.pg_tid == again.pg_tid
    assert paid.card_number == "941000******0000" and paid.apply_num
    deliveries = list(Delivery.objects.filter(merchant=agency))
    assert len(deliveries) == 1
    assert f'"imp_uid":"{payment.imp_uid}"' in deliveries[0].body and '"status":"paid"' in deliveries[0].body
    rsp = annotation.window_result(paid)
    assert rsp["success"] is True and rsp["paid_amount"] == 1000 and rsp["error_msg"] is None


def test_two_windows_on_one_order_are_one_payment(agency):
    first = _open(agency)
    second = _open(agency)
    assert first.imp_uid == second.imp_uid
    window.window_approve(imp_uid=second.imp_uid, token=_token(second))
    with pytest.raises(PaymentError) as refused:
        _open(agency)
    assert refused.value.code == "conflict" and "already used by a payment that is paid" in refused.value.message
    assert Payment.objects.filter(merchant=agency).count() == 1


@pytest.mark.parametrize("amount", ["abc", -1, 0, "1e20", 1e20, 10**15, "10.5", True, None, [1000]])
def test_a_bad_amount_is_refused_and_nothing_is_saved(agency, amount):
    with pytest.raises(PaymentError) as refused:
        _open(agency, amount=amount)
    assert refused.value.code == "invalid" and "amount" in refused.value.message.lower()
    assert not Payment.objects.exists()


def test_amounts_that_are_whole_won_pass():
    assert inputs.parse_amount("1000") == inputs.parse_amount(1000) == inputs.parse_amount(1000.0) == 1000


def test_a_failure_sends_no_webhook_and_the_order_can_be_tried_again(agency):
    _endpoint(agency)
    payment = _open(agency)
    failed = window.window_fail(imp_uid=payment.imp_uid, token=_token(payment), error_code="F1001")
    assert (failed.status, failed.error_code) == ("failed", "F1001") and failed.fail_reason == "카드사 승인 거절: 한도 초과"
    rsp = annotation.window_result(failed)
    assert rsp["success"] is False and rsp["error_code"] == "F1001"
    closed_try = _open(agency)  # the same merchant_uid, a new try
    assert closed_try.imp_uid != payment.imp_uid
    closed = window.window_close(imp_uid=closed_try.imp_uid, token=_token(closed_try))
    assert closed.status == "failed" and closed.error_code == window.CLOSED_CODE
    assert not Delivery.objects.filter(merchant=agency).exists()
    with pytest.raises(PaymentError):
        window.window_fail(imp_uid=payment.imp_uid, token=_token(payment), error_code="nope")


def test_a_virtual_account_is_issued_then_deposited_from_the_console(agency, owner):
    _endpoint(agency, version="v2")
    payment = _open(agency, pay_method="vbank")
    with pytest.raises(PaymentError):
        window.window_approve(imp_uid=payment.imp_uid, token=_token(payment))
    issued = window.window_issue_vbank(imp_uid=payment.imp_uid, token=_token(payment), bank="088")
    assert issued.status == "ready" and issued.vbank_num and issued.vbank_name == "신한은행"
    assert annotation.window_result(issued)["success"] is True
    paid = lifecycle.vbank_deposit(actor=Actor(user=owner), payment=issued)
    assert paid.status == "paid"
    bodies = list(Delivery.objects.filter(merchant=agency).order_by("id").values_list("event", flat=True))
    assert bodies == ["Transaction.VirtualAccountIssued", "Transaction.Paid"]  # V1 ready is never Transaction.Ready
    assert AuditEvent.objects.filter(merchant=agency, action="payment.deposit").count() == 1


def test_a_wrong_or_foreign_token_opens_nothing(agency):
    payment = _open(agency)
    other = _open(make_merchant("Other"), merchant_uid="o")
    for token in ("", "forged", _token(other)):
        with pytest.raises(PaymentError) as refused:
            window.window_approve(imp_uid=payment.imp_uid, token=token)
        assert refused.value.code == "expired"
    payment.refresh_from_db()
    assert payment.status == "ready"


def test_channels_are_found_by_pg_or_channel_key_and_only_enabled_test_ones_pay(agency):
    test_kcp = Channel.objects.get(merchant=agency, pg_provider="kcp", mid="T0000")
    assert _open(agency, pg="kcp", merchant_uid="a").channel == test_kcp
    assert _open(agency, pg="", channelKey=test_kcp.channel_key, merchant_uid="b").channel == test_kcp
    live = make_channel(agency, mid="L1VE1")
    cases = [
        ({"pg": f"kcp.{live.mid}"}, "Live channels take no payments here"),
        ({"pg": "nosuchpg"}, "No channel of this merchant matches"),
        ({"pg": "", "channelKey": "channel-key-nope"}, "No channel of this merchant has this channel key"),
        ({"pg": ""}, "this merchant has no default channel"),
    ]
    for params, words in cases:
        with pytest.raises(PaymentError) as refused:
            _open(agency, merchant_uid="c", **params)
        assert words in refused.value.message, params
    channel_services.channel_set_enabled(actor=SYSTEM, channel=test_kcp, enabled=False)
    with pytest.raises(PaymentError, match="This channel is disabled"):
        _open(agency, merchant_uid="d")
    foreign = Channel.objects.filter(merchant=make_merchant("Other"), mode="test").first()
    with pytest.raises(PaymentError, match="has this channel key"):
        _open(agency, pg="", channelKey=foreign.channel_key, merchant_uid="e")


def test_names_with_html_and_long_fields_are_kept_as_text_or_refused(agency):
    payment = _open(agency, name="<script>alert(1)</script>")
    assert payment.name == "<script>alert(1)</script>"  # text: the templates escape it
    with pytest.raises(PaymentError, match="too long"):
        _open(agency, merchant_uid="x" * 81)
    with pytest.raises(PaymentError, match="required"):
        _open(agency, merchant_uid="  ")


def test_a_prepared_amount_that_differs_fails_the_window(agency):
    orders.prepare(merchant=agency, merchant_uid="order_9", amount=5000, update=False)
    with pytest.raises(PaymentError, match="differs from the one registered"):
        _open(agency, merchant_uid="order_9", amount=4000)
    assert _open(agency, merchant_uid="order_9", amount=5000).amount == 5000


def test_a_sub_merchant_pays_on_its_agency_test_channel_through_its_tier(agency):
    sub = make_sub_merchant(agency, "SEL")
    payment = window.window_open(merchant_code=agency.code, tier_code="SEL",
                                 params={"pg": "kcp.T0000", "merchant_uid": "s1", "amount": 100})
    assert payment.merchant == sub
    with pytest.raises(PaymentError, match="no sub-merchant with the tier code"):
        window.window_open(merchant_code=agency.code, tier_code="ZZZ",
                           params={"pg": "kcp.T0000", "merchant_uid": "s2", "amount": 100})


# --- REST ------------------------------------------------------------------------------


@pytest.fixture
def issued(agency):
    return api_key_create(actor=SYSTEM, merchant=agency, name="order server")


def _token_of(client, issued):
    body = {"imp_key": issued.api_key.key, "imp_secret": issued.secret}
    return client.post("/users/getToken", body).json()["response"]["access_token"]


def test_get_payment_answers_as_portones_contract_says(client, agency, issued):
    payment = _open(agency, custom_data='{"order": 1}')
    window.window_approve(imp_uid=payment.imp_uid, token=_token(payment))
    token = _token_of(client, issued)
    body = client.get(f"/payments/{payment.imp_uid}", HTTP_AUTHORIZATION=token).json()
    assert body["code"] == 0 and body["message"] is None
    annotation = body["response"]
    assert (annotation["imp_uid"], annotation["status"], annotation["amount"]) == (payment.imp_uid, "paid", 1000)
    assert annotation["paid_at"] > 0 and annotation["failed_at"] == 0 and annotation["custom_data"] == '{"order": 1}'
    errors = list(validator("PaymentAnnotation").iter_errors(annotation))
    assert errors == [], [e.message for e in errors]
    envelope_errors = list(validator("PaymentResponse").iter_errors(body))
    assert envelope_errors == [], [e.message for e in envelope_errors]


def test_another_merchants_payment_is_a_404_and_a_sub_merchants_needs_its_tier(client, agency, issued):
    theirs = _open(make_merchant("Other"), merchant_uid="t")
    sub = make_sub_merchant(agency, "SEL")
    subs = window.window_open(merchant_code=agency.code, tier_code="SEL",
                              params={"pg": "kcp.T0000", "merchant_uid": "s1", "amount": 100})
    token = _token_of(client, issued)
    for imp_uid in (theirs.imp_uid, subs.imp_uid, "imp_000000000000"):
        response = client.get(f"/payments/{imp_uid}", HTTP_AUTHORIZATION=token)
        assert response.status_code == 404 and response.json()["code"] != 0
    with_tier = client.get(f"/payments/{subs.imp_uid}", HTTP_AUTHORIZATION=token, HTTP_TIER=sub.tier_code)
    assert with_tier.status_code == 200 and with_tier.json()["response"]["merchant_uid"] == "s1"
    assert client.get(f"/payments/{subs.imp_uid}").status_code == 401


def test_prepare_registers_changes_and_reads_an_amount(client, agency, issued):
    token = _token_of(client, issued)
    auth = {"HTTP_AUTHORIZATION": token}
    created = client.post("/payments/prepare", {"merchant_uid": "p1", "amount": "3000"}, **auth)
    assert created.status_code == 200 and created.json()["response"] == {
        "merchant_uid": "p1", "amount": 3000, "currency": "KRW"}
    again = client.post("/payments/prepare", {"merchant_uid": "p1", "amount": 3000}, **auth)
    assert again.status_code == 200 and again.json()["code"] == 1  # documented with 200 and 401 only
    changed = client.put("/payments/prepare", '{"merchant_uid": "p1", "amount": 3500}',
                         content_type="application/json", **auth)
    assert changed.json()["response"]["amount"] == 3500
    assert client.get("/payments/prepare/p1", **auth).json()["response"]["amount"] == 3500
    nope = client.get("/payments/prepare/nope", **auth)  # documented with 200 and 401 only
    assert nope.status_code == 200 and nope.json()["code"] == 1
    assert client.put("/payments/prepare", '{"merchant_uid": "nope", "amount": 1}',
                      content_type="application/json", **auth).status_code == 404
    for bad in ("abc", "-1", "0", "1e20"):
        refused = client.post("/payments/prepare", {"merchant_uid": "p2", "amount": bad}, **auth)
        assert refused.status_code == 200 and refused.json()["code"] == -1, bad  # documented: 200 and 401
        assert "amount" in refused.json()["message"].lower(), bad
    assert client.delete("/payments/prepare", **auth).status_code == 405
    # The contract's PaymentPrepareAnnotation lists "total", "previous" and "next" as required,
    # a paging definition's list copied by mistake; its properties are checked as given.
    schema_errors = list(validator("PaymentPrepareAnnotation", ignore_required=True)
                         .iter_errors(created.json()["response"]))
    assert schema_errors == []


def _paid(merchant, merchant_uid="order_1", amount=1000):
    payment = _open(merchant, merchant_uid=merchant_uid, amount=amount)
    return window.window_approve(imp_uid=payment.imp_uid, token=_token(payment))


def test_cancel_in_part_then_the_rest_with_the_checksum_guard(client, agency, issued):
    _endpoint(agency, version="v2")
    payment = _paid(agency, amount=10000)
    auth = {"HTTP_AUTHORIZATION": _token_of(client, issued)}
    part = client.post("/payments/cancel", {"imp_uid": payment.imp_uid, "amount": "3000", "reason": "one cup",
                                            "checksum": "10000"}, **auth).json()
    assert part["code"] == 0 and part["response"]["status"] == "paid" and part["response"]["cancel_amount"] == 3000
    assert list(validator("PaymentResponse").iter_errors(part)) == []
    stale = client.post("/payments/cancel", {"imp_uid": payment.imp_uid, "checksum": "10000"}, **auth).json()
    assert stale["code"] != 0 and "checksum" in stale["message"]
    too_much = client.post("/payments/cancel", {"imp_uid": payment.imp_uid, "amount": 8000}, **auth).json()
    assert too_much["code"] != 0 and "7,000원" in too_much["message"]
    for bad in ("abc", "-1", "1e20"):
        answer = client.post("/payments/cancel", {"imp_uid": payment.imp_uid, "amount": bad}, **auth)
        assert answer.status_code == 200 and answer.json()["code"] == -1, bad  # cancel documents no 400
        assert "amount" in answer.json()["message"], bad
    which = client.post("/payments/cancel", {"reason": "which?"}, **auth)
    assert which.status_code == 200 and which.json()["code"] == -1
    rest = client.post("/payments/cancel", {"merchant_uid": "order_1", "amount": "0", "reason": "all"}, **auth).json()
    annotation = rest["response"]
    assert annotation["status"] == "cancelled" and annotation["cancel_amount"] == 10000
    assert [h["amount"] for h in annotation["cancel_history"]] == [3000, 7000] and annotation["cancelled_at"] > 0
    again = client.post("/payments/cancel", {"imp_uid": payment.imp_uid}, **auth).json()
    assert again["code"] != 0 and "이미 취소된" in again["message"]
    events = list(Delivery.objects.filter(merchant=agency).order_by("id").values_list("event", flat=True))
    assert events == ["Transaction.Paid", "Transaction.PartialCancelled", "Transaction.Cancelled"]
    rows = AuditEvent.objects.filter(merchant=agency, action="payment.cancel")
    assert rows.count() == 2 and rows.first().actor_email.startswith("API key ")
    theirs = client.post("/payments/cancel", {"imp_uid": _paid(make_merchant("Other"), "x").imp_uid}, **auth)
    assert theirs.status_code == 200 and theirs.json()["message"] == "취소할 결제건이 존재하지 않습니다."


def test_lists_find_find_all_and_by_status(client, agency, issued):
    first = _paid(agency, "o1")
    failed = _open(agency, merchant_uid="o2")
    window.window_fail(imp_uid=failed.imp_uid, token=_token(failed), error_code="F1001")
    retried = _paid(agency, "o2")
    _paid(make_merchant("Other"), "o1")  # another merchant's order of the same name
    auth = {"HTTP_AUTHORIZATION": _token_of(client, issued)}

    both = client.get("/payments", {"imp_uid[]": [first.imp_uid, retried.imp_uid]}, **auth)
    assert both.status_code == 200 and {p["imp_uid"] for p in both.json()["response"]} == {first.imp_uid, retried.imp_uid}
    assert list(validator("MultiplePaymentsResponse").iter_errors(both.json())) == []
    some = client.get("/payments", {"imp_uid[]": [first.imp_uid, "imp_000000000000"]}, **auth)
    assert some.status_code == 207 and len(some.json()["response"]) == 1
    assert client.get("/payments", {"imp_uid[]": ["imp_000000000000"]}, **auth).status_code == 404

    found = client.get("/payments/find/o2", **auth).json()["response"]
    assert found["imp_uid"] == retried.imp_uid
    assert client.get("/payments/find/o2/failed", **auth).json()["response"]["imp_uid"] == failed.imp_uid
    assert client.get("/payments/find/o2/", **auth).json()["response"]["imp_uid"] == retried.imp_uid
    assert client.get("/payments/find/o2/nonsense", **auth).json()["code"] == -1  # find documents no 400
    assert client.get("/payments/find/nope", **auth).status_code == 404

    every = client.get("/payments/findAll/o2", {"sorting": "started"}, **auth).json()
    assert every["response"]["total"] == 2 and [p["status"] for p in every["response"]["list"]] == ["failed", "paid"]
    assert list(validator("PaymentListResponse").iter_errors(every)) == []

    paid = client.get("/payments/status/paid", {"limit": 1}, **auth).json()["response"]
    assert (paid["total"], paid["previous"], paid["next"], len(paid["list"])) == (2, 0, 2, 1)
    second = client.get("/payments/status/paid", {"limit": 1, "page": 2}, **auth).json()["response"]
    assert (second["previous"], second["next"]) == (1, 0)
    assert client.get("/payments/status/all", **auth).json()["response"]["total"] == 3
    assert client.get("/payments/status/paid", {"from": 20, "to": 10}, **auth).json()["response"]["total"] == 0
    for params in ({"page": 3, "limit": 1}, {"limit": 5000}, {"sorting": "sideways"}, {"from": "x"}):
        assert client.get("/payments/status/paid", params, **auth).status_code == 400, params
    assert client.get("/payments/status/nope", **auth).status_code == 400
