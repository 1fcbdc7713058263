"""Celery's soft time limit interrupting a send (a deployment set it below the send deadline)
ends it as one recorded attempt. Its own module: the worker below must be the only one
whose beat picks up due deliveries while it runs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_merchant
from tests.hooks import FAST, endpoint_for, wait_final
from tests.receiver import Receiver, Reply
from tests.worker import celery_worker, wait_until
from webhooks.models import Attempt, Delivery


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_soft_time_limit_ends_the_send_as_one_recorded_attempt(receiver):
    """Should Celery's soft time limit interrupt a send (here a deployment set it below the
    send deadline), the attempt is recorded as a timeout instead of escaping the task and
    leaving the delivery to be sent again at every lease.

    The delivery is due but was never queued, so the worker's own beat (dispatch_due) queues
    it: a task message carries the time limits of the process that queued it."""
    env = {**FAST, "CELERY_TASK_SOFT_TIME_LIMIT": "1", "CELERY_TASK_TIME_LIMIT": "30",
           "WEBHOOK_READ_TIMEOUT": "20", "WEBHOOK_SEND_DEADLINE": "20", "WEBHOOK_LEASE_SECONDS": "6"}
    merchant = make_merchant("Interrupted")
    receiver.script("/soft", [Reply(200, b"late", delay=25)])
    endpoint = endpoint_for(merchant, receiver.url("/soft"))
    delivery = Delivery.objects.create(
        merchant=merchant, endpoint=endpoint, mode="test", trigger="test", event="paid",
        url=endpoint.url, content_type="json", version="v1", body="{}", max_attempts=1,
        next_attempt_at=timezone.now() - timedelta(seconds=10))
    with celery_worker(concurrency=1, beat=True, extra_env=env) as limited:
        limited.wait_ready()
        delivery = wait_final(delivery, timeout=30)
        # The worker logs the limit from its main process: waited for (bounded), not read at once.
        wait_until(lambda: "Soft time limit (1s) exceeded" in limited.output(), timeout=30)
    attempt = Attempt.objects.get(delivery=delivery)
    assert delivery.status == "failed" and attempt.error_kind == "timeout"
    assert attempt.error_params["code"] == "send.worker_limit"
    assert "time limit" in attempt.error_message
    assert len([r for r in receiver.requests if r.path == "/soft"]) == 1
