"""The Payments page (issue 14): a merchant's sandbox payments listed, filtered, paged and
exported as CSV; one payment's detail with its cancellations and webhooks; Cancel and Deposit
from the console; who may see and who may act; and that nothing of another merchant shows."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from console.models import AuditEvent
from console.tenancy.audit import SYSTEM
from payments.domain import cancels
from payments.models import Payment, Status
from payments.sandbox import window
from payments.selectors import payments as selectors
from tests.factories import make_channel, make_member, make_sub_merchant
from webhooks.models import Delivery
from webhooks.services import endpoint_save

pytestmark = pytest.mark.django_db


def _pay(merchant, n, *, status=Status.PAID, amount=1000, ago=None, **fields):
    """A payment made directly; ``ago`` (a timedelta) moves its start into the past."""
    fields.setdefault("buyer_name", f"Buyer {n}")
    fields.setdefault("buyer_email", f"buyer{n}@example.test")
    payment = Payment.objects.create(
        merchant=merchant, merchant_uid=f"order_{n}", amount=amount, status=status, pg_provider="kcp",
        pg_id="T0000", channel_key=fields.pop("channel_key", "channel-key-test"), name=f"Item {n}",
        paid_at=timezone.now() if status == Status.PAID else None, **fields)
    if ago is not None:
        Payment.objects.filter(pk=payment.pk).update(started_at=timezone.now() - ago)
        payment.refresh_from_db()
    return payment


def _many(merchant, count, *, start=0, **fields):
    """``count`` payments, one second apart, the highest ``n`` newest."""
    now = timezone.now()
    made = Payment.objects.bulk_create([
        Payment(merchant=merchant, merchant_uid=f"bulk_{start + i}", amount=1000 + i, pg_provider="kcp",
                pg_id="T0000", buyer_name=f"Bulk {start + i}", **fields)
        for i in range(count)
    ])
    for i, payment in enumerate(made):
        payment.started_at = now - timedelta(hours=1) + timedelta(seconds=i)
    Payment.objects.bulk_update(made, ["started_at"])
    return made


def _open(merchant, **params):
    base = {"pg": "kcp.T0000", "merchant_uid": "order_w", "amount": 5000, "name": "Coffee",
            "buyer_name": "Kim"}
    base.update(params)
    return window.window_open(merchant_code=merchant.code, tier_code=None, params=base, user_agent="pytest")


def _url(name, merchant, **kwargs):
    return reverse(f"payment_activity:{name}", kwargs={"merchant_code": merchant.code, **kwargs})


def _imp_uids(html: str) -> list[str]:
    return re.findall(r'href="/m/[^/]+/payments/(imp_[0-9]{12})/"', html)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


# --- the list ------------------------------------------------------------------------


def test_empty_state_points_to_the_channels_page(owner_client, agency):
    html = owner_client.get(_url("list", agency)).content.decode()
    assert "No payment yet. Try a test payment from a test channel on the" in html
    assert reverse("channels:list", kwargs={"merchant_code": agency.code}) in html
    assert "Test mode" in html  # sandbox banner


def test_the_list_shows_this_merchants_payments_only(owner_client, agency, sub_merchant, other_merchant):
    mine = _pay(agency, 1, amount=1234567)
    seoul = _pay(sub_merchant, 2)
    theirs = _pay(other_merchant, 3)
    html = owner_client.get(_url("list", agency)).content.decode()
    assert _imp_uids(html) == [mine.imp_uid]
    assert "1,234,567 won" in html
    sub_html = owner_client.get(_url("list", sub_merchant)).content.decode()
    assert _imp_uids(sub_html) == [seoul.imp_uid]
    assert theirs.imp_uid not in html + sub_html
    assert owner_client.get(_url("list", other_merchant)).status_code == 404


def test_a_sub_merchants_own_member_sees_only_its_payments(client, agency, sub_merchant):
    _pay(agency, 1)
    seoul = _pay(sub_merchant, 2)
    sibling = make_sub_merchant(agency, "B02")
    _pay(sibling, 3)
    client.force_login(make_member(sub_merchant, "viewer"))
    assert _imp_uids(client.get(_url("list", sub_merchant)).content.decode()) == [seoul.imp_uid]
    for merchant in (agency, sibling):
        assert client.get(_url("list", merchant)).status_code == 404
        assert client.get(_url("export", merchant)).status_code == 404


def test_filters(owner_client, agency):
    channel = make_channel(agency, mode="test", provider="kcp", mid="T0001")
    paid = _pay(agency, 1, buyer_name="Kim Minsu", buyer_email="minsu@shop.test", ago=timedelta(days=3))
    ready = _pay(agency, 2, status=Status.READY, pay_method="vbank", buyer_name="Lee", ago=timedelta(days=1))
    on_channel = _pay(agency, 3, channel_key=channel.channel_key, buyer_email="kim@else.test")
    listed = lambda **query: _imp_uids(owner_client.get(_url("list", agency), query).content.decode())  # noqa: E731

    assert listed() == [on_channel.imp_uid, ready.imp_uid, paid.imp_uid]
    assert listed(status="ready") == [ready.imp_uid]
    assert listed(pay_method="vbank") == [ready.imp_uid]
    assert listed(channel=channel.channel_key) == [on_channel.imp_uid]
    assert listed(q=paid.imp_uid) == [paid.imp_uid]  # exact ids
    assert listed(q="order_2") == [ready.imp_uid]
    assert listed(q="order_") == []  # an id is matched whole
    assert listed(search_by="buyer_name", q="kim") == [paid.imp_uid]  # a name's start, any case
    assert listed(search_by="buyer_email", q="KIM@") == [on_channel.imp_uid]
    today = timezone.localdate()
    assert listed(date_from=str(today - timedelta(days=2))) == [on_channel.imp_uid, ready.imp_uid]
    assert listed(date_to=str(today - timedelta(days=2))) == [paid.imp_uid]
    assert listed(date_from=str(today - timedelta(days=3)), date_to=str(today - timedelta(days=1)),
                  status="paid") == [paid.imp_uid]


def test_the_channel_filter_lists_this_merchants_channels_only(owner_client, agency, other_merchant):
    mine = make_channel(agency, mode="test", provider="kcp", mid="T0002")
    theirs = make_channel(other_merchant, mode="test", provider="kcp", mid="T0003")
    html = owner_client.get(_url("list", agency)).content.decode()
    assert f'value="{mine.channel_key}"' in html and theirs.channel_key not in html
    # another merchant's channel key is not a choice: the filter is refused, nothing listed
    _pay(agency, 1)
    response = owner_client.get(_url("list", agency), {"channel": theirs.channel_key})
    assert response.status_code == 400 and _imp_uids(response.content.decode()) == []


def test_a_reversed_date_range_is_an_error_that_lists_nothing(owner_client, agency):
    _pay(agency, 1)
    today = timezone.localdate()
    query = {"date_from": str(today), "date_to": str(today - timedelta(days=1))}
    response = owner_client.get(_url("list", agency), query)
    html = response.content.decode()
    assert response.status_code == 400
    assert "The end date is before the start date." in html
    assert "Nothing is listed until the filters are fixed." in html and _imp_uids(html) == []
    export = owner_client.get(_url("export", agency), query)
    assert export.status_code == 400 and "The end date is before the start date." in export.content.decode()


def test_paging_keeps_the_filters_and_walks_back(owner_client, agency):
    _many(agency, 120, status=Status.PAID)
    _many(agency, 30, start=500, status=Status.FAILED)
    first = owner_client.get(_url("list", agency), {"status": "paid"}).content.decode()
    page1 = _imp_uids(first)
    assert len(page1) == 50
    next_link = re.search(r'rel="next" href="([^"]+)"', first)[1].replace("&amp;", "&")
    assert "status=paid" in next_link and "after=" in next_link
    assert 'rel="prev"' not in first
    second = owner_client.get(_url("list", agency) + next_link).content.decode()
    page2 = _imp_uids(second)
    assert len(page2) == 50 and not set(page1) & set(page2)
    third_link = re.search(r'rel="next" href="([^"]+)"', second)[1].replace("&amp;", "&")
    third = owner_client.get(_url("list", agency) + third_link).content.decode()
    page3 = _imp_uids(third)
    assert len(page3) == 20 and 'rel="next"' not in third
    paid = set(Payment.objects.filter(status="paid").values_list("imp_uid", flat=True))
    assert set(page1 + page2 + page3) == paid  # every paid one, once; no failed one
    assert page1 == list(Payment.objects.filter(status="paid").values_list("imp_uid", flat=True)[:50])
    back_link = re.search(r'rel="prev" href="([^"]+)"', third)[1].replace("&amp;", "&")
    assert "status=paid" in back_link and "after=" not in back_link
    assert _imp_uids(owner_client.get(_url("list", agency) + back_link).content.decode()) == page2
    back_again = re.search(r'rel="prev" href="([^"]+)"', second)[1].replace("&amp;", "&")
    assert _imp_uids(owner_client.get(_url("list", agency) + back_again).content.decode()) == page1


def test_a_bad_cursor_shows_the_first_page(owner_client, agency):
    payment = _pay(agency, 1)
    for cursor in ("x", "1.2.3", "9" * 40, ""):
        response = owner_client.get(_url("list", agency), {"after": cursor})
        assert response.status_code == 200 and _imp_uids(response.content.decode()) == [payment.imp_uid]


def _queries(client, url, query=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, query or {}).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_costs_the_same_queries_whatever_the_page(owner_client, agency, django_assert_max_num_queries):
    _many(agency, 5, status=Status.PAID)
    few = _queries(owner_client, _url("list", agency))
    _many(agency, 200, start=100, status=Status.PAID, cancel_amount=1)
    many = _queries(owner_client, _url("list", agency))
    deep = Payment.objects.filter(merchant=agency).order_by("-started_at", "-id")[120]
    cursor = selectors._cursor_of(deep)
    after = _queries(owner_client, _url("list", agency), {"after": cursor, "status": "paid", "q": ""})
    assert few == many == after <= 8
    with django_assert_max_num_queries(9):  # a Previous link back past the top reads the first page again
        owner_client.get(_url("list", agency), {"before": cursor, "search_by": "buyer_name", "q": "Bulk"})


# --- CSV -----------------------------------------------------------------------------


def test_csv_has_a_header_integers_iso_times_and_guards_formulas(owner_client, agency, other_merchant):
    evil = _pay(agency, 1, amount=15000, buyer_name="=HYPERLINK(\"http://x\")", buyer_email="@x.test",
                buyer_tel="+82-10", cancel_reason="-2+3")
    Payment.objects.filter(pk=evil.pk).update(cancel_amount=5000)
    _pay(other_merchant, 2)
    response = owner_client.get(_url("export", agency))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith(f'attachment; filename="payments-{agency.code}-')
    header, *rows = _csv(response)
    assert header[:6] == ["imp_uid", "merchant_uid", "status", "pay_method", "name", "amount"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["imp_uid"] == evil.imp_uid and row["amount"] == "15000" and row["cancel_amount"] == "5000"
    assert row["buyer_name"] == "'=HYPERLINK(\"http://x\")"
    assert row["buyer_email"] == "'@x.test" and row["buyer_tel"] == "'+82-10" and row["cancel_reason"] == "'-2+3"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d", row["started_at"])
    assert row["failed_at"] == ""


def test_csv_follows_the_filters_and_the_tenant(owner_client, agency, sub_merchant):
    paid = _pay(agency, 1)
    _pay(agency, 2, status=Status.FAILED)
    seoul = _pay(sub_merchant, 3)
    rows = _csv(owner_client.get(_url("export", agency), {"status": "paid"}))[1:]
    assert [r[0] for r in rows] == [paid.imp_uid]
    assert [r[0] for r in _csv(owner_client.get(_url("export", sub_merchant)))[1:]] == [seoul.imp_uid]
    assert len(_csv(owner_client.get(_url("export", agency)))) == 3  # header + both of the agency's


def test_csv_is_capped_and_says_so(owner_client, agency, monkeypatch):
    _many(agency, 5, status=Status.PAID)
    monkeypatch.setattr(selectors, "CSV_MAX_ROWS", 3)
    rows = _csv(owner_client.get(_url("export", agency)))
    assert len(rows) == 1 + 3 + 1 and rows[-1][0].startswith("Cut at 3 rows")
    monkeypatch.setattr(selectors, "CSV_MAX_ROWS", 5)
    rows = _csv(owner_client.get(_url("export", agency)))
    assert len(rows) == 1 + 5 and not rows[-1][0].startswith("Cut")


def test_the_list_links_the_csv_with_its_filters(owner_client, agency):
    _pay(agency, 1)
    html = owner_client.get(_url("list", agency), {"status": "paid", "after": "1.1"}).content.decode()
    link = re.search(r'href="([^"]*export\.csv[^"]*)"', html)[1].replace("&amp;", "&")
    assert "status=paid" in link and "after" not in link


# --- one payment ---------------------------------------------------------------------


def test_detail_shows_every_field_the_cancellations_and_the_webhooks(owner_client, agency, owner):
    from console.tenancy.audit import Actor

    endpoint_save(actor=SYSTEM, merchant=agency, mode="test", url="http://127.0.0.1:9/hook",
                  content_type="json", version="v1")
    payment = _open(agency, buyer_email="kim@shop.test", buyer_tel="010-1234-5678")
    window.window_approve(imp_uid=payment.imp_uid, token=window.window_token(payment))
    cancels.payment_cancel(actor=Actor(user=owner), payment=payment, amount=1500, reason="Out of stock")
    other = _open(agency, merchant_uid="order_other")
    window.window_approve(imp_uid=other.imp_uid, token=window.window_token(other))
    html = owner_client.get(_url("detail", agency, imp_uid=payment.imp_uid)).content.decode()
    payment.refresh_from_db()
    for text in (payment.imp_uid, "order_w", "Coffee", "5,000 won", "1,500 won", "kim@shop.test",
                 "010-1234-5678", payment.pg_tid, payment.apply_num, "9410********0000", "Out of stock",
                 payment.cancellations.get().cancellation_id, "Test mode"):
        assert text in html, text
    deliveries = Delivery.objects.filter(merchant=agency, body__contains=payment.imp_uid)
    assert deliveries.count() == 2  # paid, cancelled
    for delivery in deliveries:
        assert reverse("webhooks:delivery", kwargs={"merchant_code": agency.code,
                                                    "message_id": delivery.message_id}) in html
    other_delivery = Delivery.objects.get(body__contains=other.imp_uid)
    assert other_delivery.message_id not in html


def test_another_merchants_payment_is_404_everywhere(owner_client, agency, sub_merchant, other_merchant):
    theirs = _pay(other_merchant, 1)
    seoul = _pay(sub_merchant, 2)
    for imp_uid in (theirs.imp_uid, seoul.imp_uid, "imp_000000000000"):
        assert owner_client.get(_url("detail", agency, imp_uid=imp_uid)).status_code == 404
        assert owner_client.post(_url("cancel", agency, imp_uid=imp_uid)).status_code == 404
        assert owner_client.post(_url("deposit", agency, imp_uid=imp_uid)).status_code == 404
        assert owner_client.get(_url("cancel", agency, imp_uid=imp_uid)).status_code == 404
    assert owner_client.get(_url("detail", other_merchant, imp_uid=theirs.imp_uid)).status_code == 404
    rows = _csv(owner_client.get(_url("export", agency), {"q": theirs.imp_uid}))
    assert rows[1:] == []
    theirs.refresh_from_db()
    assert theirs.status == Status.PAID and not theirs.cancellations.exists()


def test_cancel_in_part_then_in_full_from_the_page(owner_client, agency, owner):
    payment = _pay(agency, 1, amount=10000, pg_tid="sandbox_x")
    url = _url("detail", agency, imp_uid=payment.imp_uid)
    html = owner_client.get(url).content.decode()
    assert "Cancel payment" in html and "data-confirm=" in html and "Deposit" not in html
    response = owner_client.post(_url("cancel", agency, imp_uid=payment.imp_uid),
                                 {"amount": "3000", "reason": "Part"}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "Cancelled 3,000 won." in response.content.decode()
    payment.refresh_from_db()
    assert (payment.status, payment.cancel_amount) == (Status.PAID, 3000)
    # more than is left: refused with the service's message, nothing changes
    response = owner_client.post(_url("cancel", agency, imp_uid=payment.imp_uid), {"amount": "8000"}, follow=True)
    assert "8,000 won is more than the 7,000 won left to cancel." in response.content.decode()
    response = owner_client.post(_url("cancel", agency, imp_uid=payment.imp_uid), {"reason": "All"}, follow=True)
    assert "Cancelled 7,000 won." in response.content.decode()
    payment.refresh_from_db()
    assert (payment.status, payment.cancel_amount, payment.cancel_reason) == (Status.CANCELLED, 10000, "All")
    events = AuditEvent.objects.filter(merchant=agency, action="payment.cancel")
    assert events.count() == 2 and {e.actor_email for e in events} == {owner.email}
    html = owner_client.get(url).content.decode()
    assert "Cancel payment" not in html  # nothing left to cancel
    response = owner_client.post(_url("cancel", agency, imp_uid=payment.imp_uid), {}, follow=True)
    assert "This payment is cancelled already." in response.content.decode()


def test_a_bad_cancel_amount_is_refused_by_the_form(owner_client, agency):
    payment = _pay(agency, 1, amount=1000)
    response = owner_client.post(_url("cancel", agency, imp_uid=payment.imp_uid), {"amount": "-5"}, follow=True)
    assert response.status_code == 200 and "alert-danger" in response.content.decode()
    payment.refresh_from_db()
    assert payment.cancel_amount == 0 and not AuditEvent.objects.filter(action="payment.cancel").exists()


def test_deposit_into_an_issued_virtual_account(owner_client, agency, owner):
    payment = _open(agency, pay_method="vbank")
    window.window_issue_vbank(imp_uid=payment.imp_uid, token=window.window_token(payment), bank="088")
    url = _url("detail", agency, imp_uid=payment.imp_uid)
    html = owner_client.get(url).content.decode()
    assert "Deposit" in html and "Shinhan Bank" in html
    assert 'name="amount"' not in html  # a waiting virtual account is cancelled in full only
    assert owner_client.get(_url("deposit", agency, imp_uid=payment.imp_uid)).status_code == 405
    response = owner_client.post(_url("deposit", agency, imp_uid=payment.imp_uid), follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "Deposit received" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Status.PAID and payment.paid_at
    event = AuditEvent.objects.get(merchant=agency, action="payment.deposit")
    assert event.actor_email == owner.email


def test_deposit_refused_for_a_card_payment(owner_client, agency):
    payment = _pay(agency, 1, status=Status.READY)
    response = owner_client.post(_url("deposit", agency, imp_uid=payment.imp_uid), follow=True)
    assert "Only a virtual account waiting for its deposit can take one." in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Status.READY


# --- roles ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "on_sub", "acts"), [
    # PortOne's Manager uses every console feature but integration and accounts, and a
    # sub-merchant's Manager everything of its sub-merchant (Perm.MANAGE_PAYMENTS).
    ("owner", False, True), ("admin", False, True), ("developer", False, True),
    ("manager", False, True), ("viewer", False, False), ("manager", True, True), ("viewer", True, False),
])
def test_who_sees_and_who_acts(client, agency, role, on_sub, acts):
    merchant = make_sub_merchant(agency, "R01") if on_sub else agency
    client.force_login(make_member(merchant, role))
    payment = _pay(merchant, 1, amount=2000)
    nav = client.get(reverse("console:overview", kwargs={"merchant_code": merchant.code})).content.decode()
    assert f'href="{_url("list", merchant)}"' in nav  # everyone sees the Payments page
    assert client.get(_url("list", merchant)).status_code == 200
    assert client.get(_url("export", merchant)).status_code == 200
    html = client.get(_url("detail", merchant, imp_uid=payment.imp_uid)).content.decode()
    assert ("Cancel payment" in html) is acts
    response = client.post(_url("cancel", merchant, imp_uid=payment.imp_uid), {"amount": "500"})
    assert response.status_code == (302 if acts else 403)
    payment.refresh_from_db()
    assert payment.cancel_amount == (500 if acts else 0)
    assert client.post(_url("deposit", merchant, imp_uid=payment.imp_uid)).status_code == (302 if acts else 403)


def test_the_menu_marks_the_payments_page(owner_client, agency):
    html = owner_client.get(_url("list", agency)).content.decode()
    assert f'href="{_url("list", agency)}" aria-current="page">Payments</a>' in html
