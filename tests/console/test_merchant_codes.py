import re

import pytest
from django.db import IntegrityError

from accounts import services
from accounts.services import merchants as merchant_services
from console.models import AuditEvent, Merchant
from console.tenancy.audit import SYSTEM
from tests.factories import make_merchant

pytestmark = pytest.mark.django_db


def test_new_merchant_gets_imp_and_eight_digits():
    merchant = make_merchant("Shop")
    assert re.fullmatch(r"imp\d{8}", merchant.code)
    assert Merchant.objects.get(pk=merchant.pk).code == merchant.code


def test_codes_are_unique_across_many_merchants():
    codes = {make_merchant(f"Shop {i}").code for i in range(50)}
    assert len(codes) == 50


def test_a_taken_code_is_drawn_again(monkeypatch):
    first = make_merchant("First")
    draws = iter([first.code, first.code, "imp00000042"])
    monkeypatch.setattr(merchant_services, "_new_merchant_code", lambda: next(draws))
    second = services.merchant_create(actor=SYSTEM, name="Second")
    assert second.code == "imp00000042"


def test_database_refuses_a_duplicate_code():
    first = make_merchant("First")
    with pytest.raises(IntegrityError):
        Merchant.objects.create(code=first.code, name="Clone")


def test_update_cannot_change_the_code():
    merchant = make_merchant("Shop")
    with pytest.raises(ValueError):
        services.merchant_update(actor=SYSTEM, merchant=merchant, code="imp99999999")
    services.merchant_update(actor=SYSTEM, merchant=merchant, name="Renamed")
    merchant.refresh_from_db()
    assert merchant.name == "Renamed"
    assert re.fullmatch(r"imp\d{8}", merchant.code)


def test_code_is_not_an_editable_form_field():
    assert Merchant._meta.get_field("code").editable is False


def test_create_and_rename_are_audited():
    merchant = make_merchant("Shop")
    services.merchant_update(actor=SYSTEM, merchant=merchant, name="Shop 2")
    actions = list(
        AuditEvent.objects.filter(merchant=merchant, target_type="console.merchant").order_by("id").values_list("action", "changed_fields")
    )
    assert actions == [("merchant.create", ["name"]), ("merchant.update", ["name"])]
