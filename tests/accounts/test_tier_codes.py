import pytest
from django.core.exceptions import ValidationError

from accounts import services
from console.models import Merchant
from console.tenancy.audit import SYSTEM
from tests.factories import make_sub_merchant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["ABC", "A01", "999", "Z9Z"])
def test_valid_tier_codes(agency, code):
    sub = make_sub_merchant(agency, code)
    assert sub.tier_code == code
    assert sub.parent == agency


def test_lowercase_is_normalised_to_uppercase(agency):
    assert make_sub_merchant(agency, "ab1").tier_code == "AB1"


@pytest.mark.parametrize("code", ["AB", "ABCD", "A-1", "A 1", "가나다", "", "Ａ01"])
def test_invalid_tier_codes_are_refused_with_a_message(agency, code):
    with pytest.raises(ValidationError) as exc:
        make_sub_merchant(agency, code)
    assert "tier_code" in exc.value.message_dict
    assert not Merchant.objects.filter(parent=agency).exists()


def test_tier_code_is_unique_under_one_agency(agency):
    make_sub_merchant(agency, "A01")
    with pytest.raises(ValidationError) as exc:
        make_sub_merchant(agency, "A01")
    assert exc.value.message_dict["tier_code"] == [
        "The tier code A01 is taken: this agency already has a sub-merchant with it."
    ]
    assert agency.sub_merchants.count() == 1


def test_same_tier_code_under_two_agencies_is_fine(agency, other_merchant):
    make_sub_merchant(agency, "A01")
    make_sub_merchant(other_merchant, "A01")
    assert Merchant.objects.filter(tier_code="A01").count() == 2


def test_sub_merchants_go_one_level_deep(agency):
    sub = make_sub_merchant(agency, "A01")
    with pytest.raises(ValidationError) as exc:
        make_sub_merchant(sub, "B01")
    assert "one level deep" in str(exc.value)


def test_an_agency_has_no_tier_code():
    merchant = Merchant(name="Agency", tier_code="ABC", code="imp12345678")
    with pytest.raises(ValidationError) as exc:
        merchant.full_clean()
    assert "tier_code" in exc.value.message_dict


def test_a_merchant_with_sub_merchants_cannot_become_one(agency, other_merchant):
    make_sub_merchant(agency, "A01")
    agency.parent = other_merchant
    agency.tier_code = "X01"
    with pytest.raises(ValidationError):
        agency.full_clean()


def test_sub_merchant_creation_is_audited_on_the_agency(agency):
    sub = make_sub_merchant(agency, "A01")
    event = agency.audit_events.get(action="sub_merchant.create")
    assert event.target_id == str(sub.pk)
    assert event.changed_fields == ["name", "tier_code"]


def test_tier_code_can_be_changed_but_stays_valid(agency):
    sub = make_sub_merchant(agency, "A01")
    with pytest.raises(ValidationError):
        services.merchant_update(actor=SYSTEM, merchant=sub, tier_code="bad!")
    sub.refresh_from_db()
    assert sub.tier_code == "A01"
