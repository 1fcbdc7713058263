"""Start-up checks of the webhook timing settings. They nest: one send's deadline (DNS,
connect and the whole answer) < the task's soft time limit < its hard limit < the lease. So
a send ends, and is recorded, before Celery interrupts the task, and no delivery is ever sent
by two workers at once. The deadline also leaves room for the timeouts it bounds, so a
receiver that answers just within them (PortOne's first send: 10 s connect, 30 s read) is not
cut short."""

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def webhook_timing(app_configs, **kwargs):
    deadline = settings.WEBHOOK_SEND_DEADLINE
    soft = settings.CELERY_TASK_SOFT_TIME_LIMIT
    hard = settings.CELERY_TASK_TIME_LIMIT
    lease = settings.WEBHOOK_LEASE_SECONDS
    problems = []
    if not deadline or deadline <= 0:
        problems.append(Error("WEBHOOK_SEND_DEADLINE must be a positive number of seconds.",
                              id="webhooks.E001"))
    elif soft and deadline >= soft:
        problems.append(Error(
            f"WEBHOOK_SEND_DEADLINE ({deadline:g} s) must be shorter than "
            f"CELERY_TASK_SOFT_TIME_LIMIT ({soft:g} s).",
            hint="A send must end, and be recorded, before Celery interrupts the task.",
            id="webhooks.E002"))
    if deadline and lease <= deadline:
        problems.append(Error(
            f"WEBHOOK_LEASE_SECONDS ({lease:g} s) must be longer than WEBHOOK_SEND_DEADLINE "
            f"({deadline:g} s).",
            hint="Otherwise another worker takes the delivery while it is being sent.",
            id="webhooks.E003"))
    if soft and lease <= soft:
        problems.append(Error(
            f"WEBHOOK_LEASE_SECONDS ({lease:g} s) must be longer than CELERY_TASK_SOFT_TIME_LIMIT "
            f"({soft:g} s).",
            hint="Leave WEBHOOK_LEASE_SECONDS unset: it defaults to CELERY_TASK_TIME_LIMIT + 30.",
            id="webhooks.E004"))
    elif hard and lease <= hard:
        problems.append(Warning(
            f"WEBHOOK_LEASE_SECONDS ({lease:g} s) is not longer than CELERY_TASK_TIME_LIMIT "
            f"({hard:g} s): a task still running may see its delivery taken by another worker "
            "(nothing is recorded twice, but the receiver may get it twice).",
            hint="Leave WEBHOOK_LEASE_SECONDS unset: it defaults to CELERY_TASK_TIME_LIMIT + 30.",
            id="webhooks.W001"))
    if soft and hard and hard <= soft:
        problems.append(Error(
            f"CELERY_TASK_TIME_LIMIT ({hard:g} s) must be longer than CELERY_TASK_SOFT_TIME_LIMIT "
            f"({soft:g} s).",
            hint="Otherwise a send is killed before it can record its attempt. Leave "
                 "CELERY_TASK_TIME_LIMIT unset: it defaults to CELERY_TASK_SOFT_TIME_LIMIT + 30.",
            id="webhooks.E006"))
    dns = settings.WEBHOOK_DNS_TIMEOUT
    connect, read = settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT
    if dns <= 0:
        problems.append(Error("WEBHOOK_DNS_TIMEOUT must be a positive number of seconds.",
                              id="webhooks.E005"))
    if connect <= 0 or read <= 0:
        problems.append(Error(
            "WEBHOOK_CONNECT_TIMEOUT and WEBHOOK_READ_TIMEOUT must be positive numbers of seconds.",
            id="webhooks.E007"))
    elif deadline and dns > 0 and deadline < dns + connect + read:
        problems.append(Warning(
            f"WEBHOOK_SEND_DEADLINE ({deadline:g} s) is shorter than WEBHOOK_DNS_TIMEOUT + "
            f"WEBHOOK_CONNECT_TIMEOUT + WEBHOOK_READ_TIMEOUT ({dns + connect + read:g} s): a "
            "receiver that answers within its timeouts after a slow lookup and connect is cut off.",
            hint="Leave WEBHOOK_SEND_DEADLINE unset: it defaults to the three timeouts + 2 s.",
            id="webhooks.W002"))
    return problems
