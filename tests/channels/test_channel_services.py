import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from channels import services
from channels.models import Channel, SharedTestCredential
from channels.services import ChannelInput
from console.models import AuditEvent
from console.tenancy.audit import Actor
from console.tenancy.crypto import decrypt_json
from tests.factories import make_channel, make_merchant, make_sub_merchant

pytestmark = pytest.mark.django_db

SITE_KEY = "kcp-site-key-THE-SECRET-9f3a"


def kcp(mid="A52Q7", **overrides):
    values = dict(mode="live", provider="kcp", module="window_general", mid=mid, name="KCP card",
                  credentials={"site_key": SITE_KEY})
    values.update(overrides)
    return ChannelInput(**values)


def create(merchant, data, **kw):
    return services.channel_create(actor=Actor(), merchant=merchant, data=data, **kw)


def test_create_encrypts_credentials_and_makes_a_channel_key(agency):
    channel = create(agency, kcp())
    assert channel.pg_string == "kcp.A52Q7"
    assert channel.channel_key.startswith("channel-key-") and len(channel.channel_key) == 48
    assert SITE_KEY not in channel.credentials_encrypted
    assert decrypt_json(channel.credentials_encrypted) == {"site_key": SITE_KEY}
    event = AuditEvent.objects.get(action="channel.create", target_id=str(channel.pk))
    assert "credentials.site_key" in event.changed_fields
    assert SITE_KEY not in str(event.changed_fields) + event.target_repr


def test_no_credential_in_clear_in_the_database(agency):
    create(agency, kcp())
    create(agency, ChannelInput(mode="live", provider="tosspayments", module="window_general",
                                mid="toss_live1", credentials={"client_key": "live_ck_PUBLICISH123",
                                                               "secret_key": "live_sk_TOPSECRET999"}))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM pgchannels_channel")
        rows = cursor.fetchall()
        cursor.execute("SELECT * FROM console_auditevent")
        rows += cursor.fetchall()
    dump = repr(rows)
    for secret in (SITE_KEY, "live_sk_TOPSECRET999", "live_ck_PUBLICISH123"):
        assert secret not in dump


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (kcp(mid=""), "mid", "Site code is required"),
        (kcp(credentials={}), "cred_site_key", "Site key is required"),
        (kcp(mid="A52Q7X"), "mid", "at most 5 characters (it has 6)"),
        (kcp(mid="A5-Q7"), "mid", "exactly 5 letters or digits"),
        (kcp(mid="A5 Q7"), "mid", "not in the expected format"),
        (kcp(name="n" * 61), "name", "at most 60 characters"),
        (kcp(credentials={"site_key": "k" * 41}), "cred_site_key", "at most 40 characters"),
        (ChannelInput(mode="live", provider="nice", module="window_general", mid="nicemid01",
                      credentials={"merchant_key": "mk", "cancel_password": "12345678901"}),
         "cred_cancel_password", "at most 10 characters"),
        (ChannelInput(mode="live", provider="tosspayments", module="window_general", mid="t1",
                      credentials={"client_key": "wrong", "secret_key": "live_sk_x"}),
         "cred_client_key", "test_ck_ or live_ck_"),
        (kcp(module="window_simple"), "module", "does not offer this module"),
        (ChannelInput(mode="live", provider="kakaopay", module="api_keyin", mid="CDEMO00001"),
         "module", "does not offer this module"),
        (kcp(pg_provider="kcp_billing"), "pg_provider", "does not go with the chosen module"),
        (kcp(provider="nopay"), "provider", "Choose a PG"),
        (kcp(mode="prod"), "mode", "Choose live or test"),
        (kcp(tax_type="sometimes"), "tax_type", "Choose a tax type"),
        (kcp(payment_methods=["card", "gold"]), "payment_methods", "Choose payment methods"),
        (kcp(credentials={"site_key": SITE_KEY, "password": "x"}), "__all__", "has no field named password"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(agency, data, field, message):
    channels, events = Channel.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        create(agency, data)
    assert field in exc.value.message_dict, exc.value.message_dict
    assert message in " ".join(exc.value.message_dict[field])
    assert (Channel.objects.count(), AuditEvent.objects.count()) == (channels, events)


def test_duplicate_is_refused(agency):
    create(agency, kcp())
    with pytest.raises(ValidationError) as exc:
        create(agency, kcp(name="again"))
    assert "already has a live channel for NHN KCP" in exc.value.message_dict["mid"][0]
    # the same MID in test mode, another module, or another merchant is fine
    create(agency, kcp(mode="test"))
    create(agency, kcp(module="api_keyin"))
    create(make_merchant("Other"), kcp())


def test_assignment_only_to_own_sub_merchant(agency, other_merchant):
    own = make_sub_merchant(agency, "A01")
    foreign = make_sub_merchant(other_merchant, "B01")
    channel = create(agency, kcp(), assigned_to=own)
    assert channel.assigned_to == own
    with pytest.raises(ValidationError) as exc:
        create(agency, kcp(mid="B0002"), assigned_to=foreign)
    assert "only to a sub-merchant of its own merchant" in str(exc.value)
    with pytest.raises(ValidationError):
        services.channel_assign(actor=Actor(), channel=channel, sub_merchant=foreign)
    channel.refresh_from_db()
    assert channel.assigned_to == own
    services.channel_assign(actor=Actor(), channel=channel, sub_merchant=None)
    channel.refresh_from_db()
    assert channel.assigned_to is None


def test_update_keeps_a_blank_secret_and_replaces_a_new_one(agency):
    channel = create(agency, kcp())
    services.channel_update(actor=Actor(), channel=channel,
                            data=kcp(name="Renamed", credentials={"site_key": ""}))
    channel.refresh_from_db()
    assert channel.name == "Renamed"
    assert services.channel_credentials(channel) == {"site_key": SITE_KEY}
    event = AuditEvent.objects.filter(action="channel.update").latest("id")
    assert event.changed_fields == ["name"]

    services.channel_update(actor=Actor(), channel=channel,
                            data=kcp(name="Renamed", credentials={"site_key": "new-site-key-777"}))
    channel.refresh_from_db()
    assert services.channel_credentials(channel) == {"site_key": "new-site-key-777"}
    event = AuditEvent.objects.filter(action="channel.update").latest("id")
    assert event.changed_fields == ["credentials.site_key"]


def test_update_cannot_change_mode_provider_or_module(agency):
    channel = create(agency, kcp())
    with pytest.raises(ValidationError):
        services.channel_update(actor=Actor(), channel=channel, data=kcp(mode="test"))
    with pytest.raises(ValidationError):
        services.channel_update(actor=Actor(), channel=channel, data=kcp(module="api_keyin"))


def test_update_into_a_duplicate_is_refused(agency):
    create(agency, kcp(mid="AAAAA"))
    second = create(agency, kcp(mid="BBBBB"))
    with pytest.raises(ValidationError) as exc:
        services.channel_update(actor=Actor(), channel=second, data=kcp(mid="AAAAA"))
    assert "mid" in exc.value.message_dict
    second.refresh_from_db()
    assert second.mid == "BBBBB"


def test_one_default_per_merchant(agency):
    first, second = create(agency, kcp(mid="AAAAA")), create(agency, kcp(mid="BBBBB"))
    services.channel_make_default(actor=Actor(), channel=first)
    services.channel_make_default(actor=Actor(), channel=second)
    assert list(Channel.objects.filter(merchant=agency, is_default=True)) == [second]
    actions = list(AuditEvent.objects.filter(action__startswith="channel.default").values_list("action", flat=True))
    assert actions == ["channel.default_set", "channel.default_unset", "channel.default_set"]


def test_enable_disable_and_delete_are_audited(agency):
    channel = create(agency, kcp())
    services.channel_set_enabled(actor=Actor(), channel=channel, enabled=False)
    services.channel_set_enabled(actor=Actor(), channel=channel, enabled=False)  # no change, no row
    services.channel_set_enabled(actor=Actor(), channel=channel, enabled=True)
    services.channel_delete(actor=Actor(), channel=channel)
    assert not Channel.objects.filter(pk=channel.pk).exists()
    actions = list(AuditEvent.objects.filter(target_id=str(channel.pk), target_type="pgchannels.channel")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["channel.create", "channel.disable", "channel.enable", "channel.delete"]


def test_every_merchant_gets_the_shared_test_channels(agency):
    shared = SharedTestCredential.objects.count()
    assert shared == 26  # seeded by the data migrations (0002: 18, 0004: 8)
    tests = Channel.objects.filter(merchant=agency, mode="test")
    assert tests.count() == shared
    assert set(tests.values_list("provider", flat=True)) == set(
        SharedTestCredential.objects.values_list("provider", flat=True))
    assert "kcp.T0000" in [c.pg_string for c in tests]
    sub = make_sub_merchant(agency, "A01")
    assert Channel.objects.filter(merchant=sub, mode="test").count() == shared


def test_staff_adding_shared_credentials_reaches_existing_merchants(agency, other_merchant):
    cred = services.shared_test_credential_save(
        actor=Actor(), credential=SharedTestCredential(provider="eximbay", module="window_general", mid="EXTEST01"),
        credentials={"secret_key": "eximbay-test-secret"},
    )
    for merchant in (agency, other_merchant):
        channel = Channel.objects.get(merchant=merchant, shared_credential=cred)
        assert channel.pg_string == "eximbay.EXTEST01" and channel.mode == "test"
        assert services.channel_credentials(channel) == {"secret_key": "eximbay-test-secret"}
    assert "eximbay-test-secret" not in cred.credentials_encrypted
    # provisioning again creates nothing new
    assert services.test_channels_provision(actor=Actor()) == 0


def test_shared_credential_for_an_unoffered_module_is_refused():
    with pytest.raises(ValidationError):
        services.shared_test_credential_save(
            actor=Actor(), credential=SharedTestCredential(provider="kakaopay", module="api_keyin", mid="X"))


def test_shared_test_channels_cannot_be_edited(agency):
    channel = Channel.objects.filter(merchant=agency, mode="test").first()
    with pytest.raises(ValidationError):
        services.channel_update(actor=Actor(), channel=channel,
                                data=ChannelInput(mode="test", provider=channel.provider,
                                                  module=channel.module, mid="other"))


def test_rotate_encryption_keys(agency, settings):
    from cryptography.fernet import Fernet

    channel = create(agency, kcp())
    new_key = Fernet.generate_key().decode()
    settings.PGCONSOLE_ENCRYPTION_KEYS = [new_key, *settings.PGCONSOLE_ENCRYPTION_KEYS]
    call_command("rotate_encryption_keys")
    settings.PGCONSOLE_ENCRYPTION_KEYS = [new_key]  # the old keys are gone
    channel.refresh_from_db()
    assert services.channel_credentials(channel) == {"site_key": SITE_KEY}


def test_rotate_encryption_keys_covers_every_encrypted_column(agency, owner, settings):
    """Webhook secrets, API tokens and two-factor keys too: after the old key is dropped,
    each still decrypts."""
    from cryptography.fernet import Fernet
    from django.apps import apps

    from accounts.two_factor import services as two_factor
    from api_keys.services.api_keys import api_key_create, token_issue
    from console.models import ApiToken
    from console.models import two_factor as tfd
    from console.tenancy.crypto import decrypt_text
    from webhooks.models import WebhookSecret
    from webhooks.services import endpoint_ensure

    endpoint_ensure(merchant=agency, mode="live")
    token = token_issue(api_key_create(actor=Actor(), merchant=agency, name="rotate").api_key).token
    device, key_base32, _url = two_factor.enrolment_start(owner)
    before = {
        "secret": decrypt_text(WebhookSecret.objects.get(endpoint__merchant=agency).secret_encrypted),
        "device": tfd.device_key(device),
    }
    encrypted_columns = {
        (model._meta.label, field.name)
        for model in apps.get_models() for field in model._meta.fields if field.name.endswith("_encrypted")
    }
    from console.tenancy.crypto import encrypted_fields

    assert {(m._meta.label, f) for m, f in encrypted_fields()} == encrypted_columns  # none forgotten

    new_key = Fernet.generate_key().decode()
    settings.PGCONSOLE_ENCRYPTION_KEYS = [new_key, *settings.PGCONSOLE_ENCRYPTION_KEYS]
    call_command("rotate_encryption_keys")
    settings.PGCONSOLE_ENCRYPTION_KEYS = [new_key]
    assert decrypt_text(WebhookSecret.objects.get(endpoint__merchant=agency).secret_encrypted) == before["secret"]
    assert decrypt_text(ApiToken.objects.get().token_encrypted) == token
    device.refresh_from_db()
    assert tfd.device_key(device) == before["device"]


def test_make_channel_factory_works(agency):
    assert make_channel(agency).provider == "kcp"
