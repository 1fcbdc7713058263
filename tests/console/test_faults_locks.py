"""Faults found by attacking the sandbox (issue 20), locks: a row lock takes the row it means and
nothing it joins. ``select_for_update()`` on a query with ``select_related("merchant")`` locked
the merchant's row too on PostgreSQL, so that every approve or cancel of a merchant's payments
waited for the others, and for any edit of the merchant. Every lock of the project goes
through ``console.tenancy.locks.lock_rows``; here a second connection takes the merchant's row
(``FOR UPDATE NOWAIT``) while each kind of payment row is held, and cannot take the held row."""

import re
import time
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
from django.db import connection, transaction

from channels.models import SharedTestCredential
from console.models import Merchant
from console.tenancy.audit import SYSTEM
from console.tenancy.locks import lock_rows
from payments.domain import billing_keys, cancels, schedules, vbanks
from payments.models import Payment, Schedule
from payments.sandbox import window
from tests.factories import make_merchant
from tests.services import need

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".venv", ".git", "tests", "var", ".cache", "node_modules"}
LOCKS = ROOT / "console" / "tenancy" / "locks.py"


def _project_modules():
    for path in ROOT.rglob("*.py"):
        if not SKIPPED.intersection(path.relative_to(ROOT).parts):
            yield path


def test_every_row_lock_of_the_project_goes_through_lock_rows():
    calls = {str(path.relative_to(ROOT)): len(re.findall(r"\.select_for_update\(", path.read_text()))
             for path in _project_modules() if path != LOCKS}
    assert {path: count for path, count in calls.items() if count} == {}
    assert ".select_for_update(of=(\"self\",)" in LOCKS.read_text()
    assert len(calls) > 100  # the walk found the project


def _second_connection():
    db = connection.settings_dict
    return psycopg2.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
                            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)


def _lockable(other, table: str, pk: int) -> bool:
    """Whether the other connection can lock this row now, without waiting."""
    try:
        with other.cursor() as cursor:
            cursor.execute(f'SELECT id FROM "{table}" WHERE id = %s FOR UPDATE NOWAIT', [pk])
            assert cursor.fetchone() == (pk,)
        return True
    except psycopg2.errors.LockNotAvailable:
        return False
    finally:
        other.rollback()


def _window_payment(merchant) -> Payment:
    return window.window_open(merchant_code=merchant.code, tier_code=None, params={
        "pg": "kcp.T0000", "merchant_uid": "window_1", "amount": 1000, "name": "Mug"})


def _vbank(merchant) -> Payment:
    return vbanks.vbank_issue(merchant=merchant, merchant_uid="vbank_1", amount=30000, vbank_code="004",
                              vbank_due=int(time.time()) + 86400, pg="nice.iamport01m")


def _schedule(merchant) -> Schedule:
    billing_keys.billing_key_issue(merchant=merchant, customer_uid="cust_1", card_number="9410-0000-7000-0000",
                              expiry="2030-12", birth="900101", pg="ksnet.2999199990")
    return schedules.schedules_create(merchant=merchant, customer_uid="cust_1", schedules=[
        {"merchant_uid": "plan_1", "schedule_at": int(time.time()) + 3600, "amount": 9900, "name": "Plan"}])[0]


def _paid(merchant) -> Payment:
    payment = _window_payment(merchant)
    return window.window_approve(imp_uid=payment.imp_uid, token=window.window_token(payment))


# Each service that changes a payment or a schedule, called inside a transaction of the test's:
# the row lock it takes holds until that transaction ends. (make the row, change it)
HELD = {
    "approving in the window": (_window_payment, lambda row: window.window_approve(
        imp_uid=row.imp_uid, token=window.window_token(row))),
    "cancelling a payment": (_paid, lambda row: cancels.payment_cancel(actor=SYSTEM, payment=row)),
    "changing a virtual account": (_vbank, lambda row: vbanks.vbank_update(
        actor=SYSTEM, merchant=row.merchant, imp_uid=row.imp_uid, amount=31000)),
    "moving a schedule": (_schedule, lambda row: schedules.schedule_update(
        actor=SYSTEM, merchant=row.merchant, merchant_uid=row.merchant_uid, schedule_at=int(time.time()) + 7200)),
    "lock_rows, with the merchant joined": (_window_payment, lambda row: lock_rows(
        Payment.objects.select_related("merchant", "channel")).get(pk=row.pk)),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("what", list(HELD))
def test_holding_a_payments_row_leaves_its_merchants_row_free(what):
    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    for provider, module, mid in (("kcp", "window_general", "T0000"), ("nice", "api_keyin", "iamport01m"),
                                  ("ksnet", "api_subscription", "2999199990")):
        SharedTestCredential.objects.get_or_create(provider=provider, module=module, mid=mid,
                                                   defaults={"pg_provider": provider})
    merchant = make_merchant("Busy shop")
    make, lock = HELD[what]
    row = make(merchant)
    other = _second_connection()
    try:
        with transaction.atomic():
            lock(row)
            assert not _lockable(other, row._meta.db_table, row.pk)  # the row itself is held
            assert _lockable(other, Merchant._meta.db_table, merchant.pk)  # its merchant is not
        assert _lockable(other, row._meta.db_table, row.pk)  # and the row is free after the commit
    finally:
        other.close()
