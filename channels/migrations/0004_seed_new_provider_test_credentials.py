"""Seed the shared test MIDs of the PGs added to the catalog after 0002 (issue 16) and give
every existing merchant a test channel for each, as 0002 did for the first 21.

The data is written out here, not imported from the catalog, so this migration means the
same thing however the catalog changes later. Like 0002 it writes no audit rows: it is the
platform's seed, not an operator's change. The MIDs are the ones PortOne's channel-setting
help tells a test integration to choose; the notes of two seeded by 0002 said otherwise and
are corrected here.
"""

import uuid

from django.db import migrations

# (provider, module, pg code, MID, note)
SHARED_TEST_MIDS = [
    ("ksnet", "window_general", "ksnet", "2999199999", "payment window"),
    ("ksnet", "api_keyin", "ksnet", "2999199990", "API key-in"),
    ("ksnet", "api_subscription", "ksnet", "2999199990", "API subscription"),
    ("welcome", "window_general", "welcome", "welcometst", "general"),
    ("welcome", "window_subscription", "welcome", "wpaybill01", "subscription"),
    ("welcome", "api_subscription", "welcome", "wpaybill01", "API subscription"),
    ("tosspay_v2", "window_simple", "tosspay_v2", "tosstest", "general"),
    ("smilepay", "window_simple", "smilepay", "cnstest25m", "general"),
]


def seed(apps, schema_editor):
    Shared = apps.get_model("pgchannels", "SharedTestCredential")
    Channel = apps.get_model("pgchannels", "Channel")
    Merchant = apps.get_model("console", "Merchant")
    creds = []
    for provider, module, code, mid, note in SHARED_TEST_MIDS:
        cred, _ = Shared.objects.get_or_create(
            provider=provider, module=module, mid=mid, defaults={"pg_provider": code, "note": note}
        )
        creds.append(cred)
    Shared.objects.filter(mid__in=["T5102001", "9810030929"],
                          note="general (seen only in third-party code)").update(note="general")
    channels = [
        Channel(
            merchant_id=merchant_id, mode="test", provider=c.provider, pg_provider=c.pg_provider,
            module=c.module, mid=c.mid, name="", shared_credential=c,
            channel_key=f"channel-key-{uuid.uuid4()}", enabled=True,
        )
        for merchant_id in Merchant.objects.values_list("id", flat=True)
        for c in creds
    ]
    Channel.objects.bulk_create(channels, ignore_conflicts=True, batch_size=500)


def unseed(apps, schema_editor):
    """Remove what ``seed`` added: the shared rows and the untouched test channels on them."""
    Shared = apps.get_model("pgchannels", "SharedTestCredential")
    Channel = apps.get_model("pgchannels", "Channel")
    for provider, module, _code, mid, _note in SHARED_TEST_MIDS:
        shared = Shared.objects.filter(provider=provider, module=module, mid=mid)
        Channel.objects.filter(shared_credential__in=shared, mode="test").delete()
        shared.delete()


class Migration(migrations.Migration):
    # After issue 13's 0003 (written at the same time), so the graph has one leaf.
    dependencies = [("pgchannels", "0003_default_channel_rules")]
    operations = [migrations.RunPython(seed, unseed)]
