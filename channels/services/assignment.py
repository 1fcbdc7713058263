"""Assigning an agency's channels to its sub-merchants: one channel from the Channels page,
or a sub-merchant's whole set from its form (and the empty set when it is deleted)."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from channels.audit import AuditAction
from console.models import Merchant
from console.tenancy.audit import Actor, audit_record
from console.tenancy.locks import lock_rows

from ..models import Channel
from .channels import _locked
from .validation import _check_assignable


def _assign_locked(actor: Actor, channel: Channel, sub_merchant: Merchant | None) -> None:
    """Assign a locked channel (``None``: give it back to its owner), with its audit row."""
    if channel.assigned_to_id != (sub_merchant.pk if sub_merchant else None):
        if sub_merchant is not None and channel.is_default:
            raise ValidationError({"channels": _(
                "The agency's default channel cannot be assigned to a sub-merchant: make another "
                "channel the default first. The channel: %(channel)s") % {"channel": channel}})
        previous = channel.assigned_to  # shown by name and tier code
        channel.assigned_to = sub_merchant
        channel.updated_by = actor.user
        channel.save(update_fields=["assigned_to", "updated_by", "updated_at"])
        action = AuditAction.CHANNEL_ASSIGN if sub_merchant else AuditAction.CHANNEL_UNASSIGN
        audit_record(actor=actor, merchant=channel.merchant, action=action, target=channel,
                     changes={"assigned_to": (previous, sub_merchant)})


@transaction.atomic
def channel_assign(*, actor: Actor, channel: Channel, sub_merchant: Merchant | None) -> Channel:
    """The Channels page: one channel to a sub-merchant (or to none), moved if need be."""
    channel = _locked(channel)
    _check_assignable(channel.merchant, sub_merchant)
    _assign_locked(actor, channel, sub_merchant)
    return channel


@transaction.atomic
def channels_assign_set(*, actor: Actor, sub_merchant: Merchant, channel_keys: Iterable[str]) -> list[Channel]:
    """Make these of the agency's channels exactly the ones assigned to ``sub_merchant`` (the
    sub-merchant form; an empty set when it is deleted). Unlike the Channels page, this never
    takes a channel from another sub-merchant; a key that is not the agency's is refused."""
    keys = list(dict.fromkeys(str(k).strip() for k in channel_keys))
    agency = sub_merchant.parent
    _check_assignable(agency or sub_merchant, sub_merchant)  # a merchant without agency fails it
    askable = [k for k in keys if "\x00" not in k]  # PostgreSQL takes no NUL in a parameter
    rows = list(lock_rows(Channel.objects.select_related("merchant", "assigned_to"))
                .filter(Q(merchant=agency, channel_key__in=askable) | Q(assigned_to=sub_merchant)).order_by("pk"))
    by_key = {c.channel_key: c for c in rows if c.merchant_id == agency.pk}
    if any(k not in by_key for k in keys):
        raise ValidationError({"channels": _("Choose the channels from the list: only this agency's "
                                             "own channels can be assigned.")})
    taken = [by_key[k] for k in keys if by_key[k].assigned_to_id not in (None, sub_merchant.pk)]
    if taken:
        raise ValidationError({"channels": [_(
            "%(channel)s is assigned to %(sub)s already. A channel serves one sub-merchant: take it "
            "back on the Channels page first."
        ) % {"channel": c, "sub": c.assigned_to} for c in taken]})
    for channel in rows:
        _assign_locked(actor, channel, sub_merchant if channel.channel_key in keys else None)
    return [by_key[k] for k in keys]
