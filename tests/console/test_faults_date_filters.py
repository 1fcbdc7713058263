"""Issue 20, item 13: the day-range filter (``console.tenancy.dates.day_range``) takes every
date a date field takes, ``0001-01-01`` and ``9999-12-31`` included: the Payments page, its CSV
export and the audit log answer them for every role that may open them, never a 500."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from console.models import AuditEvent
from console.tenancy.dates import day_range
from payments.models import Payment
from tests.factories import make_member, make_merchant

pytestmark = pytest.mark.django_db

EDGES = [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01"},
         {"date_from": "0001-01-01", "date_to": "9999-12-31"}]


@pytest.fixture
def shop():
    merchant = make_merchant("Edge Dates")
    Payment.objects.create(merchant=merchant, merchant_uid="order_1", amount=1000, pg_provider="kcp",
                           pg_id="T0000", name="Blue mug")
    return merchant


@pytest.mark.parametrize("role", ["owner", "admin", "manager", "developer", "viewer"])
@pytest.mark.parametrize("dates", EDGES, ids=lambda d: "&".join(f"{k}={v}" for k, v in d.items()))
def test_the_payments_page_and_its_export_take_the_first_and_last_day(client, shop, role, dates):
    client.force_login(make_member(shop, role))
    code = {"merchant_code": shop.code}
    page = client.get(reverse("payment_activity:list", kwargs=code), dates)
    assert page.status_code == 200 and "order_1" in page.content.decode()
    export = client.get(reverse("payment_activity:export", kwargs=code), dates)
    assert export.status_code == 200 and "order_1" in b"".join(export.streaming_content).decode()


@pytest.mark.parametrize("role", ["owner", "admin", "manager", "developer", "viewer"])
@pytest.mark.parametrize("dates", EDGES, ids=lambda d: "&".join(f"{k}={v}" for k, v in d.items()))
def test_the_audit_log_takes_the_first_and_last_day(client, shop, role, dates):
    client.force_login(make_member(shop, role))
    response = client.get(reverse("console:audit_log", kwargs={"merchant_code": shop.code}),
                          {**dates, "bookkeeping": "on"})
    assert response.status_code == 200
    assert AuditEvent.objects.filter(merchant=shop).exists()
    assert "No event matches these filters." not in response.content.decode()


@pytest.mark.parametrize("zone", ["Asia/Seoul", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_day_range_at_either_end_of_the_calendar_in_any_time_zone(shop, zone):
    """The last day bounds nothing above, the first nothing below; a range that starts past what
    a datetime holds in UTC (9999-12-31 west of UTC) holds nothing."""
    payments = Payment.objects.filter(merchant=shop)
    with timezone.override(zone):
        assert payments.filter(day_range("started_at", None, date.max)).count() == 1
        assert payments.filter(day_range("started_at", date.min, None)).count() == 1
        assert payments.filter(day_range("started_at", date.min, date.max)).count() == 1
        assert payments.filter(day_range("started_at", date.max, date.max)).count() == 0
        assert payments.filter(day_range("started_at", date.min, date.min)).count() == 0
        today = timezone.localdate()
        assert payments.filter(day_range("started_at", today, today)).count() == 1
