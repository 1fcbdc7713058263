"""The kernel's registries (issue 21): the apps, not the kernel, name their audit actions and
their encrypted columns, each from its own ``AppConfig.ready()``."""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from console.models import AuditEvent
from console.tenancy import audit_actions
from console.tenancy.crypto import encrypted_fields
from tests.console.test_audit import CODES_IN_USE
from tests.factories import OperatorFactory


def _codes_in_migrations() -> set[str]:
    """Every action code the audit column ever listed as a choice, migration by migration (the
    codes stored rows can carry)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    codes = set()
    for node in loader.graph.nodes:
        if node[0] != "console":
            continue
        model = loader.project_state(node).models.get(("console", "auditevent"))
        if model is not None:
            codes |= {code for code, _label in model.fields["action"].choices or ()}
    return codes


def test_every_code_ever_stored_is_registered_with_a_label():
    codes = _codes_in_migrations() | CODES_IN_USE
    assert len(codes) >= 49  # the walk found the vocabulary of migration 0014
    registered = dict(audit_actions.choices())
    assert codes <= set(registered), sorted(codes - set(registered))
    for code in codes:
        label = audit_actions.label(code)
        assert label == registered[code] and label and label != code, code


def test_the_column_lists_no_choices_and_the_registry_labels_unknown_codes_as_they_are():
    assert not AuditEvent._meta.get_field("action").choices
    assert audit_actions.label("retired.code") == "retired.code"
    assert not audit_actions.is_registered("retired.code")
    assert AuditEvent(action="billing_key.delete").action_label() == "Billing key deleted"


def test_two_apps_cannot_register_the_same_code():
    class Clash(models.TextChoices):
        BRAND_NEW = "clash.brand_new", "Something new"
        CANCEL = "payment.cancel", "Someone else's cancel"

    before = audit_actions.choices()
    with pytest.raises(ImproperlyConfigured, match="payment.cancel"):
        audit_actions.register(Clash)
    assert audit_actions.choices() == before  # nothing of the refused class, not even its new code
    assert audit_actions.label("payment.cancel") == "Payment cancelled"

    payments_actions = apps.get_app_config("payments").module.audit.AuditAction
    audit_actions.register(payments_actions)  # the same class again: nothing changes
    assert audit_actions.choices() == before


def test_every_encrypted_column_of_every_installed_model_is_registered():
    columns = {
        (model._meta.label, field.name)
        for model in apps.get_models() for field in model._meta.fields if field.name.endswith("_encrypted")
    }
    registered = [(model._meta.label, field) for model, field in encrypted_fields()]
    assert len(columns) >= 5
    assert set(registered) == columns and len(registered) == len(columns)


@pytest.mark.django_db
def test_the_admin_labels_actions_and_filters_by_every_registered_one(client, agency):
    AuditEvent.objects.create(merchant=agency, action="merchant.update", target_type="console.merchant",
                              target_repr="Acme")
    AuditEvent.objects.create(merchant=agency, action="retired.code", target_type="console.merchant",
                              target_repr="Old")
    client.force_login(OperatorFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:console_auditevent_changelist")
    html = client.get(url).content.decode()
    assert "Merchant profile changed" in html and "retired.code" in html
    assert "?action=billing_key.delete" in html and "Billing key deleted" in html  # no row, still listed
    filtered = client.get(url, {"action": "merchant.update"}).content.decode()
    assert "Acme" in filtered and "Old" not in filtered
