"""Payments page (결제 내역): median server time and query count with 200,000 payments of one
merchant (PostgreSQL; 20,000 on SQLite), unfiltered and filtered by status and a date range,
next to a bare login-protected console page in the same run.

Target: filtered, no more than 3x the bare page, and the same query count at every size. The
totals of the filtered payments come in a second request the page makes once drawn; they are
measured too (one aggregate over every filtered row; no target).
"""

from datetime import timedelta

from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from .harness import count_queries, median_ms


def _make_payments(merchant, n: int) -> None:
    from payments.models import Payment

    now = timezone.now()
    statuses = ("paid", "paid", "paid", "failed", "cancelled", "ready")
    batch = []
    for i in range(n):
        batch.append(Payment(
            merchant=merchant, imp_uid=f"imp_{i:012d}", merchant_uid=f"bench-{i}", amount=1000 + i % 50_000,
            status=statuses[i % len(statuses)], pg_provider="kcp", pg_id="T0000", name=f"Order {i}",
            buyer_name=f"Buyer {i % 977}", buyer_email=f"buyer{i % 977}@example.test"))
        if len(batch) == 5000:
            Payment.objects.bulk_create(batch)
            batch = []
    if batch:
        Payment.objects.bulk_create(batch)
    # Spread them over 200 days, newest first, as a busy merchant's would be.
    table = Payment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id) FROM {table} WHERE merchant_id = %s", [merchant.pk])
        first = cursor.fetchone()[0]
    step = timedelta(days=200) / max(n, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET started_at = %s - (id - %s) * %s::interval WHERE merchant_id = %s",
                [now, first, f"{step.total_seconds()} seconds", merchant.pk])
            cursor.execute(f"ANALYZE {table}")
    else:
        for payment in Payment.objects.filter(merchant=merchant).only("id"):
            Payment.objects.filter(pk=payment.pk).update(started_at=now - (payment.pk - first) * step)


def run(repeat: int = 20) -> list[str]:
    from accounts import services
    from console.models import Operator
    from console.tenancy.audit import SYSTEM

    size = 200_000 if connection.vendor == "postgresql" else 20_000
    lines = []
    with override_settings(ROOT_URLCONF="bench.urls", DEBUG=False):
        merchant = services.merchant_create(actor=SYSTEM, name="Bench Payments")
        operator = Operator.objects.create_user(email="bench-pay@example.test", password="bench-password-1")
        services.membership_create(actor=SYSTEM, operator=operator, merchant=merchant, role="owner",
                                   actor_role="owner")
        client = Client()
        client.force_login(operator)

        def get(url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        bare_url = f"/bench/m/{merchant.code}/bare/"
        today = timezone.localdate()
        urls = {
            "unfiltered": f"/m/{merchant.code}/payments/",
            "status + 30 days": (f"/m/{merchant.code}/payments/?status=paid"
                                 f"&date_from={today - timedelta(days=30)}&date_to={today}"),
        }
        bare_med, bare_p95 = median_ms(lambda: get(bare_url), repeat=repeat)
        lines.append(f"payments page: bare console page          {bare_med:7.2f} ms median "
                     f"({bare_p95:6.2f} p95), {count_queries(lambda: get(bare_url))} queries")
        small = {label: count_queries(lambda url=url: get(url)) for label, url in urls.items()}
        # A full page (50 rows) from a small table: what rendering costs, apart from the table's size.
        _make_payments(merchant, 60)
        for label, url in urls.items():
            med, p95 = median_ms(lambda url=url: get(url), repeat=repeat)
            lines.append(f"payments page: 60 payments, {label:17s}      {med:7.2f} ms median ({p95:6.2f} p95), "
                         f"{med / bare_med:4.2f}x bare")
        from payments.models import Payment

        Payment.objects.filter(merchant=merchant).delete()
        _make_payments(merchant, size)
        for label, url in urls.items():
            med, p95 = median_ms(lambda url=url: get(url), repeat=repeat)
            queries = count_queries(lambda url=url: get(url))
            lines.append(f"payments page: {size:,} payments, {label:17s} {med:7.2f} ms median ({p95:6.2f} p95), "
                         f"{queries} queries (empty: {small[label]}), {med / bare_med:4.2f}x bare")
        # The totals, which the page asks for once drawn (htmx): they read every filtered row.
        for label, url in urls.items():
            totals_url = url.replace("/payments/", "/payments/totals/", 1)
            med, p95 = median_ms(lambda url=totals_url: get(url), repeat=repeat)
            queries = count_queries(lambda url=totals_url: get(url))
            lines.append(f"payments totals: {size:,} payments, {label:17s} {med:7.2f} ms median ({p95:6.2f} p95), "
                         f"{queries} queries, {med / bare_med:4.2f}x bare")
    return lines
