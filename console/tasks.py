import smtplib

from celery import shared_task


@shared_task(name="console.ping", ignore_result=False)
def ping(value: str = "pong") -> dict:
    """A trivial round trip: proves a worker consumes the broker and answers.

    Used by the worker test and by operators checking a deployment
    (`celery -A config call console.ping`).
    """
    return {"echo": value}


@shared_task(
    name="console.invitation_send", bind=True, max_retries=6,
    autoretry_for=(OSError, smtplib.SMTPException), retry_backoff=30, retry_backoff_max=1800,
)
def invitation_send_task(self, invitation_id: int) -> bool:
    """Mail an invitation (a fresh link each time). Retried when the mail server fails."""
    from .invitations import invitation_send

    return invitation_send(invitation_id)
