"""Accepting an invitation: the emailed link, handed to the session so that no URL after it
carries the token, the step the holder is asked for, and the acceptance itself, checked
again against the inviter's current authority."""

import hmac
import logging
from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import AuditAction
from console.models import Invitation, Membership, Operator
from console.tenancy.audit import Actor, audit_record
from console.tenancy.hashing import sha256_hex
from console.tenancy.selectors import lock_merchant

from . import members
from .invitations import SALT, _open_for_update

log = logging.getLogger(__name__)


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
    return _invitation_open_with(invitation_id, sha256_hex(nonce))


def _invitation_open_with(invitation_id: int, nonce_hash: str) -> Invitation:
    """The open invitation ``invitation_id`` whose current link has this nonce hash."""
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
    if not invitation.token_hash or not hmac.compare_digest(invitation.token_hash, nonce_hash):
        raise InvitationInvalid(_(
            "This link was replaced by a newer invitation email. Use the link in the newest email."
        ), status=410)
    if invitation.is_expired():
        raise InvitationInvalid(_(
            "This invitation expired. Ask the person who invited you to send it again."
        ), status=410)
    return invitation


# Session hand-off, as Django's password reset: the link's request puts the invitation in
# the session and redirects to ``/accounts/invitation/accept/``, so no later request (access
# log, history, Referer) carries the token. The session keeps the id and the nonce's SHA-256,
# as the database does, never the token itself.
SESSION_KEY = "_invitation"


def invitation_hand_off(session, token: str) -> Invitation:
    """Check the emailed link and let this session continue with it (forgetting any other)."""
    session.pop(SESSION_KEY, None)
    invitation = invitation_from_token(token)
    session[SESSION_KEY] = {"i": invitation.pk, "h": invitation.token_hash}
    return invitation


def invitation_from_session(session) -> Invitation:
    """The open invitation this session was handed, or InvitationInvalid with the reason."""
    held = session.get(SESSION_KEY)
    try:
        invitation_id, nonce_hash = int(held["i"]), str(held["h"])
    except (KeyError, TypeError, ValueError):
        raise InvitationInvalid(_(
            "To accept an invitation, open the link in its email in this browser."
        )) from None
    return _invitation_open_with(invitation_id, nonce_hash)


def invitation_hand_off_end(session) -> None:
    """Forget the invitation this session was handed (it was accepted)."""
    session.pop(SESSION_KEY, None)


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
    """Accept as ``operator`` (logged in, same email), or make the account with ``password``.

    The role is granted with the authority its sender holds *now* (``members.sender_role``):
    their role on the merchant or its agency, or staff authority for active staff who may add
    memberships. A sender who is gone (account deleted, so ``invited_by`` is empty;
    deactivated; no longer a member) or who may no longer give the role gets the invitation
    refused, and nothing is created. Invitations are made on the Accounts page by a member,
    so an empty ``invited_by`` means the sender's account was deleted (or the invitation was
    made by a script as the system, which carries no authority): refused too."""
    lock_merchant(invitation.merchant)
    invitation = _open_for_update(invitation)
    if invitation.is_expired():
        raise ValidationError(_("This invitation expired. Ask the person who invited you to send it again."))
    sender_role = members.sender_role(invitation.invited_by, invitation.merchant)
    if invitation.role not in members.givable_roles(actor_role=sender_role, merchant=invitation.merchant):
        raise ValidationError(_(
            "The person who invited you can no longer give this role. Ask for a new invitation."
        ))
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
        actor_role=sender_role,  # the sender's authority now, checked again under the lock
        invitation_id=invitation.pk, memo=invitation.memo,
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
