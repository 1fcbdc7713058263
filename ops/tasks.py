"""Operational tasks."""

from celery import shared_task


@shared_task(name="console.ping", ignore_result=False)
def ping(value: str = "pong") -> dict:
    """A trivial round trip: proves a worker consumes the broker and answers.

    Used by the worker test and by operators checking a deployment
    (`celery -A config call console.ping`).
    """
    return {"echo": value}
