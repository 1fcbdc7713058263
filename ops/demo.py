"""Demo data for a new installation: `python manage.py seed_demo`. Idempotent."""

import secrets
from dataclasses import dataclass, field

from django.db import transaction

from accounts import services
from channels.models import Channel
from channels.services import ChannelInput, channel_assign, channel_create, channel_make_default
from console.models import Membership, Merchant, Operator
from console.tenancy.audit import SYSTEM
from console.tenancy.roles import STAFF_AUTHORITY, Role

AGENCY_NAME = "Demo Agency"
SUB_MERCHANTS = [("Demo Store Seoul", "SEL"), ("Demo Store Busan", "BSN")]
AGENCY_OPERATORS = [
    ("owner@demo.test", "Demo Owner", Role.OWNER),
    ("admin@demo.test", "Demo Admin", Role.ADMIN),
    ("manager@demo.test", "Demo Manager", Role.MANAGER),
    ("developer@demo.test", "Demo Developer", Role.DEVELOPER),
    ("viewer@demo.test", "Demo Viewer", Role.VIEWER),
]
TIER_MANAGER = ("tier-manager@demo.test", "Demo Tier Manager", Role.MANAGER)
STAFF = ("staff@demo.test", "Demo Staff")


@dataclass
class SeedResult:
    agency: Merchant
    sub_merchants: list[Merchant]
    created_logins: list[str] = field(default_factory=list)
    existing_logins: list[str] = field(default_factory=list)
    password: str | None = None  # the new password, when one was generated or set

    @property
    def logins(self) -> list[str]:
        return self.created_logins + self.existing_logins


def _generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def seed_demo(*, password: str | None = None) -> SeedResult:
    """Create (or find) the demo agency, its sub-merchants and operators.

    With ``password`` set, every demo operator gets it (so re-running with the
    same DEMO_PASSWORD leaves the same state). Without it, operators created now
    get one generated password; existing ones keep theirs.
    """
    new_password = password or None
    generated = None

    agency = Merchant.objects.filter(name=AGENCY_NAME, parent=None).first()
    if agency is None:
        agency = services.merchant_create(actor=SYSTEM, name=AGENCY_NAME)
    subs = []
    for name, tier in SUB_MERCHANTS:
        sub = Merchant.objects.filter(parent=agency, tier_code=tier).first()
        if sub is None:
            sub = services.sub_merchant_create(actor=SYSTEM, agency=agency, name=name, tier_code=tier)
        subs.append(sub)

    result = SeedResult(agency=agency, sub_merchants=subs)

    def operator(email: str, full_name: str, *, staff: bool = False) -> Operator:
        nonlocal generated
        user = Operator.objects.filter(email=email).first()
        if user is None:
            if new_password is None and generated is None:
                generated = _generate_password()
            user = Operator.objects.create_user(
                email=email,
                password=new_password or generated,
                full_name=full_name,
                is_staff=staff,
                is_superuser=staff,
            )
            result.created_logins.append(email)
        else:
            if new_password is not None and not user.check_password(new_password):
                user.set_password(new_password)
                user.save(update_fields=["password"])
            result.existing_logins.append(email)
        return user

    def member(user: Operator, merchant: Merchant, role: Role) -> None:
        membership = Membership.objects.filter(operator=user, merchant=merchant).first()
        if membership is None:
            services.membership_create(actor=SYSTEM, operator=user, merchant=merchant, role=role,
                                       actor_role=STAFF_AUTHORITY)
        elif membership.role != role:
            services.membership_set_role(actor=SYSTEM, membership=membership, role=role,
                                         actor_role=STAFF_AUTHORITY)

    for email, full_name, role in AGENCY_OPERATORS:
        member(operator(email, full_name), agency, role)
    email, full_name, role = TIER_MANAGER
    member(operator(email, full_name), subs[0], role)
    operator(*STAFF, staff=True)

    _seed_channels(agency, subs)
    result.password = new_password or generated
    return result


# (provider, module, MID, name, credentials, assigned sub-merchant index or None)
DEMO_LIVE_CHANNELS = [
    ("kcp", "window_general", "A52Q7", "KCP card", {"site_key": "demo-kcp-site-key-0001"}, None),
    ("html5_inicis", "window_general", "demoinicis", "INICIS general",
     {"signkey": "demo-inicis-signkey-0002"}, 0),
    ("tosspayments", "window_general", "demo_toss01", "Toss Payments",
     {"client_key": "live_ck_demo0003", "secret_key": "live_sk_demo0003secret"}, 1),
    ("kakaopay", "window_simple", "CDEMO00001", "Kakao Pay", {}, None),
    ("nice", "api_keyin", "demonice1m", "NICE key-in",
     {"merchant_key": "demo-nice-merchant-key-0004", "cancel_password": "123456"}, 0),
]


def _seed_channels(agency: Merchant, subs: list[Merchant]) -> None:
    for provider, module, mid, name, credentials, sub_index in DEMO_LIVE_CHANNELS:
        if Channel.objects.filter(merchant=agency, mode="live", provider=provider, mid=mid).exists():
            continue
        channel = channel_create(
            actor=SYSTEM, merchant=agency,
            data=ChannelInput(mode="live", provider=provider, module=module, mid=mid, name=name,
                              credentials=credentials),
        )
        if sub_index is not None:
            channel_assign(actor=SYSTEM, channel=channel, sub_merchant=subs[sub_index])
    if not Channel.objects.filter(merchant=agency, is_default=True).exists():
        first = (Channel.objects.filter(merchant=agency, mode="live", enabled=True,
                                         assigned_to__isnull=True).order_by("id").first())
        if first:
            channel_make_default(actor=SYSTEM, channel=first)
