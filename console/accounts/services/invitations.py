"""Invitations: an owner or admin invites an email to join a merchant with a role.

The emailed link carries a signed token (``django.core.signing``, salted) naming the
invitation and a random nonce. Only the nonce's SHA-256 is stored, so the database
never holds a working link. A link works once (``accepted_at``), until ``expires_at``;
resending draws a new nonce, so only the newest link works; revoking ends it.

Mail goes out from a Celery task after the transaction commits: the task draws the
nonce and sends in one transaction, so a failed send leaves the previous link valid.
"""

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from console.models import Invitation, Membership, Merchant, Operator
from console.tenancy.audit import Actor, AuditAction, audit_record
from console.tenancy.hashing import sha256_hex
from console.tenancy.roles import Role
from console.tenancy.selectors import lock_merchant

from . import members

log = logging.getLogger(__name__)

SALT = "console.invitation.v1"
RESEND_AFTER = timedelta(minutes=1)


def lifetime() -> timedelta:
    return timedelta(days=settings.PGCONSOLE_INVITATION_DAYS)


def _normal_email(email: str) -> str:
    return Operator.objects.normalize_email((email or "").strip()).lower()


def _enqueue_send(invitation: Invitation) -> None:
    from console.accounts.tasks import invitation_send_task

    transaction.on_commit(partial(invitation_send_task.apply_async, args=[invitation.pk],
                                  queue=settings.MAIL_QUEUE))


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
    *, actor: Actor, merchant: Merchant, email: str, role: str, actor_role: str, origin: str = ""
) -> Invitation:
    merchant = lock_merchant(merchant)
    email = _normal_email(email)
    invitation = Invitation(
        merchant=merchant, email=email, role=role, invited_by=actor.user,
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
    audit_record(actor=actor, merchant=merchant, action=AuditAction.INVITATION_CREATE,
                 target=invitation, changes={"email": (None, email), "role": (None, role)})
    _enqueue_send(invitation)
    return invitation


def _open_for_update(invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().select_related("merchant").get(pk=invitation.pk)
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
    if origin:
        invitation.link_origin = origin[:200]
    invitation.save(update_fields=["expires_at", "token_hash", "link_origin"])
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


def _link(invitation: Invitation, nonce: str) -> str:
    token = signing.dumps({"i": invitation.pk, "n": nonce}, salt=SALT)
    origin = (settings.PGCONSOLE_PUBLIC_URL or invitation.link_origin or "http://localhost:8000")
    return origin.rstrip("/") + reverse("invitation_accept", kwargs={"token": token})


@transaction.atomic
def invitation_send(invitation_id: int) -> bool:
    """Draw a new link and mail it. False when there is nothing to send (accepted, revoked,
    expired or gone). Raises when the mail server refuses, leaving the old link valid."""
    invitation = (Invitation.objects.select_for_update(of=("self",)).select_related("merchant", "invited_by")
                  .filter(pk=invitation_id).first())
    if invitation is None or not invitation.is_open or invitation.is_expired():
        return False
    nonce = secrets.token_urlsafe(32)
    invitation.token_hash = sha256_hex(nonce)
    invitation.sent_at = timezone.now()
    invitation.send_count += 1
    invitation.save(update_fields=["token_hash", "sent_at", "send_count"])
    context = {
        "invitation": invitation, "link": _link(invitation, nonce),
        "merchant": invitation.merchant,
        "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else "PG Console",
        "days": settings.PGCONSOLE_INVITATION_DAYS,
    }
    with translation.override("en"):  # the mail carries English and Korean both
        subject = render_to_string("console/email/invitation_subject.txt", context).strip()
        body = render_to_string("console/email/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])
    log.info("invitation %s sent (send %s)", invitation.pk, invitation.send_count)
    return True


class InvitationInvalid(Exception):
    """A link that does not work, and why (a message for the person holding it)."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def invitation_from_token(token: str) -> Invitation:
    """The open invitation this link names, or InvitationInvalid with a clear reason."""
    try:
        data = signing.loads(token or "", salt=SALT)
        invitation_id, nonce = int(data["i"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvitationInvalid(_(
            "This invitation link is not valid. Check that you copied the whole link from the "
            "email, or ask for a new invitation."
        )) from None
    invitation = Invitation.objects.select_related("merchant", "merchant__parent").filter(
        pk=invitation_id
    ).first()
    if invitation is None:
        raise InvitationInvalid(_("This invitation no longer exists. Ask for a new one."), status=410)
    if invitation.accepted_at:
        raise InvitationInvalid(_(
            "This invitation was already used. Log in with the account it created."
        ), status=410)
    if invitation.revoked_at:
        raise InvitationInvalid(_("This invitation was withdrawn. Ask for a new one."), status=410)
    if not invitation.token_hash or not hmac.compare_digest(invitation.token_hash, sha256_hex(nonce)):
        raise InvitationInvalid(_(
            "This link was replaced by a newer invitation email. Use the link in the newest email."
        ), status=410)
    if invitation.is_expired():
        raise InvitationInvalid(_(
            "This invitation expired. Ask the person who invited you to send it again."
        ), status=410)
    return invitation


# What the holder of a working link is asked (``acceptance_step``).
JOIN = "join"  # logged in with the invited email: one click
CREATE_ACCOUNT = "create_account"  # nobody has this email: name and password
LOG_IN = "log_in"  # an account has this email: log in first
WRONG_ACCOUNT = "wrong_account"  # logged in as someone else: log out first


def acceptance_step(invitation: Invitation, operator: Operator | None) -> str:
    if operator is not None:
        return JOIN if operator.email.lower() == invitation.email.lower() else WRONG_ACCOUNT
    if Operator.objects.filter(email__iexact=invitation.email).exists():
        return LOG_IN
    return CREATE_ACCOUNT


@dataclass
class Accepted:
    membership: Membership
    operator: Operator
    created_account: bool


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, operator: Operator | None = None, password: str = "",
    full_name: str = "", ip: str | None = None,
) -> Accepted:
    """Accept as ``operator`` (logged in, same email), or make the account with ``password``."""
    lock_merchant(invitation.merchant)
    invitation = _open_for_update(invitation)
    if invitation.is_expired():
        raise ValidationError(_("This invitation expired. Ask the person who invited you to send it again."))
    created = False
    if operator is None:
        if Operator.objects.filter(email__iexact=invitation.email).exists():
            raise ValidationError(_("An account with this email exists: log in to accept."))
        operator = Operator(email=invitation.email, full_name=(full_name or "").strip()[:120])
        operator.full_clean(exclude=["password"])
        try:
            password_validation.validate_password(password, operator)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        operator.set_password(password)
        operator.save()
        created = True
    elif operator.email.lower() != invitation.email.lower():
        raise ValidationError(_(
            "This invitation is for %(email)s, but you are logged in as %(you)s. Log out, then "
            "open the link again."
        ) % {"email": invitation.email, "you": operator.email})
    actor = Actor(user=operator, ip=ip)
    membership = members.membership_create(
        actor=actor, operator=operator, merchant=invitation.merchant, role=invitation.role,
        actor_role=Role.OWNER,  # the inviter's right to give this role was checked when inviting
        invitation_id=invitation.pk,
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = operator
    invitation.token_hash = ""
    invitation.save(update_fields=["accepted_at", "accepted_by", "token_hash"])
    changes = {"accepted_at": (None, invitation.accepted_at)}
    if created:
        changes["operator"] = (None, operator.email)
    audit_record(actor=actor, merchant=invitation.merchant, action=AuditAction.INVITATION_ACCEPT,
                 target=invitation, changes=changes)
    return Accepted(membership=membership, operator=operator, created_account=created)
