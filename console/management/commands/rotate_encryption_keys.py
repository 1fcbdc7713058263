from django.core.management.base import BaseCommand
from django.db import transaction

from console.tenancy.crypto import rotate_token
from console.tenancy.locks import lock_rows


def _targets():
    """Every encrypted column: (model, field). New apps add theirs here."""
    from channels.models import Channel, SharedTestCredential
    from console.models import ApiToken, TwoFactorDevice
    from webhooks.models import WebhookSecret

    return [
        (Channel, "credentials_encrypted"),
        (SharedTestCredential, "credentials_encrypted"),
        (WebhookSecret, "secret_encrypted"),
        (ApiToken, "token_encrypted"),
        (TwoFactorDevice, "key_encrypted"),
    ]


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored credential under the first key of PGCONSOLE_ENCRYPTION_KEYS. "
        "Put the new key first, run this, then remove the old key."
    )

    def handle(self, *args, **options):
        for model, field in _targets():
            done = 0
            ids = list(model.objects.exclude(**{field: ""}).values_list("pk", flat=True))
            for start in range(0, len(ids), 500):
                with transaction.atomic():
                    rows = lock_rows(model.objects.filter(pk__in=ids[start:start + 500]))
                    for row in rows.only("pk", field):
                        setattr(row, field, rotate_token(getattr(row, field)))
                        row.save(update_fields=[field])
                        done += 1
            self.stdout.write(f"{model._meta.label}.{field}: {done} re-encrypted")
