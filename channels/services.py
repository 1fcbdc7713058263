"""Writes to PG channels and shared test credentials.

Every write validates against the PG catalog, encrypts credentials, and records its
audit event in the same transaction. The console views, the Django admin and
``seed_demo`` all come through here.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from console.models import Merchant
from console.tenancy.audit import Actor, AuditAction, audit_event, audit_record, audit_record_many
from console.tenancy.crypto import decrypt_json, encrypt_json

from . import catalog
from .catalog import PAYMENT_METHODS, Module
from .models import Channel, Mode, SharedTestCredential, TaxType

CREDENTIAL_PREFIX = "cred_"  # error keys for credential fields: cred_<key>
NAME_MAX_LENGTH = Channel._meta.get_field("name").max_length  # one limit: the model's
EDITABLE = ("name", "mid", "pg_provider", "tax_type", "payment_methods")
IDENTITY = ("mode", "provider", "module", "mid")  # what names a channel in its audit rows


@dataclass
class ChannelInput:
    """What an operator submits for a channel. Blank secret values keep the stored ones."""

    mode: str
    provider: str
    module: str
    mid: str
    pg_provider: str = ""
    name: str = ""
    tax_type: str = TaxType.UNSET
    payment_methods: list[str] = field(default_factory=list)
    credentials: dict[str, str] = field(default_factory=dict)


def _clean(
    *, merchant: Merchant, data: ChannelInput, stored: dict, exclude_pk: int | None = None
) -> tuple[ChannelInput, dict]:
    """Validate ``data`` against the catalog. Returns the cleaned input and credentials."""
    errors: dict[str, str] = {}
    provider = catalog.get(data.provider)
    mid = (data.mid or "").strip()
    name = (data.name or "").strip()

    if data.mode not in Mode.values:
        errors["mode"] = _("Choose live or test.")
    if provider is None:
        errors["provider"] = _("Choose a PG from the list.")
        raise ValidationError(errors)
    if data.module not in provider.modules:
        offered = ", ".join(str(Module(m).label) for m in provider.modules)
        errors["module"] = _("%(pg)s does not offer this module. It offers: %(offered)s.") % {
            "pg": provider.name, "offered": offered,
        }
        raise ValidationError(errors)
    pg_code = (data.pg_provider or "").strip() or provider.default_code(data.module)
    if pg_code not in [c.code for c in provider.codes_for(data.module)]:
        errors["pg_provider"] = _("This PG code does not go with the chosen module.")

    if not mid:
        errors["mid"] = _("%(label)s is required.") % {"label": provider.mid_label}
    elif len(mid) > provider.mid_max_length:
        errors["mid"] = _("%(label)s is too long: at most %(max)d characters (it has %(n)d).") % {
            "label": provider.mid_label, "max": provider.mid_max_length, "n": len(mid),
        }
    elif not re.fullmatch(provider.mid_pattern, mid):
        errors["mid"] = _(
            "%(label)s is not in the expected format (letters, digits and _ - . @ only, "
            "as the PG issued it)."
        ) % {"label": provider.mid_label}
        if provider.mid_max_length <= 10:
            errors["mid"] = _(
                "%(label)s is not in the expected format: %(pg)s issues it as exactly %(n)d "
                "letters or digits."
            ) % {"label": provider.mid_label, "pg": provider.name, "n": provider.mid_max_length}

    if len(name) > NAME_MAX_LENGTH:
        errors["name"] = _("The channel name is too long: at most %(max)d characters.") % {
            "max": NAME_MAX_LENGTH
        }
    if data.tax_type not in TaxType.values:
        errors["tax_type"] = _("Choose a tax type from the list.")
    known_methods = {code for code, _label in PAYMENT_METHODS}
    methods = list(dict.fromkeys(data.payment_methods or []))
    if not set(methods) <= known_methods:
        errors["payment_methods"] = _("Choose payment methods from the list.")

    fields = provider.fields_for(data.module, pg_code or "")
    allowed = {f.key for f in fields}
    unknown = set(k for k, v in data.credentials.items() if v) - allowed
    if unknown:
        errors["__all__"] = _("%(pg)s has no field named %(fields)s.") % {
            "pg": provider.name, "fields": ", ".join(sorted(unknown)),
        }
    credentials: dict[str, str] = {}
    for f in fields:
        value = (data.credentials.get(f.key) or "").strip()
        if not value and f.secret and stored.get(f.key):
            credentials[f.key] = stored[f.key]  # blank secret: keep what is stored
            continue
        if not value:
            if f.required:
                errors[CREDENTIAL_PREFIX + f.key] = _("%(label)s is required.") % {"label": f.label}
            continue
        problem = f.check(value)
        if problem:
            errors[CREDENTIAL_PREFIX + f.key] = problem
        else:
            credentials[f.key] = value

    if "mid" not in errors and data.mode in Mode.values:
        duplicate = Channel.objects.filter(
            merchant=merchant, mode=data.mode, provider=provider.key, module=data.module, mid=mid
        )
        if exclude_pk:
            duplicate = duplicate.exclude(pk=exclude_pk)
        if duplicate.exists():
            errors["mid"] = _(
                "This merchant already has a %(mode)s channel for %(pg)s with this module and "
                "%(label)s."
            ) % {"mode": Mode(data.mode).label.lower(), "pg": provider.name, "label": provider.mid_label}

    if errors:
        raise ValidationError(errors)
    cleaned = ChannelInput(
        mode=data.mode, provider=provider.key, module=data.module, mid=mid, pg_provider=pg_code,
        name=name, tax_type=data.tax_type, payment_methods=methods, credentials=credentials,
    )
    return cleaned, credentials


def _duplicate_error() -> ValidationError:
    return ValidationError({"mid": _("This merchant already has a channel with this PG, module and MID in this mode.")})


def _check_assignable(merchant: Merchant, sub_merchant: Merchant | None) -> None:
    if sub_merchant is not None and sub_merchant.parent_id != merchant.pk:
        raise ValidationError(
            {"assigned_to": _("A channel can be assigned only to a sub-merchant of its own merchant.")}
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


def _credential_names(keys) -> list[str]:
    """How a credential appears in an audit row: by its name, never its value."""
    return [f"credentials.{key}" for key in keys]


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


def _assign_locked(actor: Actor, channel: Channel, sub_merchant: Merchant | None) -> None:
    """Assign a locked channel (``None``: give it back to its owner), with its audit row."""
    if channel.assigned_to_id != (sub_merchant.pk if sub_merchant else None):
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
    rows = list(Channel.objects.select_for_update(of=("self",)).select_related("merchant", "assigned_to")
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


@transaction.atomic
def channel_delete(*, actor: Actor, channel: Channel) -> None:
    channel = _locked(channel)
    audit_record(actor=actor, merchant=channel.merchant, action=AuditAction.CHANNEL_DELETE,
                 target=channel, changes={f: (getattr(channel, f), None) for f in IDENTITY})
    channel.delete()


# --- Shared test credentials -------------------------------------------------


def test_channels_provision(
    *, actor: Actor, merchant_ids: Iterable[int] | None = None,
    credentials: Iterable[SharedTestCredential] | None = None,
) -> int:
    """Give merchants a test channel for each shared test credential they lack.

    Called when a merchant is created and when staff add a shared credential.
    Returns the number of channels created.
    """
    creds = list(credentials if credentials is not None else SharedTestCredential.objects.all())
    if not creds:
        return 0
    ids = list(merchant_ids) if merchant_ids is not None else list(
        Merchant.objects.values_list("id", flat=True)
    )
    created = 0
    with transaction.atomic():
        for start in range(0, len(ids), 200):
            batch = ids[start:start + 200]
            taken = set(
                Channel.objects.filter(merchant_id__in=batch, mode=Mode.TEST)
                .values_list("merchant_id", "provider", "module", "mid")
            )
            merchants = {m.pk: m for m in Merchant.objects.filter(pk__in=batch)}
            new = [
                Channel(merchant_id=mid_, mode=Mode.TEST, provider=c.provider,
                        pg_provider=c.pg_provider, module=c.module, mid=c.mid,
                        shared_credential=c, created_by=actor.user, updated_by=actor.user)
                for mid_ in batch if mid_ in merchants
                for c in creds if (mid_, c.provider, c.module, c.mid) not in taken
            ]
            Channel.objects.bulk_create(new, batch_size=500)
            audit_record_many([
                audit_event(actor=actor, merchant=merchants[ch.merchant_id],
                            action=AuditAction.CHANNEL_CREATE_SHARED_TEST, target=ch,
                            changes={f: (None, getattr(ch, f)) for f in IDENTITY})
                for ch in new
            ])
            created += len(new)
    return created


@transaction.atomic
def shared_test_credential_save(
    *, actor: Actor, credential: SharedTestCredential, credentials: dict[str, str] | None = None
) -> SharedTestCredential:
    """Create or change a shared test credential (staff, in the admin)."""
    provider = catalog.get(credential.provider)
    if provider is None:
        raise ValidationError({"provider": _("Choose a PG from the list.")})
    if credential.module not in provider.modules:
        raise ValidationError({"module": _("%(pg)s does not offer this module.") % {"pg": provider.name}})
    credential.pg_provider = credential.pg_provider or provider.default_code(credential.module)
    if credential.pg_provider not in [c.code for c in provider.codes_for(credential.module)]:
        raise ValidationError({"pg_provider": _("This PG code does not go with the chosen module.")})
    creating = credential.pk is None
    changed = []
    if credentials is not None:
        allowed = {f.key for f in provider.fields_for(credential.module, credential.pg_provider)}
        unknown = set(credentials) - allowed
        if unknown:
            raise ValidationError({"credentials": _("%(pg)s has no field named %(fields)s.") % {
                "pg": provider.name, "fields": ", ".join(sorted(unknown))}})
        before = decrypt_json(credential.credentials_encrypted)
        merged = {**before, **{k: v for k, v in credentials.items() if v}}
        changed = _credential_names(k for k in sorted(set(before) | set(merged))
                                    if before.get(k) != merged.get(k))
        credential.credentials_encrypted = encrypt_json(merged)
    credential.full_clean(exclude=["credentials_encrypted"])
    credential.save()
    if creating:
        audit_record(actor=actor, merchant=None, action=AuditAction.SHARED_TEST_CREDENTIAL_CREATE,
                     target=credential, changed_fields=changed,
                     changes={f: (None, getattr(credential, f))
                              for f in ("provider", "module", "mid")})
        test_channels_provision(actor=actor, credentials=[credential])
    else:
        audit_record(actor=actor, merchant=None, action=AuditAction.SHARED_TEST_CREDENTIAL_UPDATE,
                     target=credential, changed_fields=changed or ["note"])
    return credential
