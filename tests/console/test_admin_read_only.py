"""Read-only admin pages delete nothing, not even for a superuser: whitelist rules, webhook
endpoints, signing secrets and deliveries change only through the console's services, which
validate and audit. No delete action, the delete view answers 403, and the row stays."""

import pytest
from django.urls import reverse

from api_keys.services.whitelist import whitelist_save
from console.models import WhitelistRule
from console.tenancy.audit import Actor
from tests.factories import OperatorFactory
from webhooks import services as webhook_services
from webhooks.models import WebhookEndpoint, WebhookSecret

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(OperatorFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def rows(agency):
    whitelist_save(actor=Actor(), merchant=agency, enabled=True, rows=[("203.0.113.0/24", "office")])
    webhook_services.endpoint_save(actor=Actor(), merchant=agency, mode="live",
                                   url="http://127.0.0.1:9/h", content_type="json", version="v1")
    endpoint = WebhookEndpoint.objects.get(merchant=agency, mode="live")
    delivery = webhook_services.notify_event(merchant=agency, mode="live", imp_uid="imp_1",
                                             merchant_uid="order_1", status="paid")
    return {
        "console_whitelistrule": WhitelistRule.objects.get(merchant=agency),
        "webhooks_webhookendpoint": endpoint,
        "webhooks_webhooksecret": WebhookSecret.objects.filter(endpoint=endpoint).first(),
        "webhooks_delivery": delivery,
    }


MODELS = ["console_whitelistrule", "webhooks_webhookendpoint", "webhooks_webhooksecret",
          "webhooks_delivery"]


@pytest.mark.parametrize("model", MODELS)
def test_a_superuser_cannot_delete_read_only_rows_in_the_admin(superuser_client, rows, model):
    row = rows[model]
    assert row is not None
    changelist = reverse(f"admin:{model}_changelist")
    page = superuser_client.get(changelist)
    assert page.status_code == 200
    form = page.context["action_form"]
    choices = [name for name, _label in form.fields["action"].choices] if form else []
    assert "delete_selected" not in choices
    delete = reverse(f"admin:{model}_delete", args=[row.pk])
    assert superuser_client.get(delete).status_code == 403
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    superuser_client.post(changelist, {"action": "delete_selected", "_selected_action": [row.pk],
                                       "post": "yes"})
    assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", MODELS)
def test_a_superuser_cannot_add_or_change_read_only_rows_in_the_admin(superuser_client, rows, model):
    row = rows[model]
    assert superuser_client.get(reverse(f"admin:{model}_add")).status_code == 403
    change = reverse(f"admin:{model}_change", args=[row.pk])
    assert superuser_client.get(change).status_code == 200  # to look at
    assert superuser_client.post(change, {}).status_code == 403

