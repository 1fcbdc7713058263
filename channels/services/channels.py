"""Creating, editing, enabling, making default and deleting one channel. Each write
locks the channel's row and writes its audit row in the same transaction."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from channels.audit import AuditAction
from console.models import Merchant
from console.tenancy.audit import Actor, audit_record
from console.tenancy.crypto import decrypt_json, encrypt_json
from console.tenancy.locks import lock_rows
from console.tenancy.selectors import lock_merchant
from console.tenancy.stale import check_version, version_of

from .. import catalog
from ..models import Channel, TaxType
from .validation import (
    CREDENTIAL_PREFIX,
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
    cleaned, credentials = _clean(merchant=merchant, data=data, stored={}, new=True)
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
    """The channel, locked, under its merchant's lock (taken first): one change to a merchant's
    channels at a time, so that its one default channel is decided by one of them."""
    lock_merchant(channel.merchant)
    return lock_rows(Channel.objects.select_related("merchant")).get(pk=channel.pk)


def _credential_specs(channel: Channel) -> list:
    """The credential fields the edit form shows: every one of the module's, whatever the PG code."""
    provider = catalog.get(channel.provider)
    if provider is None:
        return []
    codes = [c.code for c in provider.codes_for(channel.module)]
    return [f for f in provider.fields if any(f.applies(channel.module, code) for code in codes)]


def _form_values(values: dict, credentials: dict[str, str], specs: list) -> dict:
    """What the edit form shows of a channel (or what an operator submitted for it), under the
    form's names: the stale-edit check compares these (``console.tenancy.stale``)."""
    shown = {f: values[f] for f in EDITABLE}
    shown["payment_methods"] = sorted(set(shown["payment_methods"] or []))
    for spec in specs:
        shown[CREDENTIAL_PREFIX + spec.key] = (credentials.get(spec.key) or "").strip()
    return shown


def channel_version(channel: Channel, credentials: dict[str, str]) -> str:
    """The version of the channel the edit form starts from (its hidden ``edit_version``)."""
    return version_of(_form_values({f: getattr(channel, f) for f in EDITABLE}, credentials,
                                   _credential_specs(channel)))


def _check_version(channel: Channel, stored: dict, data: ChannelInput, expected: str | None) -> None:
    specs = _credential_specs(channel)
    submitted = {"name": (data.name or "").strip(), "mid": (data.mid or "").strip(),
                 "pg_provider": (data.pg_provider or "").strip() or channel.pg_provider,
                 "tax_type": data.tax_type, "payment_methods": data.payment_methods}
    check_version(expected=expected,
                  current=_form_values({f: getattr(channel, f) for f in EDITABLE}, stored, specs),
                  submitted=_form_values(submitted, data.credentials, specs),
                  secret={CREDENTIAL_PREFIX + f.key for f in specs if f.secret})


@transaction.atomic
def channel_update(
    *, actor: Actor, channel: Channel, data: ChannelInput, expected_version: str | None = None
) -> Channel:
    """Save the edit form. With ``expected_version`` (the form's), a channel changed since that
    version is refused with ``StaleEdit`` naming what changed, and nothing is written."""
    channel = _locked(channel)
    if channel.shared_credential_id:
        raise ValidationError(_("A shared test channel uses the platform's credentials and cannot be edited."))
    if (data.mode, data.provider, data.module) != (channel.mode, channel.provider, channel.module):
        raise ValidationError(
            _("Mode, PG and module are fixed once a channel exists. Add a new channel instead.")
        )
    stored = decrypt_json(channel.credentials_encrypted)
    _check_version(channel, stored, data, expected_version)
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


class _Unset:
    def __repr__(self):
        return "UNSET"


UNSET = _Unset()  # "the caller did not say which channel becomes the default"


def _check_can_be_default(channel: Channel) -> None:
    if not channel.enabled:
        raise ValidationError(_("A disabled channel cannot be the default. Enable it first."))
    if channel.assigned_to_id:
        raise ValidationError(_("A channel assigned to a sub-merchant cannot be the agency's default. "
                                "Take it back from the sub-merchant first."))


def _set_default_locked(actor: Actor, channel: Channel) -> None:
    previous = list(lock_rows(Channel.objects)
                    .filter(merchant_id=channel.merchant_id, is_default=True).exclude(pk=channel.pk))
    for old in previous:
        _unset_default_locked(actor, old)
    channel.is_default = True
    channel.updated_by = actor.user
    channel.save(update_fields=["is_default", "updated_by", "updated_at"])
    audit_record(actor=actor, merchant=channel.merchant, action=AuditAction.CHANNEL_DEFAULT_SET,
                 target=channel, changes={"is_default": (False, True)})


def _unset_default_locked(actor: Actor, channel: Channel) -> None:
    channel.is_default = False
    channel.updated_by = actor.user
    channel.save(update_fields=["is_default", "updated_by", "updated_at"])
    audit_record(actor=actor, merchant=channel.merchant, action=AuditAction.CHANNEL_DEFAULT_UNSET,
                 target=channel, changes={"is_default": (True, False)})


def _hand_over_default(actor: Actor, channel: Channel, successor) -> None:
    """``channel`` (locked) stops being the default because it is disabled or deleted: the
    operator said which channel takes over (``successor``) or that none does (``None``)."""
    if not channel.is_default:
        return
    if successor is UNSET:
        raise ValidationError({"successor": _(
            "This is the default channel. Choose which channel becomes the default, or choose "
            "to have no default channel.")})
    _unset_default_locked(actor, channel)
    if successor is None:
        return
    successor = _locked(successor)
    if successor.merchant_id != channel.merchant_id or successor.pk == channel.pk:
        raise ValidationError({"successor": _("Choose the new default from this merchant's own channels.")})
    try:
        _check_can_be_default(successor)
    except ValidationError as exc:
        raise ValidationError({"successor": exc.messages}) from exc
    _set_default_locked(actor, successor)


@transaction.atomic
def channel_set_enabled(*, actor: Actor, channel: Channel, enabled: bool, successor=UNSET) -> Channel:
    """Enable or disable a channel. Disabling the default needs ``successor``: the channel that
    becomes the default, or ``None`` for none; without it the default is never lost silently."""
    channel = _locked(channel)
    if channel.enabled != enabled:
        if not enabled:
            _hand_over_default(actor, channel, successor)
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
    _check_can_be_default(channel)
    _set_default_locked(actor, channel)
    return channel


@transaction.atomic
def channel_delete(*, actor: Actor, channel: Channel, successor=UNSET) -> None:
    """Delete a channel. Deleting the default needs ``successor``, as disabling it does."""
    channel = _locked(channel)
    _hand_over_default(actor, channel, successor)
    audit_record(actor=actor, merchant=channel.merchant, action=AuditAction.CHANNEL_DELETE,
                 target=channel, changes={f: (getattr(channel, f), None) for f in IDENTITY})
    channel.delete()
