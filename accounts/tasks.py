"""Accounts tasks: take an id, call a service. Task names stay as first registered."""

import smtplib

from celery import shared_task


@shared_task(
    name="console.invitation_send", bind=True, max_retries=6,
    autoretry_for=(OSError, smtplib.SMTPException), retry_backoff=30, retry_backoff_max=1800,
)
def invitation_send_task(self, invitation_id: int) -> bool:
    """Mail an invitation (a fresh link each time). Retried when the mail server fails."""
    from .services.invitations import invitation_send

    return invitation_send(invitation_id)


@shared_task(name="console.invitations_dispatch_due", ignore_result=True)
def invitations_dispatch_due_task() -> int:
    """Queue invitation mails the broker never took (it was down), run by beat."""
    from .services.invitations import invitations_dispatch_due

    return invitations_dispatch_due()
