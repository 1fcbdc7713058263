"""The payments domain asks its PG through one interface (``payments.domain.provider``) and never
which PG it is: another provider named by ``PAYMENTS_PROVIDER`` decides key-in payments, billing
keys and refunds without a change to the domain."""

import pytest

from console.tenancy.audit import SYSTEM
from payments.domain import billing_keys, cancels, charges
from payments.domain.errors import PaymentError
from payments.domain.provider import provider
from payments.sandbox.provider import SandboxProvider

pytestmark = pytest.mark.django_db

APPROVE = "9410-0000-7000-0000"  # a test card the sandbox approves


class StrictPG(SandboxProvider):
    """A PG that refuses every billing key and numbers its own transactions."""

    def decline(self, card, *, issuing: bool):
        return ("F9001", "No billing keys at this PG") if issuing else super().decline(card, issuing=issuing)

    def transaction_id(self) -> str:
        return "strict_1"

    def refund(self, *, payment, amount: int) -> str:
        return f"strict_refund_{payment.imp_uid}_{amount}"


@pytest.fixture
def strict_pg(settings):
    settings.PAYMENTS_PROVIDER = f"{__name__}.StrictPG"
    provider.cache_clear()
    yield
    provider.cache_clear()  # the sandbox again for the tests after


def test_the_sandbox_pg_is_the_provider():
    assert type(provider()) is SandboxProvider


def test_the_domain_pays_issues_and_refunds_as_its_provider_answers(agency, strict_pg):
    payment = charges.keyin_pay(merchant=agency, merchant_uid="m1", amount=1000, pg="nice", card_number=APPROVE,
                                expiry="2030-12")
    assert (payment.status, payment.pg_tid) == ("paid", "strict_1")
    with pytest.raises(PaymentError) as refused:
        billing_keys.billing_key_issue(merchant=agency, customer_uid="c1", card_number=APPROVE, expiry="2030-12",
                                       pg="ksnet.2999199990")
    assert (refused.value.code, refused.value.pg_code, refused.value.message) == (
        "declined", "F9001", "No billing keys at this PG")
    cancellation = cancels.payment_cancel(actor=SYSTEM, payment=payment, amount=400)
    assert cancellation.pg_tid == f"strict_refund_{payment.imp_uid}_400"
