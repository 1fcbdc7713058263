import factory
from django.utils import timezone

from accounts import services
from console.models import Membership, Merchant, Operator
from console.tenancy.audit import SYSTEM
from payments.domain import schedules
from payments.models import Schedule, ScheduleStatus

TEST_PASSWORD = "correct-horse-battery-staple"


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"operator{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_merchant(name: str = "Merchant", **kwargs) -> Merchant:
    return services.merchant_create(actor=SYSTEM, name=name)


def make_sub_merchant(agency: Merchant, tier_code: str, name: str | None = None) -> Merchant:
    return services.sub_merchant_create(
        actor=SYSTEM, agency=agency, name=name or f"{agency.name} {tier_code}", tier_code=tier_code
    )


def make_member(merchant: Merchant, role: str, operator: Operator | None = None) -> Operator:
    operator = operator or OperatorFactory()
    services.membership_create(actor=SYSTEM, operator=operator, merchant=merchant, role=role, actor_role="owner")
    return operator


__all__ = [
    "TEST_PASSWORD",
    "Membership",
    "OperatorFactory",
    "make_member",
    "make_merchant",
    "make_sub_merchant",
]


def make_channel(merchant, *, mode="live", provider="kcp", module="window_general", mid=None,
                 credentials=None, name="", actor=None, **extra):
    from channels.services import ChannelInput, channel_create

    if mid is None:
        make_channel.counter = getattr(make_channel, "counter", 0) + 1
        mid = f"M{make_channel.counter:04d}"[:5] if provider == "kcp" else f"MID{make_channel.counter:05d}"
    if credentials is None:
        credentials = {"site_key": "kcp-site-key-secret-0001"} if provider == "kcp" else {}
    return channel_create(
        actor=actor or SYSTEM, merchant=merchant,
        data=ChannelInput(mode=mode, provider=provider, module=module, mid=mid, name=name,
                          credentials=credentials, **extra),
    )


def run_due_schedules() -> int:
    """What the workers do with the schedules the beat hands them (``payments.schedule_run``),
    here in the test's process: run each due one, soonest first, with the service the task
    calls. Returns how many ran."""
    due = list(Schedule.objects.filter(status=ScheduleStatus.SCHEDULED, schedule_at__lte=timezone.now())
               .order_by("schedule_at", "id").values_list("pk", flat=True))
    return sum(schedules.schedule_execute(schedule_id=pk) is not None for pk in due)
