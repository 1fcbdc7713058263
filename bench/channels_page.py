"""Channels page: query count and median server time for 10, 100 and 1,000 channels,
next to a bare login-protected console page in the same run.

Target: at 1,000 channels, no more than 3x the bare page.
"""

from django.test import Client, override_settings

from .harness import count_queries, median_ms

SIZES = (10, 100, 1000)


def _make_channels(merchant, n: int, start: int) -> None:
    from channels.models import Channel
    from console.tenancy.crypto import encrypt_json

    token = encrypt_json({"site_key": "bench-site-key-0000"})
    Channel.objects.bulk_create([
        Channel(merchant=merchant, mode="live", provider="kcp", pg_provider="kcp",
                module="window_general", mid=f"{i:05d}", name=f"Bench channel {i}",
                credentials_encrypted=token)
        for i in range(start, start + n)
    ], batch_size=500)


def run(repeat: int = 30) -> list[str]:
    from accounts import services
    from console.models import Operator
    from console.tenancy.audit import SYSTEM

    lines = []
    with override_settings(ROOT_URLCONF="bench.urls", DEBUG=False):
        merchant = services.merchant_create(actor=SYSTEM, name="Bench Merchant")
        for tier in ("B01", "B02", "B03"):
            services.sub_merchant_create(actor=SYSTEM, agency=merchant, name=f"Bench {tier}", tier_code=tier)
        operator = Operator.objects.create_user(email="bench@example.test", password="bench-password-1")
        services.membership_create(actor=SYSTEM, operator=operator, merchant=merchant, role="owner", actor_role="owner")
        client = Client()
        client.force_login(operator)
        bare_url = f"/bench/m/{merchant.code}/bare/"
        page_url = f"/m/{merchant.code}/channels/"

        def get(url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        bare_med, bare_p95 = median_ms(lambda: get(bare_url), repeat=repeat)
        bare_q = count_queries(lambda: get(bare_url))
        lines.append(f"channels page: bare console page          {bare_med:7.2f} ms median "
                     f"({bare_p95:6.2f} p95), {bare_q} queries")
        made = 0
        for size in SIZES:
            _make_channels(merchant, size - made, made)
            made = size
            med, p95 = median_ms(lambda: get(page_url), repeat=repeat)
            queries = count_queries(lambda: get(page_url))
            lines.append(f"channels page: {size:5d} live channels        {med:7.2f} ms median "
                         f"({p95:6.2f} p95), {queries} queries, {med / bare_med:4.2f}x bare")
    return lines
