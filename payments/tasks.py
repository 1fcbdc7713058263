"""Celery tasks: thin, they call a service."""

from celery import shared_task

from . import schedules


@shared_task(name="payments.schedules_run_due", ignore_result=True)
def schedules_run_due() -> int:
    """The periodic job (celery beat, ``PAYMENT_SCHEDULE_INTERVAL_SECONDS``): run the due
    scheduled payments, each once."""
    return schedules.schedules_run_due()
