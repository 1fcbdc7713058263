import pytest
from django.core.management import call_command
from django.urls import reverse

from console.models import AuditEvent
from console.tenancy.audit import Actor
from tests.factories import OperatorFactory, make_member, make_sub_merchant
from webhooks import services
from webhooks.models import Delivery, WebhookEndpoint, WebhookSecret

pytestmark = pytest.mark.django_db


def url(name, merchant, **kw):
    return reverse(f"webhooks:{name}", kwargs={"merchant_code": merchant.code, **kw})


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def save(client, merchant, mode="test", **overrides):
    data = {f"{mode}-url": "http://127.0.0.1:9/hook", f"{mode}-content_type": "json",
            f"{mode}-version": "v1", f"{mode}-enabled": "on"}
    data.update({f"{mode}-{k}": v for k, v in overrides.items()})
    return client.post(url("save", merchant, mode=mode), data)


def test_page_shows_both_modes_and_the_console_words(owner_client, agency):
    html = owner_client.get(url("settings", agency)).content.decode()
    for words in ("Live webhook", "Test webhook", "Endpoint URL", "Content type", "Payload version", "Save",
                  "Retry policy", "Delivery log"):
        assert words in html, words


def test_save_makes_the_endpoint_and_a_signing_secret_and_audits(owner_client, agency):
    assert save(owner_client, agency).status_code == 302
    endpoint = WebhookEndpoint.objects.get(merchant=agency, mode="test")
    assert endpoint.url == "http://127.0.0.1:9/hook"
    secret = endpoint.secrets.get()
    assert secret.secret_encrypted and "whsec_" not in secret.secret_encrypted
    html = owner_client.get(url("settings", agency)).content.decode()
    assert "Send test" in html and f"whsec_{secret.hint}" in html
    event = AuditEvent.objects.filter(action="webhook_endpoint.update").latest("id")
    assert "url" in event.changed_fields
    save(owner_client, agency, version="v2")
    assert AuditEvent.objects.filter(action="webhook_endpoint.update").latest("id").changed_fields == ["version"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"url": "ftp://example.com/x"}, "http"),
     ({"url": "http://user:pw@93.184.216.34/"}, "user"),
     ({"url": "http://169.254.169.254/latest"}, "metadata"),
     ({"url": "http://[::ffff:10.0.0.1]/"}, "private"),
     ({"url": "http://0x7f.1/"}, "unusual"),
     ({"version": "v2", "content_type": "form"}, "JSON only"),
     ({"version": "v9"}, "Select a valid choice"),
     ({"url": "https://" + "a" * 2001 + ".com/"}, "at most 2000 characters")],
)
def test_bad_settings_are_a_400_with_a_message_and_nothing_saved(owner_client, agency, overrides, message):
    before = (WebhookEndpoint.objects.count(), AuditEvent.objects.count())
    response = save(owner_client, agency, **overrides)
    assert response.status_code == 400
    assert message.lower() in response.content.decode().lower()
    assert (WebhookEndpoint.objects.count(), AuditEvent.objects.count()) == before


def test_send_test_without_a_url_is_a_clear_400(owner_client, agency):
    response = owner_client.post(url("send_test", agency, mode="test"), HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Save an Endpoint URL first." in response.content.decode()


def test_send_test_returns_a_polling_result_and_saves_the_delivery(owner_client, agency, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    save(owner_client, agency)
    response = owner_client.post(url("send_test", agency, mode="test"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    delivery = Delivery.objects.get(merchant=agency)
    html = response.content.decode()
    assert delivery.message_id in html
    assert 'hx-trigger="every 500ms"' in html or "Received" in html or "Not received" in html
    result = owner_client.get(url("delivery_result", agency, message_id=delivery.message_id))
    assert result.status_code == 200 and result["Cache-Control"].startswith("max-age=0")


def test_broker_down_on_send_test_says_so_and_keeps_the_delivery(owner_client, agency, monkeypatch):
    from webhooks import tasks

    save(owner_client, agency)

    def unreachable(*args, **kwargs):
        from kombu.exceptions import OperationalError
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(tasks.deliver, "apply_async", unreachable)
    response = owner_client.post(url("send_test", agency, mode="test"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "cannot be reached right now" in response.content.decode()
    delivery = Delivery.objects.get(merchant=agency)
    assert delivery.status == "pending" and delivery.enqueued_at is None
    # without htmx the page says it too, after the redirect
    page = owner_client.post(url("send_test", agency, mode="test"), follow=True)
    assert "cannot be reached right now" in page.content.decode()


def test_reveal_rotate_and_expire_secrets(owner_client, agency):
    save(owner_client, agency)
    endpoint = WebhookEndpoint.objects.get(merchant=agency, mode="test")
    first = endpoint.secrets.get()
    reveal = owner_client.post(url("secret_reveal", agency, mode="test", secret_id=first.pk), HTTP_HX_REQUEST="true")
    assert reveal.status_code == 200 and "no-store" in reveal["Cache-Control"]
    value = services.secret_reveal(actor=Actor(), endpoint=endpoint, secret_id=first.pk)
    assert value.startswith("whsec_") and len(value) == 6 + 44 and value in reveal.content.decode()
    assert value not in owner_client.get(url("settings", agency)).content.decode()

    owner_client.post(url("secret_rotate", agency, mode="test"))
    active = services.active_secrets(endpoint)
    assert len(active) == 2 and active[1] == first and active[1].expires_at is not None
    owner_client.post(url("secret_rotate", agency, mode="test"))
    assert len(services.active_secrets(endpoint)) == 2  # never more than two
    newest, older = services.active_secrets(endpoint)
    refused = owner_client.post(url("secret_expire", agency, mode="test", secret_id=newest.pk), follow=True)
    assert "The newest secret cannot be expired" in refused.content.decode()
    owner_client.post(url("secret_expire", agency, mode="test", secret_id=older.pk))
    assert services.active_secrets(endpoint) == [newest]
    actions = set(AuditEvent.objects.filter(merchant=agency, action__startswith="webhook_secret")
                  .values_list("action", flat=True))
    assert actions == {"webhook_secret.reveal", "webhook_secret.rotate", "webhook_secret.expire"}
    for event in AuditEvent.objects.filter(action__startswith="webhook_secret"):
        assert value not in str(event.changed_fields) + event.target_repr


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_read_only_roles_cannot_send_reveal_or_resend(client, agency, role):
    services.endpoint_save(actor=Actor(), merchant=agency, mode="test", url="http://127.0.0.1:9/h",
                           content_type="json", version="v1")
    endpoint = WebhookEndpoint.objects.get(merchant=agency)
    client.force_login(make_member(agency, role))
    html = client.get(url("settings", agency)).content.decode()
    assert "http://127.0.0.1:9/h" in html
    for label in (">Send test<", ">Reveal<", ">Rotate secret<", ">Save<"):
        assert label not in html
    secret = endpoint.secrets.first()
    assert client.post(url("secret_reveal", agency, mode="test", secret_id=secret.pk)).status_code == 403
    assert client.post(url("send_test", agency, mode="test")).status_code == 403


def test_sub_merchant_uses_the_agency_webhook_until_it_chooses_its_own(client, agency):
    sub = make_sub_merchant(agency, "S01")
    services.endpoint_save(actor=Actor(), merchant=agency, mode="live", url="http://127.0.0.1:9/agency",
                           content_type="json", version="v1")
    client.force_login(make_member(agency, "owner"))
    html = client.get(url("settings", sub)).content.decode()
    assert "Notifications go to the webhook of the agency" in html and "http://127.0.0.1:9/agency" in html
    assert 'aria-label="Live webhook"' not in html  # no form of its own while it uses the agency's
    client.post(url("own", sub), {"use_own": "1"})
    sub.refresh_from_db()
    assert sub.webhook_same_as_agency is False
    assert "uses its own webhook" in client.get(url("settings", sub)).content.decode()
    assert AuditEvent.objects.filter(action="merchant.webhook_same_as_agency", merchant=sub).exists()
    assert client.post(url("own", agency), {"use_own": "1"}, follow=True).status_code == 200  # agency: refused
    agency.refresh_from_db()
    assert agency.webhook_same_as_agency is True


def _deliveries(merchant, n, **kw):
    endpoint = services.endpoint_ensure(merchant=merchant, mode=kw.get("mode", "test"))
    Delivery.objects.bulk_create([
        Delivery(merchant=merchant, endpoint=endpoint, mode=kw.get("mode", "test"), trigger=kw.get("trigger", "test"),
                 event="paid", url="http://127.0.0.1:9/h", content_type="json", version="v1",
                 body=f'{{"n": {i}}}', status=kw.get("status", "succeeded"), attempt_count=1, last_status_code=200)
        for i in range(n)
    ])


def test_delivery_log_filters_and_pages_with_bounded_queries(owner_client, agency, django_assert_max_num_queries):
    _deliveries(agency, 60)
    _deliveries(agency, 5, status="failed", trigger="event", mode="live")
    with django_assert_max_num_queries(12):
        response = owner_client.get(url("deliveries", agency))
    html = response.content.decode()
    assert response.status_code == 200 and "Page 1 of 3" in html
    failed = owner_client.get(url("deliveries", agency) + "?status=failed&trigger=event&mode=live").content.decode()
    assert failed.count("badge text-bg-danger") == 5 and "Page 1 of" not in failed
    assert owner_client.get(url("deliveries", agency) + "?status=bogus&page=abc").status_code == 200
    assert "No delivery matches." in owner_client.get(url("deliveries", agency) + "?status=retrying").content.decode()


def test_delivery_detail_shows_every_attempt(owner_client, agency):
    _deliveries(agency, 1)
    delivery = Delivery.objects.get(merchant=agency)
    delivery.attempts.create(number=1, request_headers={"webhook-id": delivery.message_id}, request_body="{}",
                             response_status=500, response_body="first failure", error_kind="http_status",
                             error_message="The receiver answered 500.")
    delivery.attempts.create(number=2, request_headers={"webhook-id": delivery.message_id}, request_body="{}",
                             response_status=200, response_headers={"X-Receiver": "yes"},
                             response_body="<b>fine</b>")
    html = owner_client.get(url("delivery", agency, message_id=delivery.message_id)).content.decode()
    assert "Attempt 1" in html and "Attempt 2" in html and "first failure" in html
    assert "&lt;b&gt;fine&lt;/b&gt;" in html  # the receiver's body is escaped
    assert "Resend" in html


def test_resend_of_a_delivery_being_sent_sends_nothing_more(owner_client, agency):
    """A worker holds it (its lease runs): Resend queues no second send beside it."""
    from datetime import timedelta

    from django.utils import timezone

    save(owner_client, agency)
    _deliveries(agency, 1, status="retrying")
    Delivery.objects.update(next_attempt_at=timezone.now(), locked_until=timezone.now() + timedelta(seconds=60))
    delivery = Delivery.objects.get(merchant=agency)
    before = AuditEvent.objects.filter(action="webhook.resend").count()
    response = owner_client.post(url("resend", agency, message_id=delivery.message_id), follow=True)
    assert "being sent right now" in response.content.decode()
    assert AuditEvent.objects.filter(action="webhook.resend").count() == before


def test_admin_lists_and_notify_action(client, agency):
    services.endpoint_save(actor=Actor(), merchant=agency, mode="live", url="http://127.0.0.1:9/h",
                           content_type="json", version="v1")
    endpoint = WebhookEndpoint.objects.get(merchant=agency, mode="live")
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    for name in ("webhookendpoint", "webhooksecret", "delivery"):
        assert client.get(reverse(f"admin:webhooks_{name}_changelist")).status_code == 200
    secret = endpoint.secrets.first()
    value = services.secret_reveal(actor=Actor(), endpoint=endpoint, secret_id=secret.pk)
    html = client.get(reverse("admin:webhooks_webhooksecret_change", args=[secret.pk])).content.decode()
    assert value not in html and secret.secret_encrypted not in html
    changelist = reverse("admin:webhooks_webhookendpoint_changelist")
    form = client.post(changelist, {"action": "notify_event", "_selected_action": [endpoint.pk]})
    assert form.status_code == 200 and "imp_uid" in form.content.decode()
    done = client.post(changelist, {"action": "notify_event", "_selected_action": [endpoint.pk], "apply": "1",
                                    "imp_uid": "imp_9", "merchant_uid": "order_9", "status": "paid"})
    assert done.status_code == 302
    delivery = Delivery.objects.get(merchant=agency, trigger="event")
    assert delivery.body == '{"imp_uid":"imp_9","merchant_uid":"order_9","status":"paid"}'


def test_notify_command(agency, capsys):
    services.endpoint_save(actor=Actor(), merchant=agency, mode="live", url="http://127.0.0.1:9/h",
                           content_type="json", version="v2")
    call_command("notify_webhook", agency.code, "--imp-uid", "imp_7", "--merchant-uid", "o_7",
                 "--status", "cancelled", "--cancellation-id", "c_7")
    delivery = Delivery.objects.get(merchant=agency)
    assert delivery.event == "Transaction.Cancelled" and '"cancellationId":"c_7"' in delivery.body
    assert delivery.message_id in capsys.readouterr().out
    from django.core.management.base import CommandError
    with pytest.raises(CommandError):
        call_command("notify_webhook", "imp00000000", "--imp-uid", "a", "--merchant-uid", "b", "--status", "paid")


def test_secret_table_never_holds_a_value_in_clear(agency):
    from django.db import connection

    endpoint = services.endpoint_ensure(merchant=agency, mode="live")
    value = services.secret_reveal(actor=Actor(), endpoint=endpoint, secret_id=endpoint.secrets.first().pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM webhooks_webhooksecret")
        assert value not in repr(cursor.fetchall())
    assert WebhookSecret.objects.count() == 1
