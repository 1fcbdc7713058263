"""Shared test credentials (the platform's test MIDs, kept by staff in the admin) and the
test channels every merchant gets from them."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from channels.audit import AuditAction
from console.models import Merchant
from console.tenancy.audit import Actor, audit_event, audit_record, audit_record_many
from console.tenancy.crypto import decrypt_json, encrypt_json

from .. import catalog
from ..models import Channel, Mode, SharedTestCredential
from .validation import IDENTITY, _credential_names


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
