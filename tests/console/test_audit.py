"""The audit vocabulary (each app's ``AuditAction``, registered with the kernel) and the old and
new values an audit row keeps.

Fields that are not secret keep ``{"old": ..., "new": ...}`` in ``changes``; a secret
appears only by name in ``changed_fields``, and its value is never anywhere in the row.
"""

import ast
import importlib
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise

from accounts import services
from accounts.audit import AuditAction
from api_keys.services import api_keys
from api_keys.services.whitelist import whitelist_save
from channels import services as channel_services
from channels.services import ChannelInput
from console.models import AuditEvent, Membership
from console.tenancy import audit_actions
from console.tenancy.audit import SYSTEM, Actor, audit_event, audit_record, json_safe
from console.tenancy.crypto import decrypt_text
from console.tenancy.roles import Role
from tests.factories import make_channel, make_member, make_sub_merchant
from webhooks import services as webhook_services
from webhooks.services import engine as webhook_engine

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("console", "channels", "webhooks", "payments", "accounts", "api_keys", "shell", "ops")
# The apps that declare audit actions (``<app>/audit.py``).
ACTION_APPS = ("accounts", "api_keys", "channels", "payments", "webhooks")
AUDIT_CALLS = {"audit_record", "audit_event", "_audit"}
# The codes in use before the vocabulary existed: stored rows carry them, so they stay.
CODES_IN_USE = {
    "api_key.create", "api_key.reissue", "api_key.revoke", "channel.assign", "channel.unassign",
    "channel.create", "channel.create_shared_test", "channel.default_set", "channel.default_unset",
    "channel.delete", "channel.enable", "channel.disable", "channel.update", "invitation.accept",
    "invitation.create", "invitation.resend", "invitation.revoke", "membership.create",
    "membership.delete", "membership.update", "merchant.create", "merchant.update",
    "merchant.webhook_same_as_agency", "shared_test_credential.create",
    "shared_test_credential.update", "sub_merchant.create", "sub_merchant.update",
    "two_factor.enrol", "two_factor.recovery_codes", "two_factor.reset", "webhook.notify",
    "webhook.resend", "webhook.send_test", "webhook_endpoint.disabled_gone",
    "webhook_endpoint.update", "webhook_secret.expire", "webhook_secret.reveal",
    "webhook_secret.rotate", "whitelist.update",
}
SITE_KEY = "kcp-site-key-AUDIT-SECRET-41c7"


def _sources():
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def _call_name(node: ast.Call) -> str:
    return getattr(node.func, "id", None) or getattr(node.func, "attr", "")


def _row_text(event: AuditEvent) -> str:
    row = AuditEvent.objects.filter(pk=event.pk).values().get()
    return json.dumps(row, default=str)


def _latest(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("id")


# --- The vocabulary ------------------------------------------------------------------


def _actions_of(tree: ast.Module):
    """The ``AuditAction`` a module imports: its app's (``from <app>.audit import AuditAction``)."""
    for node in tree.body:
        if (isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".audit")
                and any(alias.name == "AuditAction" for alias in node.names)):
            return importlib.import_module(node.module).AuditAction
    return None


def test_every_action_in_the_code_is_a_member_of_the_vocabulary():
    used, calls = set(), 0
    for path, tree in _sources():
        actions = _actions_of(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "AuditAction"
                    and node.attr.isupper()):  # a member, not .choices or .values
                assert actions is not None, f"{path}: AuditAction without its app's import"
                assert node.attr in actions.__members__, f"{path}: {actions.__module__}.AuditAction.{node.attr}"
                used.add(actions[node.attr].value)
            if isinstance(node, ast.Call) and _call_name(node) in AUDIT_CALLS:
                if any(k.arg is None for k in node.keywords):
                    continue  # audit_record passing its arguments through to audit_event
                action = next((k.value for k in node.keywords if k.arg == "action"), None)
                assert action is not None, f"{path}:{node.lineno} audits without an action"
                literals = [n.value for n in ast.walk(action)
                            if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                assert not literals, f"{path}:{node.lineno}: a string action {literals}; use AuditAction"
                calls += 1
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and audit_actions.is_registered(node.value) and path.name != "audit.py"):
                pytest.fail(f"{path}:{node.lineno}: the action {node.value!r} as a string literal")
    registered = {code for code, _label in audit_actions.choices()}
    assert calls >= 35  # the walk found the services' calls
    assert used == registered, "a member no service uses"
    assert CODES_IN_USE <= registered


def test_labels_are_translatable_and_written_for_operators():
    for app in ACTION_APPS:
        for action in importlib.import_module(f"{app}.audit").AuditAction:
            assert isinstance(action.label, Promise), action  # gettext_lazy
            assert str(action.label)[0].isupper() and "." not in str(action.label).rstrip(")"), action
            assert audit_actions.label(action.value) == str(action.label)
    assert not AuditEvent._meta.get_field("action").choices  # the registry labels it, not the column
    assert audit_actions.label("webhook_endpoint.update") == "Webhook endpoint changed"  # the stored value


def test_an_unknown_action_or_a_secret_with_values_is_refused(agency):
    with pytest.raises(ValueError):
        audit_event(actor=SYSTEM, merchant=agency, action="merchant.renamed", target=agency)
    for name in ("secret", "credentials.site_key", "token", "password", "recovery_codes"):
        with pytest.raises(ValueError, match="looks secret"):
            audit_event(actor=SYSTEM, merchant=agency, action=AuditAction.MERCHANT_UPDATE,
                        target=agency, changes={name: ("a", "b")})


def test_values_are_made_json_safe(agency):
    assert json_safe(Role.MANAGER) == "manager" and type(json_safe(Role.MANAGER)) is str
    assert json_safe(date(2026, 5, 1)) == "2026-05-01"
    assert json_safe(Decimal("1.50")) == "1.50"
    assert json_safe(agency) == "Acme Agency"
    assert json_safe(["10.0.0.0/8", "192.0.2.0/24"]) == ["10.0.0.0/8", "192.0.2.0/24"]
    assert json_safe((True, None, 3)) == [True, None, 3]
    with transaction.atomic():
        event = audit_record(actor=SYSTEM, merchant=agency, action=AuditAction.MERCHANT_UPDATE,
                             target=agency, changed_fields=["token"],
                             changes={"require_two_factor": (False, True)})
    event.refresh_from_db()
    assert event.changed_fields == ["require_two_factor", "token"]
    assert event.changes == {"require_two_factor": {"old": False, "new": True}}


# --- Old and new values ------------------------------------------------------------


def test_a_role_change_records_the_old_and_the_new_role(agency, owner):
    member = make_member(agency, "viewer")
    membership = Membership.objects.get(operator=member, merchant=agency)
    created = AuditEvent.objects.filter(action="membership.create", target_id=str(membership.pk)).get()
    assert created.changes["role"] == {"old": None, "new": "viewer"}
    assert created.changes["operator"] == {"old": None, "new": member.email}

    services.membership_set_role(actor=Actor(user=owner), membership=membership, role="manager",
                                 actor_role="owner")
    event = _latest("membership.update")
    assert event.changed_fields == ["role"]
    assert event.changes == {"role": {"old": "viewer", "new": "manager"}}

    services.membership_delete(actor=Actor(user=owner), membership=membership, actor_role="owner")
    assert _latest("membership.delete").changes == {"role": {"old": "manager", "new": None}}


def test_a_whitelist_change_records_the_rules_and_the_switch(agency):
    whitelist_save(actor=Actor(), merchant=agency, enabled=False, rows=[("198.51.100.0/24", "")])
    first = _latest("whitelist.update")
    assert first.changes == {"rules": {"old": [], "new": ["198.51.100.0/24"]}}
    whitelist_save(actor=Actor(), merchant=agency, enabled=True,
                   rows=[("198.51.100.0/24", ""), ("203.0.113.0/24", "office")])
    event = _latest("whitelist.update")
    assert event.changed_fields == ["enabled", "rules"]
    assert event.changes == {
        "enabled": {"old": False, "new": True},
        "rules": {"old": ["198.51.100.0/24"], "new": ["198.51.100.0/24", "203.0.113.0/24 (office)"]},
    }


def test_a_webhook_url_change_records_the_old_and_the_new_url(agency):
    def save(url, **kw):
        values = dict(content_type="json", version="v1", enabled=True) | kw
        return webhook_services.endpoint_save(actor=Actor(), merchant=agency, mode="test", url=url,
                                              **values)

    save("http://127.0.0.1:9/old")
    save("http://127.0.0.1:9/new")
    event = _latest("webhook_endpoint.update")
    assert event.changes == {"url": {"old": "http://127.0.0.1:9/old", "new": "http://127.0.0.1:9/new"}}
    save("http://127.0.0.1:9/new", version="v2", enabled=False)
    event = _latest("webhook_endpoint.update")
    assert event.changes == {"version": {"old": "v1", "new": "v2"},
                             "enabled": {"old": True, "new": False}}


def test_an_endpoint_disabled_by_410_records_the_switch(agency):
    endpoint = webhook_services.endpoint_save(actor=Actor(), merchant=agency, mode="test",
                                              url="http://127.0.0.1:9/gone", content_type="json",
                                              version="v1")
    with transaction.atomic():
        webhook_engine._disable_gone(endpoint)
    event = _latest("webhook_endpoint.disabled_gone")
    assert event.actor is None and event.changes == {"enabled": {"old": True, "new": False}}


def test_a_merchant_rename_and_a_sub_merchant_edit_record_old_and_new(agency, owner):
    services.merchant_update(actor=Actor(user=owner), merchant=agency, name="Acme Group")
    event = _latest("merchant.update")
    assert event.changed_fields == ["name"]
    assert event.changes == {"name": {"old": "Acme Agency", "new": "Acme Group"}}

    sub = make_sub_merchant(agency, "BSN", name="Busan")
    assert _latest("sub_merchant.create").changes == {
        "name": {"old": None, "new": "Busan"}, "tier_code": {"old": None, "new": "BSN"}}
    services.merchant_update(actor=Actor(user=owner), merchant=sub, tier_code="bs2",
                             contact_phone="051-123-4567", webhook_same_as_agency=False)
    assert _latest("sub_merchant.update").changes == {
        "tier_code": {"old": "BSN", "new": "BS2"},
        "contact_phone": {"old": "", "new": "051-123-4567"},
        "webhook_same_as_agency": {"old": True, "new": False},
    }


def test_channel_changes_record_values_but_a_credential_only_by_name(agency, sub_merchant):
    def kcp(**overrides):
        values = dict(mode="live", provider="kcp", module="window_general", mid="A52Q7",
                      name="KCP card", credentials={"site_key": SITE_KEY}) | overrides
        return ChannelInput(**values)

    channel = channel_services.channel_create(actor=Actor(), merchant=agency, data=kcp())
    created = _latest("channel.create")
    assert created.changes["mid"] == {"old": None, "new": "A52Q7"}
    assert "credentials.site_key" in created.changed_fields
    assert SITE_KEY not in _row_text(created)

    new_key = "kcp-site-key-ROTATED-77aa"
    channel_services.channel_update(actor=Actor(), channel=channel,
                                    data=kcp(name="Card", credentials={"site_key": new_key}))
    event = _latest("channel.update")
    assert event.changed_fields == ["credentials.site_key", "name"]
    assert event.changes == {"name": {"old": "KCP card", "new": "Card"}}
    assert SITE_KEY not in _row_text(event) and new_key not in _row_text(event)

    channel_services.channel_assign(actor=Actor(), channel=channel, sub_merchant=sub_merchant)
    assert _latest("channel.assign").changes == {
        "assigned_to": {"old": None, "new": "Acme Seoul (A01)"}}
    channel_services.channel_set_enabled(actor=Actor(), channel=channel, enabled=False)
    assert _latest("channel.disable").changes == {"enabled": {"old": True, "new": False}}
    other = make_channel(agency, mid="DFLT1")  # an enabled channel of the agency's own
    channel_services.channel_make_default(actor=Actor(), channel=other)
    assert _latest("channel.default_set").changes == {"is_default": {"old": False, "new": True}}


def test_secret_rotation_and_api_secrets_leave_only_their_names(agency, owner):
    endpoint = webhook_services.endpoint_save(actor=Actor(), merchant=agency, mode="test",
                                              url="http://127.0.0.1:9/hook", content_type="json",
                                              version="v1")
    new = webhook_services.secret_rotate(actor=Actor(user=owner), endpoint=endpoint)
    value = decrypt_text(new.secret_encrypted)
    event = _latest("webhook_secret.rotate")
    assert event.changed_fields == ["secret"] and event.changes == {}
    text = _row_text(event)
    assert value not in text and value.removeprefix("whsec_") not in text

    expires = timezone.now() + timedelta(days=30)
    issued = api_keys.api_key_create(actor=Actor(user=owner), merchant=agency, name="order server",
                                     expires_at=expires)
    event = _latest("api_key.create")
    assert event.changed_fields == ["expires_at", "name", "secret"]
    assert event.changes["name"] == {"old": None, "new": "order server"}
    assert event.changes["expires_at"] == {"old": None, "new": str(expires)}
    reissued = api_keys.api_key_reissue(actor=Actor(user=owner), api_key=issued.api_key)
    api_keys.api_key_revoke(actor=Actor(user=owner), api_key=issued.api_key)
    assert _latest("api_key.revoke").changes["revoked_at"]["old"] is None
    for row in AuditEvent.objects.filter(merchant=agency):
        text = _row_text(row)
        assert issued.secret not in text and reissued.secret not in text


# --- The page ------------------------------------------------------------------------


def test_the_audit_page_shows_labels_and_old_to_new_values(client, agency, owner):
    services.merchant_update(actor=Actor(user=owner), merchant=agency, name="Acme <Group>")
    long_url = "https://example.com/" + "x" * 120
    services.merchant_update(actor=Actor(user=owner), merchant=agency, contact_name="Lee")
    sub = make_sub_merchant(agency, "LNG")
    services.merchant_update(actor=Actor(user=owner), merchant=sub, service_url=long_url)
    channel_services.channel_create(actor=Actor(), merchant=agency, data=ChannelInput(
        mode="live", provider="kcp", module="window_general", mid="A52Q7",
        credentials={"site_key": SITE_KEY}))
    client.force_login(owner)
    url = reverse("console:audit_log", kwargs={"merchant_code": agency.code})
    html = client.get(url).content.decode()

    assert "Merchant profile changed" in html and "merchant.update" in html  # label, then code
    assert "Acme Agency → Acme &lt;Group&gt;" in html and "<Group>" not in html
    assert "— → Lee" in html
    # a long value is cut, and whole in the title
    assert f'title="— → {long_url}"' in html and f"→ {long_url}<" not in html
    # a credential: its name, "changed", never the value
    assert "credentials.site_key" in html and ">changed<" in html and SITE_KEY not in html
    assert '<option value="merchant.update">Merchant profile changed</option>' in html
    assert '<option value="channel.create">Channel added</option>' in html

    filtered = client.get(url, {"action": "sub_merchant.update"}).content.decode()
    assert filtered.count("<tr>") - 1 == 1 and "Sub-merchant profile changed" in filtered


def test_rows_from_before_values_were_kept_still_show(client, agency, owner):
    AuditEvent.objects.create(merchant=agency, action="merchant.update", target_type="console.merchant",
                              target_repr="Old row", changed_fields=["name"])
    AuditEvent.objects.create(merchant=agency, action="retired.code", target_type="console.merchant",
                              target_repr="Older row")
    client.force_login(owner)
    response = client.get(reverse("console:audit_log", kwargs={"merchant_code": agency.code}))
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'title="name">[^<]+</span>: <em>changed</em>', html)  # by its label, the code on hover
    assert "retired.code" in html  # an unknown code shows as it is
