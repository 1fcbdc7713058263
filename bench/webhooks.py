"""Webhooks: click-to-receipt latency (p50, p95) against a plain requests.post floor, and
worker throughput for 1,000 queued deliveries. Real worker, real broker, real receiver.

Targets on a 2-core machine (with Redis): p50 <= 50 ms, >= 200 deliveries/s.
"""

import statistics
import time

import requests
from django.conf import settings
from django.test import Client, override_settings

WORKER_POOL = "prefork"
WORKER_CONCURRENCY = 4
LATENCY_SAMPLES = 60
THROUGHPUT_DELIVERIES = 1000


def _percentiles(samples):
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def run() -> list[str]:
    from accounts import services as console_services
    from console.models import Operator
    from console.tenancy.audit import SYSTEM, Actor
    from tests.receiver import Receiver, Reply
    from tests.worker import celery_worker
    from webhooks import services
    from webhooks.models import Delivery

    lines = [f"webhooks: broker {settings.CELERY_BROKER_URL.split('://')[0]}, worker pool "
             f"{WORKER_POOL} x{WORKER_CONCURRENCY}"]
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        lines.append("webhooks: note: the filesystem broker is polled every 0.2 s; the targets are for Redis")
    receiver = Receiver()
    receiver.script("/hook", [Reply(200, b"ok")])
    merchant = console_services.merchant_create(actor=SYSTEM, name="Bench Webhooks")
    operator = Operator.objects.create_user(email="bench-hooks@example.test", password="bench-password-1")
    console_services.membership_create(actor=SYSTEM, operator=operator, merchant=merchant, role="owner", actor_role="owner")
    services.endpoint_save(actor=Actor(), merchant=merchant, mode="test", url=receiver.url("/hook"),
                           content_type="json", version="v1")
    try:
        with celery_worker(concurrency=WORKER_CONCURRENCY, pool=WORKER_POOL) as worker, \
                override_settings(WEBHOOK_QUEUE=worker.queue):
            worker.wait_ready()
            # Floor: the same receiver, called directly.
            session = requests.Session()
            floor = []
            for _ in range(LATENCY_SAMPLES):
                start = time.perf_counter()
                session.post(receiver.url("/floor"), data=b"{}", timeout=5)
                floor.append((time.perf_counter() - start) * 1000)
            f50, f95 = _percentiles(floor)

            # Click to receipt: the operator's POST to "Send test" until the receiver has it.
            client = Client()
            client.force_login(operator)
            send_url = f"/m/{merchant.code}/webhooks/test/test/"
            for _ in range(5):  # warm the worker and the connection pools
                count = len(receiver.requests)
                client.post(send_url, HTTP_HX_REQUEST="true")
                receiver.wait_for(count + 1, None, timeout=30)
            latencies = []
            for _ in range(LATENCY_SAMPLES):
                count = len([r for r in receiver.requests if r.path == "/hook"])
                start = time.monotonic()
                response = client.post(send_url, HTTP_HX_REQUEST="true")
                assert response.status_code == 200
                got = receiver.wait_for(count + 1, "/hook", timeout=30)[count]
                latencies.append((got.at - start) * 1000)
            p50, p95 = _percentiles(latencies)
            lines.append(f"webhooks: plain requests.post floor       p50 {f50:7.2f} ms   p95 {f95:7.2f} ms")
            lines.append(f"webhooks: click-to-receipt (Send test)    p50 {p50:7.2f} ms   p95 {p95:7.2f} ms"
                         f"   ({p50 / f50:5.1f}x floor at p50)")

            # Approve to receipt: the sandbox window's Approve until the receiver has the "paid".
            from payments.sandbox import window

            approvals = []
            for n in range(LATENCY_SAMPLES + 5):
                payment = window.window_open(
                    merchant_code=merchant.code, tier_code=None,
                    params={"pg": "kcp.T0000", "merchant_uid": f"bench-{n}", "amount": 1000})
                token = window.window_token(payment)
                count = len([r for r in receiver.requests if r.path == "/hook"])
                start = time.monotonic()
                window.window_approve(imp_uid=payment.imp_uid, token=token)
                got = receiver.wait_for(count + 1, "/hook", timeout=30)[count]
                if n >= 5:  # the first few warm the path
                    approvals.append((got.at - start) * 1000)
            a50, a95 = _percentiles(approvals)
            lines.append(f"webhooks: approve-to-receipt (sandbox)    p50 {a50:7.2f} ms   p95 {a95:7.2f} ms"
                         f"   ({a50 / f50:5.1f}x floor at p50)")

            # Throughput: 1,000 deliveries queued on a queue the worker does not read yet.
            from config.celery_app import app
            from webhooks.tasks import deliver

            endpoint = merchant.webhook_endpoints.get(mode="test")
            parked = worker.queue + "-parked"
            queued = Delivery.objects.bulk_create([
                Delivery(merchant=merchant, endpoint=endpoint, mode="test", trigger="event", event="paid",
                         url=endpoint.url, content_type="json", version="v1", body=f'{{"n": {i}}}',
                         max_attempts=1, next_attempt_at=Delivery._meta.get_field("created_at").default())
                for i in range(THROUGHPUT_DELIVERIES)
            ])
            ids = [delivery.pk for delivery in queued]  # not the approvals' deliveries above
            for delivery_id in ids:
                deliver.apply_async(args=[delivery_id], queue=parked)
            before = len(receiver.requests)
            start = time.monotonic()
            app.control.add_consumer(parked, destination=[worker.hostname], reply=True, timeout=5)
            receiver.wait_for(before + len(ids), None, timeout=300)
            done = Delivery.objects.filter(pk__in=ids, status="succeeded")
            while done.count() < len(ids):
                time.sleep(0.2)
            elapsed = time.monotonic() - start
            lines.append(f"webhooks: throughput {len(ids)} queued deliveries   {len(ids) / elapsed:7.1f} /s"
                         f"   ({elapsed:.2f} s, all recorded as succeeded)")
    finally:
        receiver.close()
    return lines
