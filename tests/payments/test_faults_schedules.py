"""Faults found by attacking the sandbox (issue 20), schedules: retries of one schedule sent at
once (a double click, a client retrying on a timeout) run it once, and every other one is
refused and changes nothing; a retry, which charges a card, leaves an audit row as the other
changes to a schedule do."""

import threading
import time
from datetime import timedelta

import psycopg2
import pytest
import requests
from django.db import connection
from django.db import connection as thread_connection
from django.utils import timezone

from api_keys.services.api_keys import api_key_create
from channels.models import Channel, SharedTestCredential
from console.models import AuditEvent
from console.tenancy.audit import SYSTEM, Actor
from payments.audit import AuditAction
from payments.domain import billing_keys, charges, schedules
from payments.domain.errors import PaymentError
from payments.models import Payment, Schedule
from tests.factories import make_merchant, run_due_schedules
from tests.hooks import endpoint_for
from tests.services import need
from tests.worker import wait_until
from webhooks.models import Delivery

APPROVE = "9410-0000-7000-0000"
LIMIT = "9410-0000-1000-1001"  # a billing key is issued; every payment declines (F1001)
KEY_PG = "ksnet.2999199990"


def _failed_schedule(name: str, card: str = APPROVE) -> tuple:
    """A merchant with a test endpoint, a billing key and the schedule ``order_1`` whose run
    failed: its channel was disabled when it fell due, and is enabled again since."""
    SharedTestCredential.objects.get_or_create(provider="ksnet", module="api_subscription", mid="2999199990",
                                               defaults={"pg_provider": "ksnet"})
    merchant = make_merchant(name)
    endpoint_for(merchant, "http://127.0.0.1:9/hook")
    key = billing_keys.billing_key_issue(merchant=merchant, customer_uid="cust_1", card_number=card,
                                         expiry="2030-12", birth="900101", pg=KEY_PG)
    [row] = schedules.schedules_create(merchant=merchant, customer_uid="cust_1", schedules=[
        {"merchant_uid": "order_1", "schedule_at": int(time.time()) + 3600, "amount": 9900, "name": "Plan"}])
    Schedule.objects.filter(pk=row.pk).update(schedule_at=timezone.now() - timedelta(seconds=1))
    Channel.objects.filter(pk=key.channel_id).update(enabled=False)
    assert run_due_schedules() == 1
    Channel.objects.filter(pk=key.channel_id).update(enabled=True)
    row.refresh_from_db()
    assert (row.status, row.payment.status, row.payment.error_code) == ("executed", "failed", charges.CHANNEL_UNUSABLE)
    return merchant, row.payment


def _webhook_statuses(merchant) -> list[str]:
    return [body.split('"status":"')[1].split('"')[0]
            for body in Delivery.objects.filter(merchant=merchant).order_by("id").values_list("body", flat=True)]


@pytest.mark.django_db(transaction=True)
def test_eight_retries_of_one_schedule_at_once_run_it_once(live_server):
    """Eight POST …/retry at the same moment, each on a connection of its own (the live server
    answers each request in a thread): one pays, seven are refused (code 1) and change nothing,
    and the schedule points at the paid payment."""
    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    merchant, failed = _failed_schedule("Double clicker")
    issued = api_key_create(actor=SYSTEM, merchant=merchant, name="order server")
    base = live_server.url
    token = requests.post(base + "/users/getToken", json={"imp_key": issued.api_key.key,
                                                         "imp_secret": issued.secret}, timeout=30)
    headers = {"Authorization": token.json()["response"]["access_token"]}
    barrier, answers = threading.Barrier(8), []

    def retry():
        barrier.wait()
        answers.append(requests.post(base + "/subscribe/payments/schedule/order_1/retry", headers=headers,
                                     timeout=60).json())

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert len(answers) == 8
    ran = [answer for answer in answers if answer["code"] == 0]
    refused = [answer for answer in answers if answer["code"] != 0]
    assert len(ran) == 1 and ran[0]["response"]["status"] == "paid", answers
    assert len(refused) == 7 and all(answer["response"] is None for answer in refused), answers

    payments = Payment.objects.filter(merchant=merchant, merchant_uid="order_1").order_by("id")
    assert list(payments.values_list("status", flat=True)) == ["failed", "paid"]
    assert payments[0].pk == failed.pk and payments[1].imp_uid == ran[0]["response"]["imp_uid"]
    schedule = requests.get(base + "/subscribe/payments/schedule/order_1", headers=headers, timeout=30).json()
    assert (schedule["response"]["payment_status"], schedule["response"]["imp_uid"]) == (
        "paid", ran[0]["response"]["imp_uid"])
    assert _webhook_statuses(merchant) == ["failed", "paid"]  # the scheduled run's, then the retry's
    retries = AuditEvent.objects.filter(merchant=merchant, action=AuditAction.PAYMENT_SCHEDULE_RETRY)
    assert retries.count() == 1 and retries.get().actor_email.startswith(f"API key {issued.api_key.key} ")


def _retry_in_thread(merchant, outcome: list) -> threading.Thread:
    def run():
        try:
            outcome.append(schedules.schedule_retry(actor=SYSTEM, merchant=merchant, merchant_uid="order_1"))
        except Exception as exc:  # recorded for the assertion
            outcome.append(exc)
        finally:
            thread_connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _waiting_on_the_billing_key() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND query LIKE '%%payments_billingkey%%FOR SHARE'")
        return cursor.fetchone()[0] == 1


@pytest.mark.django_db(transaction=True)
def test_a_retry_while_another_runs_is_refused_at_once_even_when_the_run_fails():
    """A retry stopped in the middle of its run (after it took the schedule, before it pays:
    this test holds the billing key's row) is the one run: a second retry meanwhile is refused
    at once, without waiting for the first and without paying after it, even when the card
    declines and the first run fails again."""
    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    merchant, failed = _failed_schedule("Declined", card=LIMIT)
    db = connection.settings_dict
    blocker = psycopg2.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
                               host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)
    outcome = []
    try:
        with blocker.cursor() as cursor:  # psycopg2 opens a transaction: the lock holds until rollback
            cursor.execute("SELECT id FROM payments_billingkey WHERE merchant_id = %s FOR UPDATE", [merchant.pk])
        first = _retry_in_thread(merchant, outcome)
        wait_until(_waiting_on_the_billing_key, timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # waiting for the first retry fails this test
        with pytest.raises(PaymentError) as refused:
            schedules.schedule_retry(actor=SYSTEM, merchant=merchant, merchant_uid="order_1")
        assert refused.value.code == "conflict" and "being run" in refused.value.message
        assert Payment.objects.filter(merchant=merchant).count() == 1  # nothing of the second
    finally:
        blocker.rollback()
        blocker.close()
    first.join(30)
    [payment] = outcome
    assert (payment.status, payment.error_code) == ("failed", "F1001")
    assert list(Payment.objects.filter(merchant=merchant).order_by("id").values_list("pk", flat=True)) == [
        failed.pk, payment.pk]
    assert Schedule.objects.get(merchant=merchant).payment_id == payment.pk
    assert _webhook_statuses(merchant) == ["failed", "failed"]
    assert AuditEvent.objects.filter(merchant=merchant, action=AuditAction.PAYMENT_SCHEDULE_RETRY).count() == 1


@pytest.mark.django_db
def test_a_retry_charges_the_card_with_an_audit_row_naming_who_and_which_payment(owner):
    merchant, failed = _failed_schedule("Audited")
    paid = schedules.schedule_retry(actor=Actor(user=owner), merchant=merchant, merchant_uid="order_1")
    assert paid.status == "paid"
    event = AuditEvent.objects.get(action=AuditAction.PAYMENT_SCHEDULE_RETRY)
    assert (event.actor, event.merchant, event.target_repr) == (owner, merchant, "order_1 · cust_1")
    assert event.changes["payment"] == {"old": failed.imp_uid, "new": paid.imp_uid}
    assert event.changes["payment_status"] == {"old": "failed", "new": "paid"}
    # A refused retry changes nothing, and records nothing.
    with pytest.raises(PaymentError):
        schedules.schedule_retry(actor=Actor(user=owner), merchant=merchant, merchant_uid="order_1")
    assert AuditEvent.objects.filter(action=AuditAction.PAYMENT_SCHEDULE_RETRY).count() == 1
