"""Celery tasks: thin, they call a service."""

from celery import shared_task

from payments.domain import schedules


@shared_task(name="payments.schedules_run_due", ignore_result=True)
def schedules_run_due() -> int:
    """The periodic job (celery beat, ``PAYMENT_SCHEDULE_INTERVAL_SECONDS``): hand each due
    scheduled payment to the workers as a task of its own."""
    return schedules.schedules_dispatch_due()


@shared_task(name="payments.schedule_run", ignore_result=True)
def schedule_run(schedule_id: int) -> None:
    """Run one due scheduled payment (once: a second run of the same id changes nothing)."""
    schedules.schedule_execute(schedule_id=schedule_id)
