"""Every admin action needs a real permission, never just "view".

For each action: a staff user holding only the view_* permission does not see it on the
changelist, and a forged POST of it changes nothing and audits nothing; a staff user who
holds the action's permission (and is not a superuser) runs it, and it is audited.
"""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.services.invitations import invitation_create
from accounts.two_factor import services as two_factor
from console.models import AuditEvent, Invitation, TwoFactorDevice
from console.tenancy.audit import Actor
from tests.accounts.test_two_factor import enrol
from tests.factories import OperatorFactory, make_channel, make_member
from webhooks import services as webhook_services
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def staff_with(*perms: str):
    """A staff user (not a superuser) holding exactly these "app_label.codename" permissions."""
    user = OperatorFactory(is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def action_names(response) -> list[str]:
    form = response.context["action_form"]
    return [name for name, _label in form.fields["action"].choices if name] if form else []


def post_action(client, changelist: str, action: str, pks, *, follow=False, **extra):
    return client.post(reverse(changelist), {"action": action, "_selected_action": list(pks), **extra},
                       follow=follow)


def audit_count(**filters) -> int:
    return AuditEvent.objects.filter(**filters).count()


# --- Operators: "Reset two-factor login" ------------------------------------------------

RESET_CHANGELIST = "admin:console_operator_changelist"


def test_view_only_staff_cannot_reset_a_superusers_two_factor(client, agency):
    superuser = OperatorFactory(is_staff=True, is_superuser=True)
    enrol(superuser)
    client.force_login(staff_with("console.view_operator"))
    page = client.get(reverse(RESET_CHANGELIST))
    assert page.status_code == 200 and "reset_two_factor" not in action_names(page)
    post_action(client, RESET_CHANGELIST, "reset_two_factor", [superuser.pk])
    assert TwoFactorDevice.objects.filter(user=superuser, confirmed=True).exists()
    assert audit_count(action="two_factor.reset") == 0


def test_change_operator_alone_does_not_reset_two_factor(client, agency):
    operator = make_member(agency, "owner")
    enrol(operator)
    client.force_login(staff_with("console.view_operator", "console.change_operator"))
    assert "reset_two_factor" not in action_names(client.get(reverse(RESET_CHANGELIST)))
    post_action(client, RESET_CHANGELIST, "reset_two_factor", [operator.pk])
    assert two_factor.confirmed_device(operator) is not None
    assert audit_count(action="two_factor.reset") == 0


def test_staff_with_the_reset_permission_resets_two_factor_audited(client, agency):
    operator = make_member(agency, "owner")
    enrol(operator)
    staff = staff_with("console.view_operator", "console.reset_two_factor")
    client.force_login(staff)
    assert "reset_two_factor" in action_names(client.get(reverse(RESET_CHANGELIST)))
    response = post_action(client, RESET_CHANGELIST, "reset_two_factor", [operator.pk])
    assert response.status_code == 302
    assert not TwoFactorDevice.objects.filter(user=operator).exists()
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert (event.actor, event.target_id) == (staff, str(operator.pk))


def test_only_a_superuser_resets_a_superusers_two_factor(client, agency):
    superuser = OperatorFactory(is_staff=True, is_superuser=True)
    enrol(superuser)
    client.force_login(staff_with("console.view_operator", "console.reset_two_factor"))
    response = post_action(client, RESET_CHANGELIST, "reset_two_factor", [superuser.pk], follow=True)
    assert "only a superuser can reset a superuser" in response.content.decode()
    assert two_factor.confirmed_device(superuser) is not None
    assert audit_count(action="two_factor.reset") == 0


# --- Invitations: "Revoke" ----------------------------------------------------------------

INVITATION_CHANGELIST = "admin:console_invitation_changelist"


@pytest.fixture
def invitation(agency, owner):
    return invitation_create(actor=Actor(user=owner), merchant=agency, email="guest@example.test",
                             role="viewer", actor_role="owner")


def test_view_only_staff_cannot_revoke_an_invitation(client, invitation):
    client.force_login(staff_with("console.view_invitation"))
    page = client.get(reverse(INVITATION_CHANGELIST))
    assert page.status_code == 200 and "revoke" not in action_names(page)
    post_action(client, INVITATION_CHANGELIST, "revoke", [invitation.pk])
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
    assert audit_count(action="invitation.revoke") == 0


def test_staff_with_change_invitation_revokes_audited(client, invitation):
    staff = staff_with("console.view_invitation", "console.change_invitation")
    client.force_login(staff)
    assert "revoke" in action_names(client.get(reverse(INVITATION_CHANGELIST)))
    post_action(client, INVITATION_CHANGELIST, "revoke", [invitation.pk])
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None
    assert AuditEvent.objects.get(action="invitation.revoke").actor == staff
    # Still read-only: no add, no edit, no delete.
    assert client.get(reverse("admin:console_invitation_add")).status_code == 403
    assert client.get(reverse("admin:console_invitation_delete", args=[invitation.pk])).status_code == 403


# --- Channels: enable / disable -----------------------------------------------------------

CHANNEL_CHANGELIST = "admin:pgchannels_channel_changelist"


def test_view_only_staff_cannot_enable_or_disable_a_channel(client, agency):
    channel = make_channel(agency)
    client.force_login(staff_with("pgchannels.view_channel"))
    page = client.get(reverse(CHANNEL_CHANGELIST))
    assert page.status_code == 200 and not {"enable", "disable"} & set(action_names(page))
    post_action(client, CHANNEL_CHANGELIST, "disable", [channel.pk])
    channel.refresh_from_db()
    assert channel.enabled
    assert audit_count(action__in=["channel.enable", "channel.disable"]) == 0


def test_staff_with_change_channel_disables_and_enables_audited(client, agency):
    channel = make_channel(agency)
    staff = staff_with("pgchannels.view_channel", "pgchannels.change_channel")
    client.force_login(staff)
    assert {"enable", "disable"} <= set(action_names(client.get(reverse(CHANNEL_CHANGELIST))))
    post_action(client, CHANNEL_CHANGELIST, "disable", [channel.pk])
    channel.refresh_from_db()
    assert not channel.enabled
    post_action(client, CHANNEL_CHANGELIST, "enable", [channel.pk])
    channel.refresh_from_db()
    assert channel.enabled
    actions = list(AuditEvent.objects.filter(actor=staff).order_by("id").values_list("action", flat=True))
    assert actions == ["channel.disable", "channel.enable"]
    # The change form stays read-only: a POST to it changes nothing.
    assert client.post(reverse("admin:pgchannels_channel_change", args=[channel.pk]),
                       {"mid": "ZZZZZ"}).status_code == 403


# --- Webhook endpoints: "Notify a payment event" ------------------------------------------

ENDPOINT_CHANGELIST = "admin:webhooks_webhookendpoint_changelist"
PAID = {"apply": "1", "imp_uid": "imp_1", "merchant_uid": "order_1", "status": "paid"}


@pytest.fixture
def endpoint(agency):
    webhook_services.endpoint_save(actor=Actor(), merchant=agency, mode="live",
                                   url="http://127.0.0.1:9/h", content_type="json", version="v1")
    return WebhookEndpoint.objects.get(merchant=agency, mode="live")


def test_view_only_staff_cannot_send_a_signed_notification(client, endpoint):
    client.force_login(staff_with("webhooks.view_webhookendpoint"))
    page = client.get(reverse(ENDPOINT_CHANGELIST))
    assert page.status_code == 200 and "notify_event" not in action_names(page)
    form = post_action(client, ENDPOINT_CHANGELIST, "notify_event", [endpoint.pk])
    assert "imp_uid" not in form.content.decode()
    post_action(client, ENDPOINT_CHANGELIST, "notify_event", [endpoint.pk], **PAID)
    assert not Delivery.objects.filter(trigger="event").exists()
    assert audit_count(action="webhook.notify") == 0


def test_staff_with_send_notification_notifies_audited_and_the_endpoint_stays_read_only(client, endpoint):
    staff = staff_with("webhooks.view_webhookendpoint", "webhooks.send_notification")
    client.force_login(staff)
    assert "notify_event" in action_names(client.get(reverse(ENDPOINT_CHANGELIST)))
    response = post_action(client, ENDPOINT_CHANGELIST, "notify_event", [endpoint.pk], **PAID)
    assert response.status_code == 302
    delivery = Delivery.objects.get(trigger="event")
    assert delivery.body == '{"imp_uid":"imp_1","merchant_uid":"order_1","status":"paid"}'
    assert AuditEvent.objects.get(action="webhook.notify").actor == staff
    change = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    assert client.post(change, {"url": "http://127.0.0.1:9/other"}).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:9/h"
