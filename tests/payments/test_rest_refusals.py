"""One refusal vocabulary, mapped to HTTP once for the V1 REST API (issue 21; issue 23 items 1
and 2): a refusal answers with a status the operation documents in PortOne's V1 contract, else
HTTP 200 with a non-zero code, as i'mport answers; in Korean, in i'mport's words where its
clients quote them, whatever Accept-Language says. The contract is PortOne's own
``schema/v1.openapi.json`` (tests/portone_schema.py)."""

import json
import re
import time

import pytest

from api_keys.services.api_keys import api_key_create, token_issue
from console.rest.openapi import description
from console.tenancy.audit import SYSTEM
from payments.domain.errors import PaymentError, Refusal
from payments.v1.rest.refusals import CODE, STATUS
from tests.portone_schema import document

pytestmark = pytest.mark.django_db

DOOR = {401, 403, 429}  # the door's own: no token, the IP whitelist, too many failed getToken calls
METHODS = ("get", "post", "put", "delete", "patch")


def _contract() -> dict:
    return {(route, method): {int(status) for status in op["responses"]}
            for route, ops in document()["paths"].items() for method, op in ops.items() if method in METHODS}


def _ours() -> dict:
    return {(route, method): {int(status) for status in op["responses"]}
            for route, ops in description()["paths"].items() for method, op in ops.items() if method in METHODS}


def test_every_operation_documents_what_portones_contract_documents():
    contract = _contract()
    for (route, method), statuses in _ours().items():
        assert (route, method) in contract, (method, route)
        assert statuses - DOOR <= contract[(route, method)], (method, route, statuses - DOOR - contract[(route, method)])
        # each refusal PortOne documents as a 400 or a 404 is one here too, where the sandbox has it
        assert 200 in statuses


def test_each_refusal_of_the_vocabulary_has_a_status_and_a_code():
    assert set(STATUS) == set(CODE) == set(Refusal)
    assert all(code != 0 for code in CODE.values())
    error = PaymentError("declined", "x", pg_code="F1004")
    assert error.code is Refusal.DECLINED and error.pg_code == "F1004"


@pytest.fixture
def call(client, agency):
    token = token_issue(api_key_create(actor=SYSTEM, merchant=agency, name="refusals").api_key).token

    def call(method, path, body=None):
        kwargs = {"HTTP_AUTHORIZATION": token, "HTTP_ACCEPT_LANGUAGE": "en"}  # answered in Korean anyway
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        response = getattr(client, method)(path, **kwargs)
        route = response.resolver_match.route
        template = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        documented = _contract().get((template, method))
        if documented is not None:  # the status is one PortOne documents for the operation
            assert response.status_code in documented | DOOR, (method, path, response.status_code, documented)
        return response
    return call


def _refused(response, status: int, code: int, words: str | None = None) -> str:
    body = response.json()
    assert response.status_code == status, (response.status_code, body)
    assert body["code"] == code and body["response"] is None, body
    assert re.search("[가-힣]", body["message"]), body["message"]
    if words is not None:
        assert words in body["message"], body["message"]
    return body["message"]


# --- where PortOne documents only 200 (and 401): i'mport's refusal in a 200 ---------------


def test_cancel_of_an_unknown_payment_or_without_a_uid(call):
    for body in ({"imp_uid": "imp_000000000000", "reason": "r"}, {"merchant_uid": "nothing", "reason": "r"},
                 {"imp_uid": "iamporter-test-imp-uid-longer-than-any"}):
        _refused(call("post", "/payments/cancel", body), 200, 1, "취소할 결제건이 존재하지 않습니다.")
    _refused(call("post", "/payments/cancel", {"reason": "which?"}), 200, -1, "지정해주셔야합니다")


def test_prepare_twice_and_an_unknown_prepared_order(call):
    assert call("post", "/payments/prepare", {"merchant_uid": "order_p", "amount": 1000}).json()["code"] == 0
    _refused(call("post", "/payments/prepare", {"merchant_uid": "order_p", "amount": 1000}), 200, 1)
    assert call("get", "/payments/prepare/order_p").json()["response"]["amount"] == 1000
    _refused(call("get", "/payments/prepare/nothing"), 200, 1, "사전등록된 결제정보가 존재하지 않습니다.")
    _refused(call("put", "/payments/prepare", {"merchant_uid": "nothing", "amount": 1000}), 404, 1)


def test_key_in_and_a_billing_key_with_an_invalid_card(call):
    card = {"card_number": "4092-0230-1234-1234", "expiry": "2030-03", "birth": "500203", "pwd_2digit": "19"}
    message = _refused(call("post", "/subscribe/payments/onetime", {"merchant_uid": "k1", "amount": 5000, **card}),
                       200, -1, "카드정보 인증에 실패하였습니다.")
    assert "유효하지않은 카드번호" in message
    _refused(call("post", "/subscribe/customers/customer_1234", card), 200, -1, "유효하지않은 카드번호")


def test_again_with_an_unknown_customer_uid(call):
    _refused(call("post", "/subscribe/payments/again", {"customer_uid": "00000000", "merchant_uid": "a1",
                                                        "amount": 5000, "name": "Plan"}),
             200, -1, "등록되지 않은 구매자입니다.")


def test_a_schedule_in_the_past_of_an_unknown_customer_and_unschedule_of_nothing(call):
    item = {"merchant_uid": "plan_1", "schedule_at": int(time.time()) + 3600, "amount": 5000, "name": "Plan"}
    _refused(call("post", "/subscribe/payments/schedule", {"customer_uid": "00000000", "schedules": [item]}),
             200, 1, "등록된 고객정보가 없습니다")
    past = {**item, "schedule_at": 1}
    _refused(call("post", "/subscribe/payments/schedule", {"customer_uid": "00000000", "schedules": [past]}),
             200, -1, "지난 시각")
    _refused(call("post", "/subscribe/payments/unschedule", {"customer_uid": "00000000", "merchant_uid": "x"}),
             200, 1, "취소할 예약결제 기록이 존재하지 않습니다.")


def test_a_virtual_account_with_an_unknown_bank_code(call):
    _refused(call("post", "/vbanks", {"merchant_uid": "v1", "amount": 1000, "vbank_code": "999",
                                      "vbank_due": int(time.time()) + 86400, "vbank_holder": "홍길동"}), 200, -1)


# --- where PortOne documents a 400 or a 404: that status -----------------------------------


def test_an_unknown_payment_is_a_404_in_imports_words(call):
    for path in ("/payments/imp_000000000000", "/payments/find/nothing", "/payments/find/nothing/paid",
                 "/payments/findAll/nothing/paid"):
        assert _refused(call("get", path), 404, 1) == "존재하지 않는 결제정보입니다."


def test_an_unsupported_status_is_a_400_where_documented(call):
    _refused(call("get", "/payments/status/iamporter-test-status"), 400, -1, "지원되지 않는 상태값입니다.")
    _refused(call("get", "/payments/findAll/nothing/nonsense"), 400, -1, "지원되지 않는 상태값입니다.")
    _refused(call("get", "/payments/find/nothing/nonsense"), 200, -1)  # findPayment documents no 400


def test_an_unknown_billing_key_is_a_404_in_imports_words(call):
    for method in ("get", "delete"):
        _refused(call(method, "/subscribe/customers/000000"), 404, 1,
                 "요청하신 customer_uid(000000)로 등록된 정보를 찾을 수 없습니다.")


def test_an_unknown_tier_header_is_a_404_or_a_400_as_the_operation_documents(client, agency):
    token = token_issue(api_key_create(actor=SYSTEM, merchant=agency, name="tiers").api_key).token
    headers = {"HTTP_AUTHORIZATION": token, "HTTP_TIER": "ZZZ"}
    assert client.get("/payments/imp_000000000000", **headers).status_code == 404  # documents 404
    assert client.get("/payments/status/paid", **headers).status_code == 400  # documents 400, not 404
    refused = client.post("/payments/cancel", {"imp_uid": "x"}, **headers)  # documents neither
    assert refused.status_code == 200 and refused.json()["code"] == -1
