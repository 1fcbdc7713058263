"""A sub-merchant's own members may only be Manager or Viewer (issue 6).

Memberships made before that rule with a stronger role become Manager: they keep
seeing everything on the sub-merchant, and lose only what the rule forbids.
"""

from django.db import migrations


def to_manager(apps, schema_editor):
    Membership = apps.get_model("console", "Membership")
    Membership.objects.filter(merchant__parent__isnull=False).exclude(
        role__in=["manager", "viewer"]
    ).update(role="manager")


class Migration(migrations.Migration):
    dependencies = [("console", "0005_accounts_invitations_two_factor")]

    operations = [migrations.RunPython(to_manager, migrations.RunPython.noop)]
