import factory

from console import services
from console.audit import SYSTEM
from console.models import Membership, Merchant, Operator

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
    services.membership_create(actor=SYSTEM, operator=operator, merchant=merchant, role=role)
    return operator


__all__ = [
    "TEST_PASSWORD",
    "Membership",
    "OperatorFactory",
    "make_member",
    "make_merchant",
    "make_sub_merchant",
]
