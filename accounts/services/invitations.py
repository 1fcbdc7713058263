"""Invitations: a member who may give roles (``console.tenancy.roles.GIVES``) invites an email
to join a merchant with one of them, and a memo that the membership will carry.

The emailed link carries a signed token (``django.core.signing``, salted) naming the
invitation and a random nonce. Only the nonce's SHA-256 is stored, so the database
never holds a working link. A link works once (``accepted_at``), until ``expires_at``;
resending draws a new nonce, so only the newest link works; revoking ends it.

Mail goes out from a Celery task after the transaction commits (``invitation_send``):
in a short transaction it draws the nonce of the current request, then it mails with no
transaction open. A request (create or resend) is mailed once: a second task for it finds
its link drawn and does nothing; a failed mail clears the link it drew, so the retry draws
a new one. If the broker cannot be reached when the request commits, the invitation stays
unqueued and ``invitations_dispatch_due`` (beat, every minute) queues it again.
"""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.audit import AuditAction
from console.models import Invitation, Membership, Merchant, Operator
from console.tenancy.audit import Actor, audit_record
from console.tenancy.hashing import sha256_hex
from console.tenancy.locks import lock_rows
from console.tenancy.selectors import lock_merchant

from . import members

log = logging.getLogger(__name__)

SALT = "console.invitation.v1"
RESEND_AFTER = timedelta(minutes=1)
REQUEUE_AFTER = timedelta(minutes=10)  # queued but still not mailed: queue it again
DISPATCH_GRACE = timedelta(seconds=5)  # a request's own commit queues it first


def lifetime() -> timedelta:
    return timedelta(days=settings.PGCONSOLE_INVITATION_DAYS)


def _normal_email(email: str) -> str:
    return Operator.objects.normalize_email((email or "").strip()).lower()


def _enqueue(invitation_ids: list[int]) -> bool:
    """Hand the ids to Celery. If the broker is down, the invitations stay unqueued and
    ``invitations_dispatch_due`` queues them once it is back."""
    from accounts.tasks import invitation_send_task

    try:
        for invitation_id in invitation_ids:
            invitation_send_task.apply_async(args=[invitation_id], queue=settings.MAIL_QUEUE,
                                             retry=False)
    except Exception as exc:  # kombu raises several kinds; none may lose the invitation
        log.warning("broker unavailable, %d invitation mails stay queued: %s",
                    len(invitation_ids), type(exc).__name__)
        return False
    Invitation.objects.filter(pk__in=invitation_ids).update(send_queued_at=timezone.now())
    return True


def _enqueue_send(invitation: Invitation) -> None:
    """After commit, queue the mail; ``invitation.mail_queued`` then says whether the broker
    took it (None until the transaction commits)."""
    invitation.mail_queued = None

    def enqueue():
        invitation.mail_queued = _enqueue([invitation.pk])

    transaction.on_commit(enqueue)


def invitations_dispatch_due(limit: int = 500) -> int:
    """Queue the mails that were asked for but never taken by the broker (it was down), or
    taken long ago and still not sent (a lost task). Run by beat."""
    now = timezone.now()
    asked_before = now + lifetime() - DISPATCH_GRACE  # a request sets expires_at = now + lifetime
    ids = list(
        Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True,
                                  expires_at__gt=now, expires_at__lte=asked_before, token_hash="")
        .filter(Q(send_queued_at__isnull=True) | Q(send_queued_at__lt=now - REQUEUE_AFTER))
        .order_by("expires_at").values_list("pk", flat=True)[:limit]
    )
    if ids:
        _enqueue(ids)
    return len(ids)


def _refuse_existing_member(merchant: Merchant, email: str) -> None:
    reach = [merchant.pk] + ([merchant.parent_id] if merchant.parent_id else [])
    member = (Membership.objects.filter(merchant_id__in=reach, operator__email__iexact=email)
              .select_related("merchant").first())
    if member is None:
        return
    if member.merchant_id == merchant.pk:
        raise ValidationError({"email": _("%(email)s is already a member of this merchant.")
                               % {"email": email}})
    raise ValidationError({"email": _(
        "%(email)s already reaches this sub-merchant as a member of the agency %(agency)s."
    ) % {"email": email, "agency": member.merchant.name}})


@transaction.atomic
def invitation_create(
    *, actor: Actor, merchant: Merchant, email: str, role: str, actor_role: str, origin: str = "",
    memo: str = "",
) -> Invitation:
    memo = members.memo_clean(memo)
    merchant = lock_merchant(merchant)
    email = _normal_email(email)
    invitation = Invitation(
        merchant=merchant, email=email, role=role, invited_by=actor.user, memo=memo,
        expires_at=timezone.now() + lifetime(), link_origin=origin[:200],
    )
    invitation.full_clean(exclude=["expires_at"], validate_constraints=False)
    members.role_grant_check(actor_role=actor_role, merchant=merchant, role=role)
    _refuse_existing_member(merchant, email)
    open_one = Invitation.objects.filter(
        merchant=merchant, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).first()
    if open_one is not None:
        if not open_one.is_expired():
            raise ValidationError({"email": _(
                "%(email)s already has an open invitation. Resend it from the list below."
            ) % {"email": email}})
        # An expired, unaccepted invitation gives way to the new one.
        open_one.revoked_at = timezone.now()
        open_one.save(update_fields=["revoked_at"])
        audit_record(actor=actor, merchant=merchant, action=AuditAction.INVITATION_REVOKE,
                     target=open_one, changes={"revoked_at": (None, open_one.revoked_at)})
    members.role_limits_check(merchant, role)
    invitation.save()
    changes = {"email": (None, email), "role": (None, role)}
    if memo:
        changes["memo"] = (None, memo)
    audit_record(actor=actor, merchant=merchant, action=AuditAction.INVITATION_CREATE,
                 target=invitation, changes=changes)
    _enqueue_send(invitation)
    return invitation


def _open_for_update(invitation: Invitation) -> Invitation:
    invitation = lock_rows(Invitation.objects.select_related("merchant")).get(pk=invitation.pk)
    if invitation.accepted_at:
        raise ValidationError(_("This invitation was already accepted."))
    if invitation.revoked_at:
        raise ValidationError(_("This invitation was revoked."))
    return invitation


@transaction.atomic
def invitation_resend(*, actor: Actor, invitation: Invitation, origin: str = "") -> Invitation:
    """Send again with a fresh link and a fresh expiry; earlier links stop working."""
    lock_merchant(invitation.merchant)
    invitation = _open_for_update(invitation)
    if invitation.sent_at and timezone.now() - invitation.sent_at < RESEND_AFTER:
        # One mail a minute at most: the console must not become a way to flood a mailbox.
        raise ValidationError(_(
            "The invitation to %(email)s was sent less than a minute ago. Give it a moment to "
            "arrive, then resend if it has not."
        ) % {"email": invitation.email})
    if invitation.is_expired():
        # Its seat was free while it was expired: take it again only if the limits allow.
        members.role_limits_check(invitation.merchant, invitation.role, invitation_id=invitation.pk)
    old_expiry = invitation.expires_at
    invitation.expires_at = timezone.now() + lifetime()
    invitation.token_hash = ""  # the old link stops now; the task draws the new one
    invitation.send_queued_at = None
    if origin:
        invitation.link_origin = origin[:200]
    invitation.save(update_fields=["expires_at", "token_hash", "send_queued_at", "link_origin"])
    audit_record(actor=actor, merchant=invitation.merchant, action=AuditAction.INVITATION_RESEND,
                 target=invitation, changed_fields=["token"],  # the link: its name only
                 changes={"expires_at": (old_expiry, invitation.expires_at)})
    _enqueue_send(invitation)
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    invitation = _open_for_update(invitation)
    invitation.revoked_at = timezone.now()
    invitation.token_hash = ""
    invitation.save(update_fields=["revoked_at", "token_hash"])
    audit_record(actor=actor, merchant=invitation.merchant, action=AuditAction.INVITATION_REVOKE,
                 target=invitation, changes={"revoked_at": (None, invitation.revoked_at)})
    return invitation


def sender_invitations_revoke(*, actor: Actor, sender: Operator, merchant: Merchant) -> int:
    """Withdraw ``sender``'s open invitations on ``merchant`` (and, for an agency, on its
    sub-merchants) that they may no longer give, now that their role there was lowered or
    taken away. ``members`` calls it in the transaction of that change, with the merchant's
    row locked; ``actor`` made the change. Returns how many were withdrawn."""
    open_ones = (
        lock_rows(Invitation.objects.select_related("merchant"))
        .filter(invited_by=sender, accepted_at__isnull=True, revoked_at__isnull=True)
        .filter(Q(merchant_id=merchant.pk) | Q(merchant__parent_id=merchant.pk))
        .order_by("pk")
    )
    givable: dict[int, list[str]] = {}
    withdrawn = 0
    for invitation in open_ones:
        where = invitation.merchant
        if where.pk not in givable:
            givable[where.pk] = members.givable_roles(
                actor_role=members.sender_role(sender, where), merchant=where)
        if invitation.role in givable[where.pk]:
            continue
        invitation.revoked_at = timezone.now()
        invitation.token_hash = ""
        invitation.save(update_fields=["revoked_at", "token_hash"])
        audit_record(actor=actor, merchant=where, action=AuditAction.INVITATION_REVOKE_SENDER_ROLE,
                     target=invitation, changes={"revoked_at": (None, invitation.revoked_at)})
        withdrawn += 1
    return withdrawn


def _link(invitation: Invitation, nonce: str) -> str:
    token = signing.dumps({"i": invitation.pk, "n": nonce}, salt=SALT)
    origin = (settings.PGCONSOLE_PUBLIC_URL or invitation.link_origin or "http://localhost:8000")
    return origin.rstrip("/") + reverse("invitation_accept", kwargs={"token": token})


def invitation_send(invitation_id: int) -> bool:
    """Draw the link of the current request and mail it. False when there is nothing to send:
    accepted, revoked, expired or gone, or this request's link was drawn already (by another
    task for the same request). Raises when the mail server refuses; the link it drew is
    cleared, so a retry draws and mails a new one."""
    with transaction.atomic():
        invitation = (lock_rows(Invitation.objects.select_related("merchant", "invited_by"))
                      .filter(pk=invitation_id).first())
        if invitation is None or not invitation.is_open or invitation.is_expired():
            return False
        if invitation.token_hash:
            return False  # mailed already, or being mailed: one mail per request
        nonce = secrets.token_urlsafe(32)
        invitation.token_hash = sha256_hex(nonce)
        invitation.save(update_fields=["token_hash"])
    drawn = Invitation.objects.filter(pk=invitation.pk, token_hash=invitation.token_hash)
    context = {
        "invitation": invitation, "link": _link(invitation, nonce),
        "merchant": invitation.merchant,
        "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else "PG Console",
        "inviter_ko": invitation.invited_by.get_full_name() if invitation.invited_by else "PG 콘솔",
        "days": settings.PGCONSOLE_INVITATION_DAYS,
    }
    with translation.override("ko"):  # each half of the mail names the role in its own language
        context["role_ko"] = str(invitation.get_role_display())
    with translation.override("en"):  # the mail carries English and Korean both
        subject = render_to_string("console/email/invitation_subject.txt", context).strip()
        body = render_to_string("console/email/invitation_body.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])  # no transaction open: no lock held
    except Exception:
        drawn.update(token_hash="")  # never mailed: the retry draws a new link
        raise
    drawn.update(sent_at=timezone.now(), send_count=F("send_count") + 1)
    log.info("invitation %s sent", invitation.pk)
    return True
