"""Creating, editing, enabling, making default and deleting one channel. Each write
locks the channel's row and writes its audit row in the same transaction."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from console.models import Merchant
from console.tenancy.audit import Actor, AuditAction, audit_record
from console.tenancy.crypto import decrypt_json, encrypt_json

from ..models import Channel, TaxType
from .validation import (
    EDITABLE,
    IDENTITY,
    ChannelInput,
    _check_assignable,
    _clean,
    _credential_names,
    _duplicate_error,
)


@transaction.atomic
def channel_create(
    *, actor: Actor, merchant: Merchant, data: ChannelInput, assigned_to: Merchant | None = None
) -> Channel:
    _check_assignable(merchant, assigned_to)
    cleaned, credentials = _clean(merchant=merchant, data=data, stored={})
    channel = Channel(
        merchant=merchant, assigned_to=assigned_to, mode=cleaned.mode, provider=cleaned.provider,
        pg_provider=cleaned.pg_provider, module=cleaned.module, mid=cleaned.mid, name=cleaned.name,
        tax_type=cleaned.tax_type, payment_methods=cleaned.payment_methods,
        credentials_encrypted=encrypt_json(credentials), created_by=actor.user, updated_by=actor.user,
    )
    try:
        with transaction.atomic():
            channel.save(force_insert=True)
    except IntegrityError as exc:
        raise _duplicate_error() from exc
    shown = ["mode", "provider", "module", "mid", "pg_provider"]
    shown += [f for f in ("name", "tax_type", "payment_methods", "assigned_to")
              if getattr(channel, f) not in ("", None, [], TaxType.UNSET)]
    audit_record(actor=actor, merchant=merchant, action=AuditAction.CHANNEL_CREATE, target=channel,
                 changes={f: (None, getattr(channel, f)) for f in shown},
                 changed_fields=_credential_names(credentials))  # names only, never values
    return channel


def channel_credentials(channel: Channel) -> dict[str, str]:
    """Decrypt one channel's credentials: only for the channel being edited."""
    if channel.shared_credential_id:
        return decrypt_json(channel.shared_credential.credentials_encrypted)
    return decrypt_json(channel.credentials_encrypted)


def _locked(channel: Channel) -> Channel:
    return Channel.objects.select_for_update().select_related("merchant").get(pk=channel.pk)


@transaction.atomic
def channel_update(*, actor: Actor, channel: Channel, data: ChannelInput) -> Channel:
    channel = _locked(channel)
    if channel.shared_credential_id:
        raise ValidationError(_("A shared test channel uses the platform's credentials and cannot be edited."))
    if (data.mode, data.provider, data.module) != (channel.mode, channel.provider, channel.module):
        raise ValidationError(
            _("Mode, PG and module are fixed once a channel exists. Add a new channel instead.")
        )
    stored = decrypt_json(channel.credentials_encrypted)
    cleaned, credentials = _clean(merchant=channel.merchant, data=data, stored=stored,
                                  exclude_pk=channel.pk)
    changes = {f: (getattr(channel, f), getattr(cleaned, f)) for f in EDITABLE
               if getattr(channel, f) != getattr(cleaned, f)}
    secrets_changed = _credential_names(k for k in sorted(set(stored) | set(credentials))
                                        if stored.get(k) != credentials.get(k))
    if not changes and not secrets_changed:
        return channel
    for f in EDITABLE:
        setattr(channel, f, getattr(cleaned, f))
    channel.credentials_encrypted = encrypt_json(credentials)
    channel.updated_by = actor.user
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:
        raise _duplicate_error() from exc
    audit_record(actor=actor, merchant=channel.merchant, action=AuditAction.CHANNEL_UPDATE,
                 target=channel, changes=changes, changed_fields=secrets_changed)
    return channel


@transaction.atomic
def channel_set_enabled(*, actor: Actor, channel: Channel, enabled: bool) -> Channel:
    channel = _locked(channel)
    if channel.enabled != enabled:
        channel.enabled = enabled
        channel.updated_by = actor.user
        channel.save(update_fields=["enabled", "updated_by", "updated_at"])
        audit_record(actor=actor, merchant=channel.merchant,
                     action=AuditAction.CHANNEL_ENABLE if enabled else AuditAction.CHANNEL_DISABLE,
                     target=channel, changes={"enabled": (not enabled, enabled)})
    return channel


@transaction.atomic
def channel_make_default(*, actor: Actor, channel: Channel) -> Channel:
    channel = _locked(channel)
    if channel.is_default:
        return channel
    previous = list(
        Channel.objects.select_for_update().filter(merchant_id=channel.merchant_id, is_default=True)
    )
    for old in previous:
        old.is_default = False
        old.save(update_fields=["is_default", "updated_at"])
        audit_record(actor=actor, merchant=channel.merchant,
                     action=AuditAction.CHANNEL_DEFAULT_UNSET, target=old,
                     changes={"is_default": (True, False)})
    channel.is_default = True
    channel.updated_by = actor.user
    channel.save(update_fields=["is_default", "updated_by", "updated_at"])
    audit_record(actor=actor, merchant=channel.merchant, action=AuditAction.CHANNEL_DEFAULT_SET,
                 target=channel, changes={"is_default": (False, True)})
    return channel


@transaction.atomic
def channel_delete(*, actor: Actor, channel: Channel) -> None:
    channel = _locked(channel)
    audit_record(actor=actor, merchant=channel.merchant, action=AuditAction.CHANNEL_DELETE,
                 target=channel, changes={f: (getattr(channel, f), None) for f in IDENTITY})
    channel.delete()
