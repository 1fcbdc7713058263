"""A billing key issued through the sandbox window (``customer_uid`` in ``IMP.request_pay`` on a
channel of the window subscription module), as the SDK's form reaches it (Django's client, no
browser): what the window shows, the key and the payment record an issuance makes, the amount
rules (0, shown only, or paid at issuance), the callback and the redirect carrying
``customer_uid``, one key for a double click or two tabs, and the refusals."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from channels.models import Channel
from console.tenancy.audit import SYSTEM
from payments.domain import cancels, charges
from payments.domain.errors import PaymentError
from payments.models import BillingKey, Payment
from payments.sandbox import cards
from payments.v1.annotation import payment_annotation
from tests.factories import make_merchant, make_sub_merchant
from tests.portone_schema import validator
from webhooks.models import Delivery
from webhooks.services import endpoint_save

pytestmark = pytest.mark.django_db

SHOP = "http://shop.test:8000"
WINDOW = "/sandbox/pay/"
INICIS = "html5_inicis.INIBillTst"  # window subscription; issues keys, pays nothing at issuance
KAKAO = "kakaopay.TCSUBSCRIP"  # window subscription; pays at issuance


@pytest.fixture
def shop(db):
    merchant = make_merchant("Corner Shop")
    endpoint_save(actor=SYSTEM, merchant=merchant, mode="test", url="http://127.0.0.1:9/hook",
                  content_type="json", version="v1")
    return merchant


def open_window(client, merchant, **overrides):
    data = {"imp_code": merchant.code, "origin": SHOP, "pg": INICIS, "pay_method": "card",
            "merchant_uid": "issue-1", "amount": "0", "name": "Monthly plan", "customer_uid": "gildong_0001",
            "buyer_name": "Hong Gildong", "buyer_email": "gildong@example.test", "buyer_tel": "010-1234-5678"}
    data.update(overrides)
    return client.post(WINDOW, {k: v for k, v in data.items() if v is not None})


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def press(client, response, action, **extra):
    html = response.content.decode()
    imp_uid = re.search(r'action="/sandbox/pay/(imp_\d+)/"', html).group(1)
    data = {"token": hidden(html, "token"), "origin": hidden(html, "origin"), "action": action, **extra}
    return client.post(f"/sandbox/pay/{imp_uid}/", data), imp_uid


def rsp_of(response) -> dict:
    found = re.search(r'<script id="pgconsole-message" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    assert found, response.content.decode()
    return json.loads(found.group(1))["data"]["rsp"]


def deliveries(merchant) -> list[dict]:
    return [json.loads(body) for body in Delivery.objects.filter(merchant=merchant).values_list("body", flat=True)]


# --- the window ------------------------------------------------------------------------


def test_the_window_says_it_issues_a_key_and_offers_the_test_cards(client, shop):
    response = open_window(client, shop)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Billing key issuance" in html and "gildong_0001" in html and INICIS in html and "KG INICIS" in html
    assert "No card data is asked: choose a test card." in html
    assert "Nothing is paid: this window issues a billing key only." in html
    assert '<optgroup label="Cards that approve">' in html and '<optgroup label="Cards that decline">' in html
    for card in cards.TEST_CARDS:
        assert f'value="{card.key}"' in html and card.masked in html
        assert card.digits not in html  # only masked numbers
    assert 'value="approve" selected' in html
    assert "Approves · BC카드 941000******0000" in html
    assert "Issues the key; each payment with it fails with F1001" in html
    assert "Fails with F1003, no key" in html
    assert ">Issue billing key<" in html and "Fail with this error" in html and "Close (the buyer cancels)" in html
    assert ">Approve<" not in html
    payment = Payment.objects.get(merchant=shop, merchant_uid="issue-1")
    assert (payment.status, payment.amount, payment.customer_uid, payment.customer_uid_usage) == (
        "ready", 0, "gildong_0001", "issue")
    assert payment.channel.module == "window_subscription" and payment.pg_provider == "html5_inicis"
    assert not BillingKey.objects.exists() and not Delivery.objects.exists()


def test_issue_stores_the_chosen_card_masked_and_records_a_paid_payment_of_0_won(client, shop):
    done, imp_uid = press(client, open_window(client, shop), "issue", test_card="approve_shinhan")
    assert done.status_code == 200
    html = done.content.decode()
    assert "Billing key issued" in html and "gildong_0001" in html and "536500******0000" in html
    rsp = rsp_of(done)
    assert rsp["success"] is True and rsp["imp_success"] is True and rsp["imp_uid"] == imp_uid
    assert (rsp["merchant_uid"], rsp["customer_uid"], rsp["status"], rsp["paid_amount"]) == (
        "issue-1", "gildong_0001", "paid", 0)
    assert rsp["card_number"] == "536500******0000" and rsp["card_name"] == "신한카드"

    key = BillingKey.objects.get(merchant=shop, customer_uid="gildong_0001")
    assert (key.issued_through, key.pg_provider, key.pg_id) == ("window", "html5_inicis", "INIBillTst")
    assert (key.card_number, key.card_code, key.card_name) == ("536500******0000", "366", "신한카드")
    assert (key.customer_name, key.customer_email, key.customer_tel) == (
        "Hong Gildong", "gildong@example.test", "010-1234-5678")
    payment = Payment.objects.get(imp_uid=imp_uid)
    assert (payment.status, payment.amount, payment.billing_key, payment.customer_uid_usage) == (
        "paid", 0, key, "issue")
    annotation = payment_annotation(payment)
    validator("PaymentAnnotation").validate(annotation)
    assert (annotation["customer_uid"], annotation["customer_uid_usage"], annotation["amount"]) == (
        "gildong_0001", "issue", 0)
    assert deliveries(shop) == [{"imp_uid": imp_uid, "merchant_uid": "issue-1", "status": "paid"}]
    assert Delivery.objects.get(merchant=shop).event == "paid"  # i'mport's word for V1

    # The merchant's server then pays with the key.
    paid = charges.payment_again(merchant=shop, customer_uid="gildong_0001", merchant_uid="month-1",
                                 amount=9900, name="Monthly plan")
    assert (paid.status, paid.amount, paid.billing_key, paid.card_number) == ("paid", 9900, key, "536500******0000")
    # 0 won paid: nothing to cancel (the key is deleted instead).
    with pytest.raises(PaymentError) as refused:
        cancels.payment_cancel(actor=SYSTEM, payment=payment)
    assert refused.value.code == "conflict" and "nothing to cancel" in refused.value.message


def test_a_double_click_or_a_second_tab_issues_one_key(client, shop):
    window = open_window(client, shop)
    second_tab = open_window(client, shop)  # the same order opened again: the same payment
    assert hidden(second_tab.content.decode(), "token")
    assert Payment.objects.filter(merchant=shop).count() == 1
    first, imp_uid = press(client, window, "issue", test_card="approve")
    paid_at = Payment.objects.get(imp_uid=imp_uid).paid_at
    again, _ = press(client, window, "issue", test_card="approve")  # a double click
    other, _ = press(client, second_tab, "issue", test_card="approve_check")  # the other tab
    for response in (first, again, other):
        assert response.status_code == 200 and rsp_of(response)["success"] is True
    assert BillingKey.objects.filter(merchant=shop).count() == 1
    assert BillingKey.objects.get(merchant=shop).card_number == cards.DEFAULT_CARD.masked  # the first click's
    assert Payment.objects.get(imp_uid=imp_uid).paid_at == paid_at
    assert len(deliveries(shop)) == 1


def test_a_card_that_declines_payments_still_gets_a_key_whose_payments_fail(client, shop):
    done, imp_uid = press(client, open_window(client, shop), "issue", test_card="limit_exceeded")
    assert rsp_of(done)["success"] is True
    assert BillingKey.objects.get(merchant=shop).card_number == "941000******1001"
    failed = charges.payment_again(merchant=shop, customer_uid="gildong_0001", merchant_uid="month-1",
                                   amount=9900, name="Monthly plan")
    assert (failed.status, failed.error_code) == ("failed", "F1001")


@pytest.mark.parametrize(("test_card", "code"), [("invalid_card", "F1003"), ("expired_card", "F1004"),
                                                 ("wrong_password", "F1005")])
def test_a_card_refused_at_issuance_fails_the_window_without_a_key(client, shop, test_card, code):
    done, imp_uid = press(client, open_window(client, shop), "issue", test_card=test_card)
    rsp = rsp_of(done)
    assert rsp["success"] is False and rsp["error_code"] == code and rsp["customer_uid"] == "gildong_0001"
    assert "Billing key not issued" in done.content.decode()
    assert Payment.objects.get(imp_uid=imp_uid).status == "failed"
    assert not BillingKey.objects.exists() and not Delivery.objects.exists()  # no webhook, as PortOne


def test_fail_and_close_end_the_window_without_a_key(client, shop):
    done, _ = press(client, open_window(client, shop), "fail", error_code="F1099")
    assert rsp_of(done)["error_code"] == "F1099"
    closed, imp_uid = press(client, open_window(client, shop, merchant_uid="issue-2"), "close")
    assert rsp_of(closed)["success"] is False and rsp_of(closed)["customer_uid"] == "gildong_0001"
    assert Payment.objects.get(imp_uid=imp_uid).status == "failed"
    assert not BillingKey.objects.exists() and not Delivery.objects.exists()


def test_an_unknown_card_or_approve_keeps_the_window_open(client, shop):
    window = open_window(client, shop)
    unknown, imp_uid = press(client, window, "issue", test_card="4111111111111111")
    assert unknown.status_code == 400 and "Choose a test card from the list." in unknown.content.decode()
    approve, _ = press(client, window, "approve")
    assert approve.status_code == 400 and "use Issue billing key" in approve.content.decode()
    assert "Billing key issuance" in approve.content.decode()  # still the billing key's window
    assert Payment.objects.get(imp_uid=imp_uid).status == "ready" and not BillingKey.objects.exists()


def test_the_redirect_back_carries_customer_uid(client, shop):
    window = open_window(client, shop, m_redirect_url=f"{SHOP}/subscribed?plan=monthly")
    done, imp_uid = press(client, window, "issue", test_card="approve")
    assert done.status_code == 302
    url = urlsplit(done["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{SHOP}/subscribed"
    query = parse_qs(url.query)
    assert query["customer_uid"] == ["gildong_0001"] and query["imp_uid"] == [imp_uid]
    assert query["imp_success"] == ["true"] and query["plan"] == ["monthly"]


# --- amounts -----------------------------------------------------------------------------


def test_an_amount_asked_of_a_pg_that_pays_nothing_at_issuance_is_only_shown(client, shop):
    window = open_window(client, shop, amount="1004")
    html = window.content.decode()
    assert "1,004 won was asked: shown only, as html5_inicis.INIBillTst pays nothing" in html
    done, imp_uid = press(client, window, "issue", test_card="approve")
    assert rsp_of(done)["paid_amount"] == 0
    payment = Payment.objects.get(imp_uid=imp_uid)
    assert (payment.amount, payment.customer_uid_usage, payment.apply_num) == (0, "issue", "")


def test_a_pg_that_pays_at_issuance_pays_the_amount_with_the_new_key(client, shop):
    window = open_window(client, shop, pg=KAKAO, amount="12000")
    html = window.content.decode()
    assert "12,000 won" in html and "Paid with the new billing key when it is issued." in html
    assert "Issue billing key and pay 12,000 won" in html
    assert "Fails with F1001, no key" in html  # a decline of the payment fails the issuance too
    done, imp_uid = press(client, window, "issue", test_card="approve")
    rsp = rsp_of(done)
    assert (rsp["success"], rsp["paid_amount"], rsp["customer_uid"], rsp["pg_provider"]) == (
        True, 12000, "gildong_0001", "kakaopay")
    payment = Payment.objects.get(imp_uid=imp_uid)
    key = BillingKey.objects.get(merchant=shop, customer_uid="gildong_0001")
    assert (payment.status, payment.amount, payment.customer_uid_usage, payment.billing_key) == (
        "paid", 12000, "payment", key)
    assert payment.apply_num and key.issued_through == "window" and key.pg_provider == "kakaopay"
    validator("PaymentAnnotation").validate(payment_annotation(payment))
    assert deliveries(shop) == [{"imp_uid": imp_uid, "merchant_uid": "issue-1", "status": "paid"}]


@pytest.mark.parametrize(("pg", "amount", "types"), [
    (INICIS, "0", ["BillingKey.Issued"]),
    (KAKAO, "12000", ["BillingKey.Issued", "Transaction.Paid"]),
])
def test_a_v2_endpoint_hears_billing_key_issued(client, shop, pg, amount, types):
    """PortOne V2 tells an issuance as BillingKey.Issued (data: storeId, billingKey); an
    issuance that pays is a payment too. V1 hears one ``paid`` either way (above)."""
    endpoint_save(actor=SYSTEM, merchant=shop, mode="test", url="http://127.0.0.1:9/hook",
                  content_type="json", version="v2")
    done, imp_uid = press(client, open_window(client, shop, pg=pg, amount=amount), "issue", test_card="approve")
    assert rsp_of(done)["success"] is True
    bodies = [json.loads(body) for body in
              Delivery.objects.filter(merchant=shop).order_by("id").values_list("body", flat=True)]
    assert [body["type"] for body in bodies] == types
    assert bodies[0]["data"] == {"storeId": shop.code, "billingKey": "gildong_0001"}
    if len(bodies) > 1:
        assert bodies[1]["data"] == {"storeId": shop.code, "paymentId": "issue-1", "transactionId": imp_uid}


def test_paying_at_issuance_with_a_declining_card_issues_no_key(client, shop):
    window = open_window(client, shop, pg=KAKAO, amount="12000")
    done, imp_uid = press(client, window, "issue", test_card="limit_exceeded")
    assert rsp_of(done)["error_code"] == "F1001"
    assert Payment.objects.get(imp_uid=imp_uid).status == "failed" and not BillingKey.objects.exists()


@pytest.mark.parametrize(("amount", "words"), [("-1", "whole number"), ("abc", "whole number"),
                                               ("10.5", "whole number"), (None, "whole number"),
                                               ("20000000000", "too large")])
def test_a_bad_amount_is_refused(client, shop, amount, words):
    response = open_window(client, shop, amount=amount)
    html = response.content.decode()
    assert response.status_code == 400 and words in html
    assert "With customer_uid, an amount of 0 issues the billing key only." in html
    assert not Payment.objects.exists()


def test_the_sdk_lets_a_billing_key_window_ask_0_won():
    from django.contrib.staticfiles import finders

    with open(finders.find("payments/iamport.js"), encoding="utf-8") as handle:
        sdk = handle.read()
    assert "params.customer_uid" in sdk and "0 or more" in sdk


# --- channels and refusals -----------------------------------------------------------------


def test_a_channel_of_another_module_is_refused_in_the_window(client, shop):
    response = open_window(client, shop, pg="kcp.T0000")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The payment window cannot open" in html
    assert "“Payment window · subscription”" in html and "kcp.T0000" in html
    rsp = rsp_of(response)
    assert rsp["success"] is False and rsp["error_code"] == "F400" and rsp["customer_uid"] == "gildong_0001"
    assert not Payment.objects.exists()


def test_a_pg_that_issues_no_keys_in_the_window_is_refused(client, shop):
    # The seeded settle.nxca_jt_bi is a window subscription channel, but PortOne's `settle`
    # code issues keys through the API only (its window issuance is settle_acc's).
    response = open_window(client, shop, pg="settle.nxca_jt_bi")
    assert response.status_code == 400
    assert "settle.nxca_jt_bi issues no billing keys through the payment window." in response.content.decode()


def test_without_pg_the_merchant_must_name_one_of_its_subscription_channels(client, shop):
    response = open_window(client, shop, pg=None)
    assert response.status_code == 400 and "name one with pg" in response.content.decode()
    channel = Channel.objects.get(merchant=shop, mid="TCSUBSCRIP")
    by_key = open_window(client, shop, pg=None, channelKey=channel.channel_key)
    assert by_key.status_code == 200 and "kakaopay.TCSUBSCRIP" in by_key.content.decode()


def test_only_card_is_issued_in_the_window(client, shop):
    response = open_window(client, shop, pay_method="vbank")
    assert response.status_code == 400 and "pay_method card only" in response.content.decode()


def test_a_payment_window_never_issues_a_key_and_a_key_window_on_its_order_replaces_it(client, shop):
    from tests.payments.test_payment_window import ensure_shared_kcp

    ensure_shared_kcp()
    paying = client.post(WINDOW, {"imp_code": shop.code, "origin": SHOP, "pg": "kcp.T0000", "merchant_uid": "issue-1",
                                  "amount": "1000"})
    assert paying.status_code == 200
    issue, paying_uid = press(client, paying, "issue", test_card="approve")
    assert issue.status_code == 400 and "This window pays an order" in issue.content.decode()
    key_window = open_window(client, shop)  # another request for the order: a window of its own
    assert key_window.status_code == 200
    assert Payment.objects.get(imp_uid=paying_uid).status == "failed"
    issue, _imp_uid = press(client, paying, "issue", test_card="approve")
    assert issue.status_code == 409 and "This window pays an order" in issue.content.decode()
    assert not BillingKey.objects.exists()


def test_a_sub_merchant_issues_a_key_of_its_own(client, shop):
    sub = make_sub_merchant(shop, "S01", name="Corner Shop Busan")
    response = open_window(client, shop, tier="S01")  # IMP.agency(code, "S01")
    done, _imp_uid = press(client, response, "issue", test_card="approve")
    assert rsp_of(done)["success"] is True
    assert BillingKey.objects.get(customer_uid="gildong_0001").merchant == sub


def test_the_payments_page_lists_the_issuance_and_a_cancel_of_it_is_refused_in_words(client, shop):
    from django.urls import reverse

    from tests.factories import make_member

    _done, imp_uid = press(client, open_window(client, shop), "issue", test_card="approve")
    client.force_login(make_member(shop, "owner"))
    listed = client.get(reverse("payment_activity:list", kwargs={"merchant_code": shop.code}))
    assert listed.status_code == 200 and imp_uid in listed.content.decode()
    detail_url = reverse("payment_activity:detail", kwargs={"merchant_code": shop.code, "imp_uid": imp_uid})
    detail = client.get(detail_url)
    assert detail.status_code == 200 and "gildong_0001" in detail.content.decode()
    cancel = client.post(detail_url + "cancel/", {"reason": "test"}, follow=True)
    assert "nothing to cancel" in cancel.content.decode()
    assert Payment.objects.get(imp_uid=imp_uid).status == "paid"


@pytest.mark.django_db(transaction=True)
def test_two_tabs_pressing_issue_at_the_same_moment_issue_one_key():
    """Two requests for the same window, at once, on their own connections: the payment's row
    lock lets one issue; the other finds it paid."""
    import threading

    from django.db import connection as thread_connection
    from django.test import Client

    from channels.models import SharedTestCredential

    SharedTestCredential.objects.get_or_create(provider="html5_inicis", module="window_subscription",
                                               mid="INIBillTst", defaults={"pg_provider": "html5_inicis"})
    merchant = make_merchant("Race Shop")
    endpoint_save(actor=SYSTEM, merchant=merchant, mode="test", url="http://127.0.0.1:9/hook",
                  content_type="json", version="v1")
    first_tab, second_tab = Client(), Client()
    windows = [open_window(first_tab, merchant), open_window(second_tab, merchant)]
    barrier, answers = threading.Barrier(2), []

    def press_at_once(client, window, test_card):
        try:
            barrier.wait()
            answers.append(rsp_of(press(client, window, "issue", test_card=test_card)[0]))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=press_at_once, args=args)
               for args in ((first_tab, windows[0], "approve"), (second_tab, windows[1], "approve_check"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 2 and all(rsp["success"] for rsp in answers)
    assert answers[0]["imp_uid"] == answers[1]["imp_uid"]
    assert BillingKey.objects.filter(merchant=merchant).count() == 1
    assert Payment.objects.filter(merchant=merchant).count() == 1 and len(deliveries(merchant)) == 1
