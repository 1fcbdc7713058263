"""Scheduled payments: 2,000 schedules due at the same moment, from their due time until the
receiver has every webhook, as a rate next to a plain requests.post loop to the same receiver.
Real workers (two, each with the periodic job), real broker, real receiver.

Both rates count webhooks received per second; the schedules' also include paying each
schedule (one transaction each: the row, the payment, the delivery) and the beat's tick.
"""

import time

import requests
from django.conf import settings

SCHEDULES = 2000
WORKERS = 2
WORKER_CONCURRENCY = 4
TICK_SECONDS = 1.0


def run() -> list[str]:
    from accounts import services as console_services
    from channels.models import SharedTestCredential
    from console.tenancy.audit import SYSTEM, Actor
    from payments.domain import billing_keys, schedules
    from payments.models import Schedule
    from tests.receiver import Receiver, Reply
    from tests.worker import celery_worker
    from webhooks import services

    lines = [f"schedules: broker {settings.CELERY_BROKER_URL.split('://')[0]}, {WORKERS} workers x"
             f"{WORKER_CONCURRENCY}, each with the periodic job every {TICK_SECONDS:g} s"]
    receiver = Receiver()
    receiver.script("/hook", [Reply(200, b"ok")])
    SharedTestCredential.objects.get_or_create(provider="ksnet", module="api_subscription", mid="2999199990",
                                               defaults={"pg_provider": "ksnet"})
    merchant = console_services.merchant_create(actor=SYSTEM, name="Bench Schedules")
    services.endpoint_save(actor=Actor(), merchant=merchant, mode="test", url=receiver.url("/hook"),
                           content_type="json", version="v1")
    billing_keys.billing_key_issue(merchant=merchant, customer_uid="bench", card_number="9410-0000-7000-0000",
                              expiry="2030-12", birth="900101", pg="ksnet.2999199990")
    try:
        # Floor: the same number of webhooks, posted one after another by a plain loop.
        session = requests.Session()
        start = time.monotonic()
        for n in range(SCHEDULES):
            session.post(receiver.url("/floor"), data=b'{"n": %d}' % n, timeout=5)
        floor = SCHEDULES / (time.monotonic() - start)

        env = {"PAYMENT_SCHEDULE_INTERVAL_SECONDS": str(TICK_SECONDS)}
        workers = [celery_worker(beat=True, concurrency=WORKER_CONCURRENCY, extra_env=env) for _ in range(WORKERS)]
        handles = [w.__enter__() for w in workers]
        try:
            for handle in handles:
                handle.wait_ready()
            due = int(time.time()) + 15  # time to schedule them all first
            due_monotonic = time.monotonic() + (due - time.time())  # the receiver stamps monotonic time
            for chunk in range(0, SCHEDULES, 1000):
                schedules.schedules_create(merchant=merchant, customer_uid="bench", schedules=[
                    {"merchant_uid": f"bench-{n}", "schedule_at": due, "amount": 1000, "name": "Bench plan"}
                    for n in range(chunk, min(chunk + 1000, SCHEDULES))])
            before = len([r for r in receiver.requests if r.path == "/hook"])
            receiver.wait_for(before + SCHEDULES, "/hook", timeout=600)
            last = max(r.at for r in receiver.requests if r.path == "/hook")
            elapsed = last - due_monotonic
            left = Schedule.objects.filter(merchant=merchant, status="scheduled").count()
        finally:
            for worker in reversed(workers):
                worker.__exit__(None, None, None)
        rate = SCHEDULES / elapsed
        lines.append(f"schedules: plain requests.post loop        {floor:8.1f} webhooks/s")
        lines.append(f"schedules: {SCHEDULES} due at once, due-to-last-receipt {elapsed:6.2f} s   {rate:8.1f} "
                     f"webhooks/s   ({rate / floor:4.2f}x the loop; {left} left unrun)")
    finally:
        receiver.close()
    return lines
