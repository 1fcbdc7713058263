"""Issue 20, item 2: an amount registered with ``/payments/prepare`` is checked when the window
decides, not only when it opens. A window opened at 1 won and then prepared at 500,000, or
opened at 1,000 and then changed to 2,000 with ``PUT /payments/prepare``, is not paid at its
old amount: approving, issuing a virtual account or paying at a billing key's issuance reads
the amount registered at that moment, and a window whose amount differs fails (no payment, no
webhook), as PortOne stops a payment whose amount is not the one registered."""

import pytest
from django.test import Client

from api_keys.services.api_keys import api_key_create
from console.tenancy.audit import SYSTEM
from payments.models import BillingKey, Payment
from tests.payments.test_payment_window import message, open_window, press, shop  # noqa: F401  (shop: a fixture)
from webhooks.models import Delivery
from webhooks.services import endpoint_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def rest(shop):  # noqa: F811
    """The shop's server: ``POST``/``PUT /payments/prepare`` with its REST API key."""
    endpoint_save(actor=SYSTEM, merchant=shop, mode="test", url="http://127.0.0.1:9/hook",
                  content_type="json", version="v1")
    issued = api_key_create(actor=SYSTEM, merchant=shop, name="order server")
    server = Client()
    token = server.post("/users/getToken", {"imp_key": issued.api_key.key, "imp_secret": issued.secret}
                        ).json()["response"]["access_token"]

    def prepare(method: str, merchant_uid: str, amount: int) -> dict:
        body = f'{{"merchant_uid": "{merchant_uid}", "amount": {amount}}}'
        call = server.post if method == "POST" else server.put
        return call("/payments/prepare", body, content_type="application/json", HTTP_AUTHORIZATION=token).json()

    return prepare


def refused_for_the_registered_amount(done, imp_uid, registered: str):
    rsp = message(done)["data"]["rsp"]
    assert rsp["success"] is False and rsp["error_code"] == "F400", rsp
    assert f"등록 금액: {registered}원" in rsp["error_msg"]  # stored in Korean, whatever the window speaks
    payment = Payment.objects.get(imp_uid=imp_uid)
    assert payment.status == "failed" and payment.paid_at is None and payment.error_code == "F400"
    return payment


def test_an_amount_prepared_after_the_window_opened_refuses_its_approval(client, shop, rest):  # noqa: F811
    window = open_window(client, shop, merchant_uid="order-a", amount="1")
    assert rest("POST", "order-a", 500_000)["code"] == 0  # accepted, as PortOne: the window has not paid
    done, imp_uid = press(client, window, "approve")
    assert done.status_code == 200
    refused_for_the_registered_amount(done, imp_uid, "500,000")
    assert not Delivery.objects.filter(merchant=shop).exists()  # nothing paid, nothing notified

    again = open_window(client, shop, merchant_uid="order-a", amount="500000")  # the registered amount pays
    paid, paid_uid = press(client, again, "approve")
    assert message(paid)["data"]["rsp"]["success"] is True
    assert Payment.objects.get(imp_uid=paid_uid).amount == 500_000


def test_an_amount_changed_after_the_window_opened_refuses_its_approval(client, shop, rest):  # noqa: F811
    assert rest("POST", "order-b", 1000)["code"] == 0
    window = open_window(client, shop, merchant_uid="order-b", amount="1000")
    assert rest("PUT", "order-b", 2000)["response"]["amount"] == 2000
    done, imp_uid = press(client, window, "approve")
    refused_for_the_registered_amount(done, imp_uid, "2,000")
    assert not Delivery.objects.filter(merchant=shop).exists()


def test_a_changed_amount_issues_no_virtual_account(client, shop, rest):  # noqa: F811
    assert rest("POST", "order-c", 1000)["code"] == 0
    window = open_window(client, shop, merchant_uid="order-c", amount="1000", pay_method="vbank")
    rest("PUT", "order-c", 3000)
    done, imp_uid = press(client, window, "vbank", bank="004")
    payment = refused_for_the_registered_amount(done, imp_uid, "3,000")
    assert payment.vbank_issued_at is None and not payment.vbank_num
    assert not Delivery.objects.filter(merchant=shop).exists()


def test_a_changed_amount_is_not_paid_at_a_billing_keys_issuance(client, shop, rest):  # noqa: F811
    """kakaopay pays the amount asked when the key is issued: that payment reads the registered
    amount too, and no key is issued."""
    assert rest("POST", "order-d", 1000)["code"] == 0
    window = open_window(client, shop, merchant_uid="order-d", amount="1000", pg="kakaopay.TCSUBSCRIP",
                         customer_uid="gildong_0001")
    assert window.status_code == 200, window.content.decode()
    rest("PUT", "order-d", 2000)
    done, imp_uid = press(client, window, "issue", test_card="approve")
    refused_for_the_registered_amount(done, imp_uid, "2,000")
    assert not BillingKey.objects.filter(merchant=shop).exists()
    assert not Delivery.objects.filter(merchant=shop).exists()


def test_the_registered_amount_still_pays(client, shop, rest):  # noqa: F811
    assert rest("POST", "order-e", 1000)["code"] == 0
    window = open_window(client, shop, merchant_uid="order-e", amount="1000")
    rest("PUT", "order-e", 1000)  # changed to the same amount
    done, imp_uid = press(client, window, "approve")
    assert message(done)["data"]["rsp"]["success"] is True
    assert Payment.objects.get(imp_uid=imp_uid).status == "paid"
