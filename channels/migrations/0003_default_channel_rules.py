"""A default channel is enabled and the agency's own (issue 13). Channels that broke either
rule before it existed stop being the default first; the console then asks the operator to
choose a default again (the Channels page shows that there is none)."""

from django.conf import settings
from django.db import migrations, models


def repair(apps, schema_editor):
    Channel = apps.get_model("pgchannels", "Channel")
    Channel.objects.filter(is_default=True).filter(
        models.Q(enabled=False) | models.Q(assigned_to__isnull=False)).update(is_default=False)


class Migration(migrations.Migration):

    dependencies = [
        ('console', '0012_audit_action_sub_merchant_delete'),
        ('pgchannels', '0002_seed_shared_test_credentials'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(repair, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='channel',
            constraint=models.CheckConstraint(condition=models.Q(('enabled', False), ('is_default', True), _negated=True), name='channel_default_is_enabled', violation_error_message='A disabled channel cannot be the default. Enable it first.'),
        ),
        migrations.AddConstraint(
            model_name='channel',
            constraint=models.CheckConstraint(condition=models.Q(('assigned_to__isnull', False), ('is_default', True), _negated=True), name='channel_default_is_unassigned', violation_error_message="A channel assigned to a sub-merchant cannot be the agency's default. Take it back from the sub-merchant first."),
        ),
    ]
