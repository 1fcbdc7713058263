"""Celery tasks: thin, they take an id and call a service."""

from celery import shared_task

from . import services


@shared_task(name="webhooks.deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver(delivery_id: int) -> None:
    services.deliver(delivery_id)


@shared_task(name="webhooks.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    return services.dispatch_due()


@shared_task(name="webhooks.deliveries_dispatch", ignore_result=True)
def deliveries_dispatch(delivery_ids: list[int]) -> int:
    """After a recover: hand its deliveries to ``deliver``, off the operator's request."""
    return services.deliveries_dispatch(delivery_ids=delivery_ids)
