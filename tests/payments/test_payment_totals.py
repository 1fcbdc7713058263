"""The Payments page's totals (issue 22, item 7): what the filters show, summed in one
aggregate query per page (paid, cancelled, net, per currency, with each status counted), the
test/live filter, and a page that costs the same queries however many payments there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from console.tenancy.selectors import MerchantAccess
from payments.models import Payment, Status
from payments.selectors import payments as selectors
from payments.selectors.payments import PaymentFilters
from tests.payments.test_payment_activity import _many, _pay

pytestmark = pytest.mark.django_db


def _access(merchant):
    return MerchantAccess(merchant=merchant, role="owner")


@pytest.fixture
def world(agency, other_merchant):
    _pay(agency, 1, amount=10_000)  # paid
    partly = _pay(agency, 2, amount=7_000)
    Payment.objects.filter(pk=partly.pk).update(cancel_amount=2_000)  # paid, 2,000 cancelled
    full = _pay(agency, 3, amount=3_000)
    Payment.objects.filter(pk=full.pk).update(status=Status.CANCELLED, cancel_amount=3_000)  # paid, then cancelled
    _pay(agency, 4, amount=4_000, status=Status.CANCELLED, cancel_amount=4_000)  # a vbank cancelled unpaid
    _pay(agency, 5, amount=5_000, status=Status.FAILED)
    _pay(agency, 6, amount=6_000, status=Status.READY)
    _pay(agency, 7, amount=900, mode="live")  # a live payment
    _pay(agency, 8, amount=25, currency="USD")
    _pay(other_merchant, 9, amount=99_999)  # never counted here
    return agency


def test_totals_sum_paid_cancelled_and_net_per_currency(world):
    krw, usd = selectors.payment_totals(access=_access(world), filters=PaymentFilters())
    assert krw.currency == "KRW" and usd.currency == "USD"
    assert krw.count == 7 and krw.paid_count == 3 and krw.cancelled_count == 2
    assert krw.ready_count == 1 and krw.failed_count == 1
    assert krw.paid == 10_000 + 7_000 + 3_000 + 900  # never-paid rows add nothing
    assert krw.cancelled == 2_000 + 3_000
    assert krw.net == krw.paid - krw.cancelled == 15_900
    assert (usd.count, usd.paid, usd.cancelled, usd.net) == (1, 25, 0, 25)


def test_totals_follow_the_filters_and_the_mode(world):
    access = _access(world)
    (live,) = selectors.payment_totals(access=access, filters=PaymentFilters(mode="live"))
    assert (live.count, live.paid, live.net) == (1, 900, 900)
    (test,) = [t for t in selectors.payment_totals(access=access, filters=PaymentFilters(mode="test"))
               if t.currency == "KRW"]
    assert test.count == 6 and test.paid == 20_000
    (cancelled,) = selectors.payment_totals(access=access, filters=PaymentFilters(status="cancelled"))
    assert (cancelled.count, cancelled.paid, cancelled.cancelled, cancelled.net) == (2, 3_000, 3_000, 0)
    assert selectors.payment_totals(access=access, filters=PaymentFilters(q="nothing")) == []



def _list(merchant, **query):
    return reverse("payment_activity:list", kwargs={"merchant_code": merchant.code}), query


def _totals_url(world):
    return reverse("payment_activity:totals", kwargs={"merchant_code": world.code})


def test_the_page_shows_the_totals_and_filters_by_mode(client, owner, world):
    """The list asks for its totals once drawn (htmx, the same filters); they add up its rows."""
    client.force_login(owner)
    url, _ = _list(world)
    html = client.get(url).content.decode()
    assert f'hx-get="{_totals_url(world)}"' in html and "SUM" not in html
    assert "20,900 won" not in html  # the list does not wait for the sum
    totals = client.get(_totals_url(world)).content.decode()
    assert "Totals of all payments" in totals
    assert "20,900 won" in totals and "5,000 won" in totals and "15,900 won" in totals and "25 USD" in totals
    live_page = client.get(url, {"mode": "live"}).content.decode()
    assert f'hx-get="{_totals_url(world)}?mode=live"' in live_page
    assert "order_7" in live_page and "order_1<" not in live_page
    live = client.get(_totals_url(world), {"mode": "live"}).content.decode()
    assert "Totals of the filtered payments" in live and "20,900 won" not in live
    assert client.get(url, {"mode": "nonsense"}).status_code == 400
    assert client.get(_totals_url(world), {"mode": "nonsense"}).status_code == 400


def test_the_totals_cost_one_aggregate_query_whatever_the_rows(client, owner, agency):
    client.force_login(owner)
    url, _ = _list(agency)
    _many(agency, 5, status=Status.PAID)

    def count(target, query=None):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(target, query or {}).status_code == 200
        return ctx.captured_queries

    few, few_totals = count(url), count(_totals_url(agency))
    _many(agency, 300, start=100, status=Status.PAID, cancel_amount=1, mode="live")
    many, many_totals = count(url, {"mode": "live"}), count(_totals_url(agency), {"mode": "live"})
    assert len(few) == len(many) and len(few_totals) == len(many_totals)
    assert not [q for q in many if "SUM(" in q["sql"].upper()]  # the list itself sums nothing
    sums = [q["sql"] for q in many_totals if "SUM(" in q["sql"].upper()]
    assert len(sums) == 1  # one aggregate query, whatever the number of rows
