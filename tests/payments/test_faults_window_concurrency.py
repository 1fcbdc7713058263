"""Issue 20, item 5: windows opened at the same moment for one order. Thirty simultaneous
opens of the same request must all join the one payment (before, 8 to 16 of 30 were refused
with F409: each looked for the order's payment before any was committed, then lost the race
to insert it), and thirty different requests each get a window of their own. Real concurrency: thirty threads, each on its own PostgreSQL connection, let go
together by a barrier."""

import threading

import pytest
from django.db import connection

from channels.models import SharedTestCredential
from payments.models import Payment
from payments.sandbox import window
from tests.factories import make_merchant
from tests.services import need

pytestmark = pytest.mark.django_db(transaction=True)

CALLERS = 30


def at_once(calls) -> list:
    """Run each call on its own thread (its own database connection) at the same moment; the
    answers (a payment, or the exception raised) in the order of ``calls``."""
    barrier = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=60)
            answers[index] = call()
        except Exception as exc:  # noqa: BLE001  (kept, then asserted on)
            answers[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    return answers


@pytest.fixture
def shop():
    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    SharedTestCredential.objects.get_or_create(
        provider="kcp", module="window_general", mid="T0000", defaults={"pg_provider": "kcp"})
    return make_merchant("Race Shop")


def opener(merchant, **params):
    request = {"pg": "kcp.T0000", "merchant_uid": "order-1", "amount": 1000, "name": "Blue mug",
               "buyer_name": "Hong Gildong", **params}
    return lambda: window.window_open(merchant_code=merchant.code, tier_code=None, params=request,
                                        user_agent="pytest")


def test_thirty_opens_of_the_same_request_at_once_are_one_payment(shop):
    answers = at_once([opener(shop) for _ in range(CALLERS)])
    refused = [answer for answer in answers if not isinstance(answer, Payment)]
    assert refused == []
    assert len({payment.imp_uid for payment in answers}) == 1
    payment = Payment.objects.get(merchant=shop)
    assert payment.status == "ready" and payment.imp_uid == answers[0].imp_uid


def test_thirty_different_requests_at_once_each_open_and_leave_one_window(shop):
    """Each differs (its buyer), so each replaces the window opened before it: they take turns,
    every caller gets a window, one stays open and the other 29 failed as replaced."""
    answers = at_once([opener(shop, buyer_name=f"Buyer {i}") for i in range(CALLERS)])
    refused = [answer for answer in answers if not isinstance(answer, Payment)]
    assert refused == []
    assert len({payment.imp_uid for payment in answers}) == CALLERS
    live = Payment.objects.filter(merchant=shop).exclude(status="failed").get()
    assert live.status == "ready"
    failed = Payment.objects.filter(merchant=shop, status="failed")
    assert failed.count() == CALLERS - 1
    assert set(failed.values_list("error_code", flat=True)) == {window.REPLACED_CODE}
