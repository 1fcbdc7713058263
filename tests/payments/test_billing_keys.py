"""Key-in payments, billing keys and payments with them (issue 15), at the service level on the
real database: the test cards, what is refused and what is kept (a masked number only), the
webhooks a payment causes, and the answers' shapes against PortOne's own V1 contract."""

import pytest
from django.views.debug import ExceptionReporter

from channels.models import Channel
from console.models import AuditEvent
from console.tenancy.audit import SYSTEM, Actor
from payments.audit import AuditAction
from payments.domain import billing_keys, charges
from payments.domain.errors import PaymentError
from payments.models import BillingKey, Payment
from payments.sandbox import cards
from payments.sandbox.cards import PG_ERRORS
from payments.selectors import billing as billing_selectors
from payments.v1.annotation import customer_annotation, payment_annotation
from tests.factories import make_channel, make_merchant, make_sub_merchant
from tests.portone_schema import validator
from webhooks.models import Delivery
from webhooks.services import endpoint_save

pytestmark = pytest.mark.django_db

APPROVE = "9410-0000-7000-0000"
LIMIT = "9410-0000-1000-1001"
INVALID = "9410-0000-0000-1003"


def _endpoint(merchant):
    return endpoint_save(actor=SYSTEM, merchant=merchant, mode="test", url="http://127.0.0.1:9/hook",
                         content_type="json", version="v1")


def _keyin(merchant, **fields):
    values = {"merchant_uid": "keyin_1", "amount": 1000, "card_number": APPROVE, "expiry": "2030-12",
              "birth": "900101", "pwd_2digit": "12", "pg": "nice", "name": "Blue mug", "buyer_name": "Kim"}
    values.update(fields)
    return charges.keyin_pay(merchant=merchant, **values)


def _issue(merchant, customer_uid="cust_1", **fields):
    values = {"card_number": APPROVE, "expiry": "2030-12", "birth": "900101", "pg": "ksnet"}
    values.update(fields)
    return billing_keys.billing_key_issue(merchant=merchant, customer_uid=customer_uid, **values)


def _again(merchant, customer_uid="cust_1", merchant_uid="again_1", **fields):
    values = {"amount": 5000, "name": "Monthly plan"}
    values.update(fields)
    return charges.payment_again(merchant=merchant, customer_uid=customer_uid, merchant_uid=merchant_uid, **values)


def _refused(call, *words, code=None):
    with pytest.raises(PaymentError) as refused:
        call()
    for word in words:
        assert word in refused.value.message, refused.value.message
    if code:  # a decline by the PG: its own code
        assert (refused.value.pg_code or refused.value.code) == code
    return refused.value


# --- the test cards -----------------------------------------------------------------


def test_the_test_cards_are_well_formed_and_each_masks_differently():
    assert len({card.masked for card in cards.TEST_CARDS}) == len(cards.TEST_CARDS)
    errors = {code for code, _label in PG_ERRORS}
    for card in cards.TEST_CARDS:
        assert len(card.digits) in cards.CARD_NUMBER_LENGTHS and cards.luhn_ok(card.digits), card
        assert not card.error_code or card.error_code in errors, card
        assert cards.card_for_masked(card.masked) is card
        assert card.digits[6:-4] not in card.masked and len(card.masked) == len(card.digits)
    assert cards.BY_KEY["approve"].masked == "941000******0000"
    assert cards.BY_KEY["approve_15_digits"].masked == "376003*****0000"


def test_a_shops_own_number_approves_and_is_known_by_its_mask_only():
    own = cards.read_card_number("4242-4242-4242-4242")
    assert own.approves and own.masked == "424242******4242" and own.number == "" and own.card_name == ""
    assert cards.card_for_masked(own.masked) == own
    # A number masked like a decline card is that card (the sandbox knows a card by its mask).
    like_limit = cards.read_card_number("9410001234571001")
    assert cards.luhn_ok("9410001234571001") and like_limit is cards.BY_KEY["limit_exceeded"]
    assert cards.card_for_masked("not a mask") is None


@pytest.mark.parametrize(("number", "words"), [
    ("9410-0000-7000-000O", "digits only"),  # a letter O for a zero
    ("abcd efgh ijkl mnop", "digits only"),
    ("1" * 30, "has 30 digits"),
    ("9410 0000 7000 00", "has 14 digits"),
    ("9410000070000001", "check digit"),
    ("", "card_number is required"),
    ("9" * 41, "too long"),
])
def test_card_numbers_that_are_no_card_numbers_are_refused_without_repeating_them(agency, number, words):
    refused = _refused(lambda: _keyin(agency, card_number=number), words, code="invalid")
    digits = "".join(c for c in number if c.isdigit())
    assert len(digits) < 6 or digits not in refused.message
    assert not Payment.objects.filter(merchant=agency).exists()


def test_expiry_birth_and_password_must_have_their_shape(agency):
    _refused(lambda: _keyin(agency, expiry="12/30"), "YYYY-MM")
    _refused(lambda: _keyin(agency, expiry="2030-13"), "YYYY-MM")
    _refused(lambda: _keyin(agency, birth="1990-01-01"), "birth must be 6 digits")
    _refused(lambda: _keyin(agency, pwd_2digit="123"), "pwd_2digit")
    assert _keyin(agency, expiry="203012", birth="1234567890", pwd_2digit="").status == "paid"
    assert not Payment.objects.filter(merchant=agency, status="failed").exists()


# --- key-in payments ----------------------------------------------------------------


def test_a_key_in_payment_is_paid_with_a_masked_card_and_one_webhook(agency):
    _endpoint(agency)
    payment = _keyin(agency, custom_data={"cart": [7]})
    nice = Channel.objects.get(merchant=agency, pg_provider="nice", module="api_keyin")
    assert (payment.status, payment.channel, payment.channel_type, payment.pay_method) == ("paid", nice, "api", "card")
    assert (payment.card_number, payment.card_name, payment.card_code) == ("941000******0000", "BC카드", "361")
    assert payment.apply_num and payment.pg_tid and payment.custom_data == '{"cart": [7]}'
    stored = Payment.objects.filter(pk=payment.pk).values().get()
    assert not any("9410000070000000" in str(value) for value in stored.values())
    deliveries = list(Delivery.objects.filter(merchant=agency))
    assert len(deliveries) == 1 and '"status":"paid"' in deliveries[0].body
    validator("PaymentAnnotation").validate(payment_annotation(payment))


@pytest.mark.parametrize(("card", "code", "words"), [
    (LIMIT, "F1001", "한도 초과"), (INVALID, "F1003", "유효하지 않은 카드"),
    ("9410-0000-9000-1004", "F1004", "유효기간 만료"), ("9410-0000-7000-1099", "F1099", "PG사 일시 장애"),
])
def test_a_declined_key_in_payment_is_kept_as_failed_and_sends_no_webhook(agency, card, code, words):
    _endpoint(agency)
    payment = _keyin(agency, card_number=card, customer_uid="cust_9")
    assert (payment.status, payment.error_code) == ("failed", code) and words in payment.fail_reason
    assert payment.failed_at and not payment.paid_at and payment.card_number.startswith("941000")
    assert not Delivery.objects.filter(merchant=agency).exists()  # as PortOne: a failure notifies nothing
    assert not BillingKey.objects.filter(merchant=agency).exists()  # only a paid payment keeps the card
    # The order may be tried again, and pays.
    assert _keyin(agency, card_number=APPROVE).status == "paid"


def test_a_past_expiry_declines_as_an_expired_card(agency):
    payment = _keyin(agency, expiry="2020-01")
    assert (payment.status, payment.error_code) == ("failed", "F1004")


def test_key_in_takes_only_an_enabled_test_channel_of_the_key_in_module(agency):
    cases = [
        ({"pg": "kcp.T0000"}, ["“API · key-in”", "kcp.T0000", "“Payment window · general”"]),
        ({"pg": "ksnet.2999199990"}, []),  # the MID has a key-in and a subscription channel: key-in is taken
        ({"pg": "nosuchpg"}, ["No channel of this merchant matches"]),
        ({"pg": ""}, ["2 test channels of the module “API · key-in”", "name one with pg"]),
    ]
    for index, (params, words) in enumerate(cases):
        if not words:
            payment = _keyin(agency, merchant_uid=f"m{index}", **params)
            assert payment.channel.module == "api_keyin" and payment.pg_provider == "ksnet"
            continue
        _refused(lambda params=params, index=index: _keyin(agency, merchant_uid=f"m{index}", **params), *words)
    live = make_channel(agency, mode="live", provider="kcp", module="api_keyin", mid="L1VE1")
    _refused(lambda: _keyin(agency, merchant_uid="live", pg=f"kcp.{live.mid}"), "Live channels take no payments")
    Channel.objects.filter(merchant=agency, pg_provider="nice", module="api_keyin", mode="test").update(enabled=False)
    _refused(lambda: _keyin(agency, merchant_uid="off", pg="nice.iamport01m"), "disabled")
    assert Payment.objects.filter(merchant=agency).count() == 1


def test_an_order_is_paid_once(agency):
    _keyin(agency)
    _refused(lambda: _keyin(agency), "already used by a payment that is paid", code="conflict")
    assert Payment.objects.filter(merchant=agency).count() == 1


def test_a_key_in_payment_with_customer_uid_also_stores_the_billing_key(agency):
    payment = _keyin(agency, customer_uid="gildong_1", buyer_email="g@example.test", buyer_tel="010-1234-5678")
    key = BillingKey.objects.get(merchant=agency, customer_uid="gildong_1")
    assert (payment.billing_key, payment.customer_uid, payment.customer_uid_usage) == (key, "gildong_1", "payment")
    assert (key.issued_through, key.card_number, key.pg_provider) == ("keyin", "941000******0000", "nice")
    assert (key.customer_name, key.customer_email, key.customer_tel) == ("Kim", "g@example.test", "010-1234-5678")
    assert _again(agency, customer_uid="gildong_1").status == "paid"


# --- billing keys -------------------------------------------------------------------


def test_a_billing_key_is_issued_read_replaced_and_deleted_with_an_audit_row(agency, owner):
    key = _issue(agency, customer_name="Hong", customer_email="hong@example.test")
    assert (key.pg_provider, key.pg_id, key.channel.module) == ("ksnet", "2999199990", "api_subscription")
    assert key.card_number == "941000******0000" and key.issued_through == "api"
    annotation = customer_annotation(key)
    validator("CustomerAnnotation").validate(annotation)
    assert annotation["card_number"] == "941000******0000" and annotation["inserted"] > 0
    # Issued again under the same customer_uid: the card is replaced (PortOne's rule), one row.
    replaced = _issue(agency, card_number="5365 0000 4000 0000", pg="welcome")
    assert replaced.pk == key.pk and replaced.card_name == "신한카드" and replaced.pg_provider == "welcome"
    assert billing_selectors.billing_key_for_api(merchant_id=agency.pk, customer_uid="cust_1") == replaced
    deleted = billing_keys.billing_key_delete(actor=Actor(user=owner), merchant=agency, customer_uid="cust_1",
                                              reason="customer left")
    assert deleted.deleted_at and deleted.delete_reason == "customer left"
    event = AuditEvent.objects.get(action=AuditAction.BILLING_KEY_DELETE)
    assert (event.actor, event.target_id, event.merchant) == (owner, str(key.pk), agency)
    # Deleted: unknown to the API, unable to pay, and not deletable twice; its row stays.
    assert billing_selectors.billing_key_for_api(merchant_id=agency.pk, customer_uid="cust_1") is None
    _refused(lambda: _again(agency), "No buyer is registered with this customer_uid", code="declined")  # i'mport
    _refused(lambda: billing_keys.billing_key_delete(actor=SYSTEM, merchant=agency, customer_uid="cust_1"), code="not_found")
    # The customer_uid may be issued anew: a new row, the old one kept for the history.
    again = _issue(agency)
    assert again.pk != key.pk and BillingKey.objects.filter(merchant=agency, customer_uid="cust_1").count() == 2


def test_a_card_the_pg_refuses_at_issuance_issues_no_key(agency):
    for number, code in ((INVALID, "F1003"), ("9410-0000-4000-1005", "F1005"), ("9410-0000-9000-1004", "F1004")):
        _refused(lambda number=number: _issue(agency, card_number=number), code=code)
    _refused(lambda: _issue(agency, expiry="2021-02"), "expired card", code="F1004")
    _refused(lambda: _issue(agency, card_number="9410-0000-7000-000A"), "digits only", code="invalid")
    assert not BillingKey.objects.exists()
    # A card over its limit is a good card: the key is issued, its payments decline.
    assert _issue(agency, card_number=LIMIT).card_number == "941000******1001"


def test_billing_keys_take_a_channel_of_the_api_subscription_module(agency):
    _refused(lambda: _issue(agency, pg="nice"), "“API · subscription”", "“API · key-in”")
    _refused(lambda: _issue(agency, pg=""), "2 test channels of the module “API · subscription”")
    assert not BillingKey.objects.exists()


def test_another_merchants_billing_key_is_unknown_and_a_sub_merchants_are_its_own(agency):
    sub = make_sub_merchant(agency, "SEL")
    other = make_merchant("Other Corp")
    _issue(agency, customer_uid="shared_uid")
    for merchant in (sub, other):
        assert billing_selectors.billing_key_for_api(merchant_id=merchant.pk, customer_uid="shared_uid") is None
        _refused(lambda merchant=merchant: _again(merchant, customer_uid="shared_uid"), code="declined")
        _refused(lambda merchant=merchant: billing_keys.billing_key_delete(actor=SYSTEM, merchant=merchant,
                                                                       customer_uid="shared_uid"), code="not_found")
    # The sub-merchant may use the same customer_uid for a key of its own (on its agency's channel).
    own = _issue(sub, customer_uid="shared_uid")
    assert own.merchant == sub and BillingKey.objects.filter(customer_uid="shared_uid").count() == 2


def test_keys_by_uids_and_a_customers_payments(agency):
    _issue(agency, customer_uid="a")
    _issue(agency, customer_uid="b")
    found = billing_selectors.billing_keys_by_uids(merchant_id=agency.pk, customer_uids=["b", "nope", "a", "b"])
    assert [k.customer_uid for k in found] == ["b", "a"]
    first = _again(agency, customer_uid="a", merchant_uid="o1")
    second = _again(agency, customer_uid="a", merchant_uid="o2")
    _again(agency, customer_uid="b", merchant_uid="o3")
    listed = list(billing_selectors.payments_of_customer(merchant_id=agency.pk, customer_uid="a"))
    assert listed == [second, first]


def test_the_window_issues_a_billing_key_on_a_subscription_channel_without_card_data(agency):
    key = billing_keys.billing_key_issue_from_window(merchant=agency, customer_uid="win_1", pg="html5_inicis.INIBillTst",
                                                     customer_name="Lee")
    assert (key.issued_through, key.pg_provider, key.channel.module) == ("window", "html5_inicis", "window_subscription")
    assert key.card_number == cards.DEFAULT_CARD.masked and key.customer_name == "Lee"
    channel = Channel.objects.get(merchant=agency, mid="INIBillTst")
    by_key = billing_keys.billing_key_issue_from_window(merchant=agency, customer_uid="win_2",
                                                        channel_key=channel.channel_key, test_card="limit_exceeded")
    assert by_key.card_number == "941000******1001"
    _refused(lambda: billing_keys.billing_key_issue_from_window(merchant=agency, customer_uid="win_3", pg="kcp.T0000"),
             "“Payment window · subscription”")
    _refused(lambda: billing_keys.billing_key_issue_from_window(merchant=agency, customer_uid="win_4",
                                                                pg="html5_inicis.INIBillTst", test_card="invalid_card"),
             code="F1003")
    _refused(lambda: billing_keys.billing_key_issue_from_window(merchant=agency, customer_uid="win_5",
                                                                pg="html5_inicis.INIBillTst", test_card="nope"),
             "Choose a test card")
    assert _again(agency, customer_uid="win_1").status == "paid"
    assert _again(agency, customer_uid="win_2", merchant_uid="again_2").error_code == "F1001"


# --- paying again -------------------------------------------------------------------


def test_paying_with_a_key_notifies_when_paid_and_keeps_a_decline_as_failed(agency):
    _endpoint(agency)
    key = _issue(agency)
    payment = _again(agency, buyer_name="Hong")
    assert (payment.status, payment.billing_key, payment.customer_uid_usage) == ("paid", key, "payment")
    assert (payment.channel, payment.channel_type, payment.card_number) == (key.channel, "api", key.card_number)
    validator("PaymentAnnotation").validate(payment_annotation(payment))
    assert payment_annotation(payment)["customer_uid"] == "cust_1"
    _issue(agency, customer_uid="over", card_number=LIMIT)
    failed = _again(agency, customer_uid="over", merchant_uid="again_2")
    assert (failed.status, failed.error_code) == ("failed", "F1001")
    assert Delivery.objects.filter(merchant=agency).count() == 1  # the paid one only


def test_paying_again_refuses_and_saves_nothing(agency):
    key = _issue(agency)
    _again(agency)
    cases = [
        (lambda: _again(agency), "already used by a payment that is paid"),  # the same merchant_uid
        (lambda: _again(agency, merchant_uid="x", amount="abc"), "whole number of won"),
        (lambda: _again(agency, merchant_uid="x", amount=0), "more than 0 won"),
        (lambda: _again(agency, merchant_uid="x", name=""), "name is required"),
        (lambda: _again(agency, merchant_uid="x", currency="USD"), "KRW only"),
        (lambda: _again(agency, merchant_uid="x", card_quota=3), "50,000 won or more"),
        (lambda: _again(agency, merchant_uid="x", notice_url="ftp://example.test/hook"), "notice_url"),
        (lambda: _again(agency, customer_uid="nobody", merchant_uid="x"), "No buyer is registered"),
    ]
    for call, words in cases:
        _refused(call, words)
    key.channel.enabled = False
    key.channel.save(update_fields=["enabled"])
    _refused(lambda: _again(agency, merchant_uid="y"), "channel of this billing key is disabled", code="conflict")
    assert Payment.objects.filter(merchant=agency).count() == 1


def test_card_data_never_reaches_an_error_report(agency, monkeypatch):
    """An unexpected error while card data is in hand: the report Django mails to the admins
    (local variables of every frame) shows none of it."""
    def broken(*args, **kwargs):
        raise RuntimeError("the channel lookup broke")

    monkeypatch.setattr(charges, "find_channel", broken)
    with pytest.raises(RuntimeError) as raised:
        # Built in the call, so that the test's own source line shows no number either.
        charges.keyin_pay(merchant=agency, merchant_uid="m", amount=1000, pg="nice",
                          card_number=" ".join(("9410", "0000", "7000", "0000")), expiry="2030" + "-12",
                          birth="9001" + "01", pwd_2digit="4" + "2")
    report = ExceptionReporter(None, raised.type, raised.value, raised.tb).get_traceback_text()
    assert "the channel lookup broke" in report and "keyin_pay" in report
    for secret in ("9410 0000 7000 0000", "9410000070000000", "900101", "2030-12"):
        assert secret not in report, secret


def test_a_key_in_payment_stores_a_key_only_where_the_pg_issues_keys_through_the_api(agency):
    make_channel(agency, mode="test", provider="html5_inicis", module="api_keyin", mid="INIkeyin01",
                 credentials={"signkey": "test-sign-key"})
    _refused(lambda: _keyin(agency, pg="html5_inicis", customer_uid="c"),
             "html5_inicis.INIkeyin01 issues no billing keys through the API", code="invalid")
    assert _keyin(agency, pg="html5_inicis").status == "paid"  # without customer_uid it pays
    assert not BillingKey.objects.exists()


def test_deleting_one_row_never_deletes_the_key_issued_after_it(agency):
    """The console deletes the row it shows: if that key was deleted and a new one issued
    under the same customer_uid meanwhile, the new one stays."""
    old = _issue(agency, "cust_race")
    billing_keys.billing_key_delete(actor=SYSTEM, merchant=agency, customer_uid="cust_race")
    new = _issue(agency, "cust_race")
    _refused(lambda: billing_keys.billing_key_delete(actor=SYSTEM, merchant=agency, customer_uid="cust_race",
                                                billing_key_id=old.pk), "cust_race", code="not_found")
    new.refresh_from_db()
    assert new.deleted_at is None
