"""Seed the platform's shared test MIDs (shared/reference/pg-catalog.md) and give
every existing merchant a test channel for each.

The data is written out here, not imported from the catalog, so this migration
means the same thing however the catalog changes later.
"""

import uuid

from django.db import migrations

# (provider, module, pg code, MID, note)
SHARED_TEST_MIDS = [
    ("html5_inicis", "window_general", "html5_inicis", "INIpayTest", "general"),
    ("html5_inicis", "window_subscription", "html5_inicis", "INIBillTst", "subscription"),
    ("kcp", "window_general", "kcp", "T0000", "general"),
    ("nice", "window_general", "nice", "iamport00m", "authenticated"),
    ("nice", "api_keyin", "nice", "iamport01m", "non-authenticated"),
    ("kakaopay", "window_simple", "kakaopay", "TC0ONETIME", "one-time"),
    ("kakaopay", "window_subscription", "kakaopay", "TCSUBSCRIP", "subscription"),
    ("tosspayments", "window_general", "tosspayments", "iamporttest_3", "general"),
    ("tosspayments", "window_subscription", "tosspayments", "iamporttest_4", "subscription"),
    ("smartro", "window_general", "smartro_v2", "t_2302141m", "general"),
    ("settle", "window_general", "settle", "nxca_jt_il", "general"),
    ("settle", "window_subscription", "settle", "nxca_jt_bi", "subscription"),
    ("daou", "window_general", "daou", "CTS17362", "general"),
    ("jtnet", "window_general", "jtnet", "tpaytest0m", "general"),
    ("payco", "window_simple", "payco", "PARTNERTEST", "general"),
    ("payco", "window_subscription", "payco", "AUTOPAY", "subscription"),
    ("kicc", "window_general", "kicc", "T5102001", "general (seen only in third-party code)"),
    ("danal", "window_general", "danal_tpay", "9810030929", "general (seen only in third-party code)"),
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


class Migration(migrations.Migration):
    dependencies = [("pgchannels", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
