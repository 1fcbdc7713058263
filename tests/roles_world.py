"""The world the permission matrix (tests/accounts/test_accounts.py) is tried in, and each action in it.

An agency with one sub-merchant that uses its own webhook. On each of the two: a viewer to
change or remove, an open invitation, a live channel of its own, a test webhook endpoint with
its signing secret and one delivery. The agency also holds an API key. Each action is a
request (method, URL, data) against one of the two merchants; the matrix says what each role
gets back.
"""

from dataclasses import dataclass

from django.urls import reverse

from accounts.services import invitations
from api_keys.services.api_keys import api_key_create
from console.models import Membership, Merchant, Operator
from console.tenancy.audit import SYSTEM, Actor
from webhooks import services as webhook_services
from webhooks.models import Delivery

from .factories import make_channel, make_member, make_merchant, make_sub_merchant

# The columns of the matrix: an agency's five roles, then a sub-merchant's own two.
ROLES = ["owner", "admin", "manager", "developer", "viewer", "sub_manager", "sub_viewer"]
SUB_ROLES = {"sub_manager": "manager", "sub_viewer": "viewer"}  # stored on the sub-merchant


@dataclass
class Place:
    """What the actions act on, at one merchant."""

    merchant: Merchant
    target: Membership  # a viewer of this merchant itself
    invitation_id: int
    channel_key: str
    secret_id: int
    message_id: str


@dataclass
class World:
    agency: Merchant
    sub: Merchant
    owner: Operator
    places: dict[str, Place]  # "agency", "sub"
    api_key_id: int

    def operator(self, role: str) -> Operator:
        """A new operator holding ``role``: an agency role on the agency, a sub-merchant role
        on the sub-merchant (the agency's first owner for "owner")."""
        if role == "owner":
            return self.owner
        if role in SUB_ROLES:
            return make_member(self.sub, SUB_ROLES[role])
        return make_member(self.agency, role)


def _place(merchant: Merchant, owner: Operator) -> Place:
    target = Membership.objects.get(operator=make_member(merchant, "viewer"), merchant=merchant)
    invitation = invitations.invitation_create(
        actor=Actor(user=owner), merchant=merchant, email=f"pending@{merchant.code}.test", role="viewer",
        actor_role="owner",
    )
    channel = make_channel(merchant)
    endpoint = webhook_services.endpoint_save(
        actor=SYSTEM, merchant=merchant, mode="test", url="http://127.0.0.1:9/hook", content_type="json",
        version="v1",
    )
    delivery = Delivery.objects.create(
        merchant=merchant, endpoint=endpoint, mode="test", trigger="test", event="paid",
        url="http://127.0.0.1:9/hook", content_type="json", version="v1", body="{}", status="succeeded",
    )
    return Place(merchant=merchant, target=target, invitation_id=invitation.pk, channel_key=channel.channel_key,
                 secret_id=endpoint.secrets.first().pk, message_id=delivery.message_id)


def world_build() -> World:
    agency = make_merchant("Acme Agency")
    owner = make_member(agency, "owner")
    sub = make_sub_merchant(agency, "A01", name="Acme Seoul")
    sub = webhook_services.sub_merchant_set_own_webhook(actor=SYSTEM, merchant=sub, use_own=True)
    api_key = api_key_create(actor=SYSTEM, merchant=agency, name="order server").api_key
    return World(agency=agency, sub=sub, owner=owner, api_key_id=api_key.pk,
                 places={"agency": _place(agency, owner), "sub": _place(sub, owner)})


def _hook(mode="test", **fields):
    return {f"{mode}-{name}": value for name, value in fields.items()}


def action_request(name: str, world: World, where: str) -> tuple[str, str, dict | None]:
    """(method, url, data) of the action ``name`` on the merchant ``where``."""
    place = world.places[where]
    code = {"merchant_code": place.merchant.code}
    member = {**code, "member_id": place.target.pk}
    invitation = {**code, "invitation_id": place.invitation_id}
    channel = {**code, "channel_key": place.channel_key}
    secret = {**code, "mode": "test", "secret_id": place.secret_id}
    delivery = {**code, "message_id": place.message_id}
    key = {**code, "key_id": world.api_key_id}
    get, post = "get", "post"
    return {
        # Accounts
        "accounts.view": (get, reverse("console:accounts", kwargs=code), None),
        "accounts.invite": (post, reverse("console:accounts", kwargs=code),
                            {"email": "someone@example.test", "role": "viewer", "memo": "Front desk"}),
        "accounts.change_role": (post, reverse("console:member_role", kwargs=member), {"role": "manager"}),
        "accounts.memo": (post, reverse("console:member_memo", kwargs=member), {"memo": "Night shift"}),
        "accounts.remove": (post, reverse("console:member_remove", kwargs=member), {}),
        "accounts.resend": (post, reverse("console:invitation_resend", kwargs=invitation), {}),
        "accounts.revoke": (post, reverse("console:invitation_revoke", kwargs=invitation), {}),
        "accounts.two_factor": (post, reverse("console:two_factor_policy", kwargs=code),
                                {"require_two_factor": "on"}),
        # Sub-merchants (the agency's page)
        "sub_merchants.view": (get, reverse("console:sub_merchants", kwargs=code), None),
        "sub_merchants.add": (post, reverse("console:sub_merchants", kwargs=code),
                              {"name": "New store", "tier_code": "N01"}),
        "sub_merchants.edit": (post, reverse("console:sub_merchant_edit",
                                             kwargs={**code, "sub_merchant_id": world.sub.pk}),
                               {"name": "Acme Seoul 2", "tier_code": "A01"}),
        # Audit log
        "audit.view": (get, reverse("console:audit_log", kwargs=code), None),
        # IDs & API keys
        "api_keys.view": (get, reverse("console:api_keys", kwargs=code), None),
        "api_keys.create": (post, reverse("console:api_keys", kwargs=code), {"name": "billing"}),
        "api_keys.reissue": (post, reverse("console:api_key_reissue", kwargs=key), {}),
        "api_keys.revoke": (post, reverse("console:api_key_revoke", kwargs=key), {}),
        # Whitelist
        "whitelist.view": (get, reverse("console:whitelist", kwargs=code), None),
        "whitelist.save": (post, reverse("console:whitelist", kwargs=code),
                           {"enabled": "on", "cidr": "203.0.113.0/24", "memo": "office"}),
        "whitelist.row": (get, reverse("console:whitelist_row", kwargs=code), None),
        # Channels
        "channels.view": (get, reverse("channels:list", kwargs=code), None),
        "channels.new": (get, reverse("channels:new", kwargs=code), None),
        "channels.edit": (get, reverse("channels:edit", kwargs=channel), None),
        "channels.disable": (post, reverse("channels:set_enabled", kwargs=channel), {"enabled": "0"}),
        "channels.make_default": (post, reverse("channels:make_default", kwargs=channel), {}),
        "channels.assign": (post, reverse("channels:assign", kwargs=channel),
                            {"assigned_to": world.sub.code if where == "agency" else ""}),
        "channels.delete": (post, reverse("channels:delete", kwargs=channel), {}),
        # Webhooks
        "webhooks.view": (get, reverse("webhooks:settings", kwargs=code), None),
        "webhooks.save": (post, reverse("webhooks:save", kwargs={**code, "mode": "test"}),
                          _hook(url="http://127.0.0.1:9/other", content_type="json", version="v1", enabled="on")),
        "webhooks.send_test": (post, reverse("webhooks:send_test", kwargs={**code, "mode": "test"}), {}),
        "webhooks.own": (post, reverse("webhooks:own", kwargs=code), {"use_own": "0"}),
        "webhooks.reveal": (post, reverse("webhooks:secret_reveal", kwargs=secret), {}),
        "webhooks.rotate": (post, reverse("webhooks:secret_rotate", kwargs={**code, "mode": "test"}), {}),
        "webhooks.expire": (post, reverse("webhooks:secret_expire", kwargs=secret), {}),
        "webhooks.deliveries": (get, reverse("webhooks:deliveries", kwargs=code), None),
        "webhooks.delivery": (get, reverse("webhooks:delivery", kwargs=delivery), None),
        "webhooks.delivery_result": (get, reverse("webhooks:delivery_result", kwargs=delivery), None),
        "webhooks.resend": (post, reverse("webhooks:resend", kwargs=delivery), {}),
        "webhooks.recover_review": (get, reverse("webhooks:recover", kwargs={**code, "mode": "test"})
                                    + "?since=2026-01-01T00:00", None),
        "webhooks.recover": (post, reverse("webhooks:recover", kwargs={**code, "mode": "test"}),
                             {"since": "2026-01-01T00:00"}),
    }[name]
