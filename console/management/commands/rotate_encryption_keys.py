from django.core.management.base import BaseCommand
from django.db import transaction

from console.tenancy.crypto import encrypted_fields, rotate_token
from console.tenancy.locks import lock_rows


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored credential under the first key of PGCONSOLE_ENCRYPTION_KEYS. "
        "Put the new key first, run this, then remove the old key."
    )

    def handle(self, *args, **options):
        for model, field in encrypted_fields():  # each app registers its own columns
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
