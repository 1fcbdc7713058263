"""Scheduled payments (issue 15): scheduling, cancelling and changing them at the service level
on the real database, and running them exactly once with real Celery workers (their embedded
beat runs the job), a real PostgreSQL and a real webhook receiver on loopback: a schedule a
few seconds ahead, two workers racing on the same due rows, a worker killed in the middle of
a run, and the broker down when the schedules fall due."""

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook

from channels.models import SharedTestCredential
from console.models import AuditEvent
from console.tenancy.audit import SYSTEM, Actor
from payments.audit import AuditAction
from payments.domain import billing_keys, charges, schedules
from payments.domain.errors import PaymentError
from payments.models import Payment, Schedule
from payments.selectors import billing as billing_selectors
from payments.v1.annotation import schedule_annotation
from tests.factories import make_merchant, run_due_schedules
from tests.hooks import FAST, endpoint_for, secret_of
from tests.portone_schema import validator
from tests.receiver import Receiver
from tests.services import need
from tests.worker import celery_worker, wait_until
from webhooks.models import Delivery
from webhooks.services import endpoint_save

pytestmark = pytest.mark.django_db

APPROVE = "9410-0000-7000-0000"
LIMIT = "9410-0000-1000-1001"


def _at(seconds: float = 3600) -> int:
    return int(time.time() + seconds)


def _key(merchant, customer_uid="cust_1", card=APPROVE):
    return billing_keys.billing_key_issue(merchant=merchant, customer_uid=customer_uid, card_number=card,
                                          expiry="2030-12", birth="900101", pg="ksnet.2999199990")


def _item(merchant_uid="sched_1", seconds: float = 3600, **fields):
    return {"merchant_uid": merchant_uid, "schedule_at": _at(seconds), "amount": 9900, "name": "Monthly plan",
            **fields}


def _schedule(merchant, items, customer_uid="cust_1", **fields):
    return schedules.schedules_create(merchant=merchant, customer_uid=customer_uid, schedules=items, **fields)


def _refused(call, *words, code=None):
    with pytest.raises(PaymentError) as refused:
        call()
    for word in words:
        assert word in refused.value.message, refused.value.message
    if code:  # a decline by the PG: its own code
        assert (refused.value.pg_code or refused.value.code) == code
    return refused.value


def _make_due(*rows):
    Schedule.objects.filter(pk__in=[row.pk for row in rows]).update(
        schedule_at=timezone.now() - timedelta(seconds=1))


def _statuses(merchant) -> list[str]:
    return [body.split('"status":"')[1].split('"')[0] for body in
            Delivery.objects.filter(merchant=merchant).order_by("id").values_list("body", flat=True)]


@pytest.fixture
def endpoint(agency):
    return endpoint_save(actor=SYSTEM, merchant=agency, mode="test", url="http://127.0.0.1:9/hook",
                         content_type="json", version="v1")


# --- scheduling ------------------------------------------------------------------------


def test_schedules_are_made_all_at_once_and_read_back(agency):
    _key(agency)
    made = _schedule(agency, [_item("a", 60, buyer_name="Hong", custom_data={"plan": "pro"}),
                              _item("b", 120), _item("c", 7200, amount="5000")])
    assert [s.merchant_uid for s in made] == ["a", "b", "c"] and all(s.pk for s in made)
    first = billing_selectors.schedule_for_api(merchant_id=agency.pk, merchant_uid="a")
    assert (first.status, first.customer_uid, first.buyer_name, first.custom_data) == (
        "scheduled", "cust_1", "Hong", '{"plan": "pro"}')
    annotation = schedule_annotation(first)
    validator("ScheduleResultAnnotation").validate(annotation)
    assert (annotation["imp_uid"], annotation["payment_status"], annotation["executed_at"]) == (None, None, 0)
    now = timezone.now()
    between = billing_selectors.schedules_between(merchant_id=agency.pk, start=now, end=now + timedelta(hours=1))
    assert [s.merchant_uid for s in between] == ["b", "a"]
    oldest = billing_selectors.schedules_between(merchant_id=agency.pk, start=now, end=now + timedelta(days=1),
                                                 oldest_first=True, customer_uid="cust_1", status="scheduled")
    assert [s.merchant_uid for s in oldest] == ["a", "b", "c"]
    with pytest.raises(PaymentError, match="92 days at a time"):
        billing_selectors.schedules_between(merchant_id=agency.pk, start=now, end=now + timedelta(days=93))
    with pytest.raises(PaymentError, match="schedule_status must be one of"):
        billing_selectors.schedules_between(merchant_id=agency.pk, start=now, end=now + timedelta(days=1),
                                            status="done")


def test_bad_schedules_are_refused_and_nothing_is_saved(agency):
    _key(agency)
    _schedule(agency, [_item("taken")])
    paid = charges.payment_again(merchant=agency, customer_uid="cust_1", merchant_uid="paid_order", amount=100,
                                 name="x")
    assert paid.status == "paid"
    good = [_item(f"ok_{i}") for i in range(5)]
    cases = [
        ([*good, _item("past", -120)], "schedules[5]: schedule_at is in the past"),
        ([*good, _item("far", 10 * 366 * 86400)], "schedules[5]: schedule_at is too far ahead: at most 366 days"),
        ([*good, _item("bad", schedule_at="tomorrow")], "UNIX seconds"),
        ([*good, _item("amount", amount=-1)], "schedules[5]: The amount must be more than 0 won"),
        ([*good, _item("noname", name="")], "schedules[5]: name is required"),
        ([*good, _item("ok_1")], "schedules[5]: the merchant_uid “ok_1” is in this call twice (schedules[1])"),
        ([*good, _item("taken")], "the merchant_uid “taken” was scheduled already"),
        ([*good, _item("paid_order")], "“paid_order” is already used by a payment that is paid"),
        ([_item(f"many_{i}") for i in range(10_000)], "At most 1,000 schedules in one call; this one has 10,000"),
        ([], "one or more schedules"),
        ("not a list", "one or more schedules"),
        ([*good, "not an object"], "schedules[5]: Each schedule must be an object"),
    ]
    for items, words in cases:
        _refused(lambda items=items: _schedule(agency, items), words)
    assert list(Schedule.objects.values_list("merchant_uid", flat=True)) == ["taken"]


def test_an_unknown_deleted_or_foreign_customer_uid_schedules_nothing(agency, other_merchant):
    _refused(lambda: _schedule(agency, [_item()], customer_uid="nobody"), "customer_uid “nobody”", code="not_found")
    _key(agency)
    billing_keys.billing_key_delete(actor=SYSTEM, merchant=agency, customer_uid="cust_1")
    _refused(lambda: _schedule(agency, [_item()]), "customer_uid “cust_1”", code="not_found")
    _key(agency, customer_uid="mine")
    _refused(lambda: _schedule(other_merchant, [_item()], customer_uid="mine"), code="not_found")
    assert not Schedule.objects.exists()


def test_a_schedule_with_card_data_issues_the_billing_key_first(agency):
    made = _schedule(agency, [_item()], customer_uid="new_cust", card_number=APPROVE, expiry="2031-01",
                     birth="900101", pg="welcome")
    key = billing_selectors.billing_key_for_api(merchant_id=agency.pk, customer_uid="new_cust")
    assert key.issued_through == "schedule" and key.pg_provider == "welcome" and made[0].customer_uid == "new_cust"
    _refused(lambda: _schedule(agency, [_item("x")], customer_uid="newer", card_number="9410-0000-0000-1003",
                               expiry="2031-01", pg="welcome"), "invalid card", code="F1003")
    assert not billing_selectors.billing_key_for_api(merchant_id=agency.pk, customer_uid="newer")


def test_another_merchants_schedule_is_unknown(agency, other_merchant):
    _key(agency)
    _schedule(agency, [_item("mine")])
    assert billing_selectors.schedule_for_api(merchant_id=other_merchant.pk, merchant_uid="mine") is None
    for call in (
        lambda: schedules.schedules_revoke(actor=SYSTEM, merchant=other_merchant, merchant_uids=["mine"]),
        lambda: schedules.schedule_update(actor=SYSTEM, merchant=other_merchant, merchant_uid="mine",
                                          schedule_at=_at(60)),
        lambda: schedules.schedule_retry(actor=SYSTEM, merchant=other_merchant, merchant_uid="mine"),
    ):
        _refused(call, code="not_found")
    assert Schedule.objects.get().status == "scheduled"


# --- cancelling and changing --------------------------------------------------------------


def test_unschedule_by_customer_uid_or_merchant_uids_with_an_audit_row_each(agency, owner):
    _key(agency)
    _key(agency, customer_uid="cust_2")
    _schedule(agency, [_item("a"), _item("b"), _item("c")])
    _schedule(agency, [_item("d")], customer_uid="cust_2")
    actor = Actor(user=owner)
    revoked = schedules.schedules_revoke(actor=actor, merchant=agency, merchant_uids=["b"])
    assert [s.merchant_uid for s in revoked] == ["b"] and revoked[0].revoked_at
    revoked = schedules.schedules_revoke(actor=actor, merchant=agency, customer_uid="cust_1")
    assert [s.merchant_uid for s in revoked] == ["a", "c"]  # b was cancelled already
    assert Schedule.objects.get(merchant_uid="d").status == "scheduled"
    events = AuditEvent.objects.filter(action=AuditAction.PAYMENT_SCHEDULE_REVOKE, actor=owner)
    assert sorted(events.values_list("target_repr", flat=True)) == ["a · cust_1", "b · cust_1", "c · cust_1"]
    _refused(lambda: schedules.schedules_revoke(actor=actor, merchant=agency, merchant_uids=["a"]),
             "ran or were cancelled already", code="conflict")
    _refused(lambda: schedules.schedules_revoke(actor=actor, merchant=agency, merchant_uids="zzz"),
             "No schedule of this merchant matches", code="not_found")
    _refused(lambda: schedules.schedules_revoke(actor=actor, merchant=agency), "Name the schedules", code="invalid")
    annotation = schedule_annotation(Schedule.objects.get(merchant_uid="a"))
    validator("ScheduleResultAnnotation").validate(annotation)
    assert annotation["schedule_status"] == "revoked" and annotation["revoked_at"] > 0


def test_a_schedules_time_changes_while_it_is_still_to_run(agency, owner):
    _key(agency)
    [schedule] = _schedule(agency, [_item("a", 3600)])
    new_at = _at(7200)
    changed = schedules.schedule_update(actor=Actor(user=owner), merchant=agency, merchant_uid="a", schedule_at=new_at)
    assert int(changed.schedule_at.timestamp()) == new_at
    event = AuditEvent.objects.get(action=AuditAction.PAYMENT_SCHEDULE_UPDATE)
    assert event.changes["schedule_at"]["new"].startswith(datetime.fromtimestamp(new_at, UTC).strftime("%Y-%m-%d"))
    _refused(lambda: schedules.schedule_update(actor=SYSTEM, merchant=agency, merchant_uid="a",
                                               schedule_at=_at(-60)), "in the past", code="invalid")
    schedules.schedules_revoke(actor=SYSTEM, merchant=agency, merchant_uids=["a"])
    _refused(lambda: schedules.schedule_update(actor=SYSTEM, merchant=agency, merchant_uid="a",
                                               schedule_at=_at(60)), "This schedule is cancelled", code="conflict")


# --- running (the job, called here in the test process) ------------------------------------


def test_the_periodic_job_hands_each_due_schedule_over_once_then_again_later(agency, monkeypatch, settings):
    """The job hands due rows to the workers, one task each; a row handed over is not handed
    over again until PAYMENT_SCHEDULE_REQUEUE_SECONDS have passed (its task may be lost)."""
    from payments import tasks

    sent = []
    monkeypatch.setattr(tasks.schedule_run, "apply_async", lambda args, **kw: sent.append(args[0]))
    _key(agency)
    rows = _schedule(agency, [_item("due_1"), _item("due_2"), _item("not_yet")])
    _make_due(*rows[:2])
    assert schedules.schedules_dispatch_due() == 2 and sorted(sent) == sorted(r.pk for r in rows[:2])
    assert schedules.schedules_dispatch_due() == 0  # handed over a moment ago
    monkeypatch.setattr(schedules.cache, "add", lambda *a, **kw: True)  # as if the markers had expired
    assert schedules.schedules_dispatch_due() == 2  # still due, so handed over again


def test_a_due_schedule_runs_once_pays_and_notifies(agency, endpoint):
    key = _key(agency)
    notice = "http://127.0.0.1:9/notice"
    [due, later] = _schedule(agency, [_item("due", buyer_email="g@example.test", notice_url=notice), _item("later")])
    _make_due(due)
    assert run_due_schedules() == 1
    assert run_due_schedules() == 0  # ran already: nothing more
    assert schedules.schedule_execute(schedule_id=due.pk) is None
    due.refresh_from_db()
    payment = due.payment
    assert (due.status, payment.status, payment.customer_uid_usage) == ("executed", "paid", "payment.scheduled")
    assert (payment.billing_key, payment.amount, payment.buyer_email, payment.merchant_uid) == (
        key, 9900, "g@example.test", "due")
    assert due.notice_urls == payment.notice_urls == [notice]
    assert Schedule.objects.get(pk=later.pk).status == "scheduled"
    assert _statuses(agency) == ["paid"]
    annotation = schedule_annotation(due)
    validator("ScheduleResultAnnotation").validate(annotation)
    assert (annotation["imp_uid"], annotation["payment_status"]) == (payment.imp_uid, "paid")


def test_a_failed_run_is_a_failed_payment_that_notifies(agency, endpoint):
    _key(agency, customer_uid="over", card=LIMIT)
    _key(agency, customer_uid="gone")
    made = _schedule(agency, [_item("limit")], customer_uid="over")
    made += _schedule(agency, [_item("deleted")], customer_uid="gone")
    billing_keys.billing_key_delete(actor=SYSTEM, merchant=agency, customer_uid="gone")
    _make_due(*made)
    assert run_due_schedules() == 2
    results = {row.merchant_uid: (row.status, row.payment.status, row.payment.error_code)
               for row in Schedule.objects.select_related("payment")}
    assert results == {"limit": ("executed", "failed", "F1001"),
                       "deleted": ("executed", "failed", charges.NO_BILLING_KEY)}
    assert _statuses(agency) == ["failed", "failed"]  # unlike a failed window payment, both notify
    annotation = schedule_annotation(Schedule.objects.select_related("payment").get(merchant_uid="limit"))
    validator("ScheduleResultAnnotation").validate(annotation)
    assert (annotation["schedule_status"], annotation["payment_status"]) == ("executed", "failed")
    assert annotation["fail_reason"] == "카드사 승인 거절: 한도 초과"  # stored in Korean


def test_a_run_on_a_disabled_channel_fails_and_can_be_retried(agency, endpoint, owner):
    key = _key(agency)
    [row] = _schedule(agency, [_item("monthly")])
    key.channel.enabled = False
    key.channel.save(update_fields=["enabled"])
    _make_due(row)
    run_due_schedules()
    row.refresh_from_db()
    assert (row.payment.status, row.payment.error_code) == ("failed", charges.CHANNEL_UNUSABLE)
    assert "사용 안 함" in row.payment.fail_reason
    failed_payment = row.payment
    key.channel.enabled = True
    key.channel.save(update_fields=["enabled"])
    # Retried now: a second payment of the same order, paid; the failed one stays.
    retried = schedules.schedule_retry(actor=Actor(user=owner), merchant=agency, merchant_uid="monthly")
    assert retried.status == "paid" and retried.pk != failed_payment.pk
    assert Payment.objects.filter(merchant_uid="monthly").count() == 2
    _refused(lambda: schedules.schedule_retry(actor=SYSTEM, merchant=agency, merchant_uid="monthly"), code="conflict")
    assert _statuses(agency) == ["failed", "paid"]


def test_a_failed_or_cancelled_schedule_is_scheduled_again(agency, owner):
    _key(agency, customer_uid="over", card=LIMIT)
    [row] = _schedule(agency, [_item("monthly")], customer_uid="over")
    _make_due(row)
    run_due_schedules()
    new_at = _at(600)
    again = schedules.schedule_reschedule(actor=Actor(user=owner), merchant=agency, merchant_uid="monthly",
                                          schedule_at=new_at)
    assert (again.status, again.payment, int(again.schedule_at.timestamp())) == ("scheduled", None, new_at)
    _refused(lambda: schedules.schedule_reschedule(actor=SYSTEM, merchant=agency, merchant_uid="monthly",
                                                   schedule_at=_at(60)), code="conflict")  # scheduled: not failed
    assert Payment.objects.get(merchant_uid="monthly").status == "failed"


def test_an_order_paid_before_its_schedule_ran_fails_the_run(agency, endpoint):
    _key(agency)
    [row] = _schedule(agency, [_item("order_7")])
    _refused(lambda: charges.payment_again(merchant=agency, customer_uid="cust_1", merchant_uid="order_7",
                                           amount=100, name="x"), "scheduled to be paid", code="conflict")
    # Cancelled, paid another way, then scheduled again: the run finds the order paid.
    schedules.schedules_revoke(actor=SYSTEM, merchant=agency, merchant_uids=["order_7"])
    charges.payment_again(merchant=agency, customer_uid="cust_1", merchant_uid="order_7", amount=100, name="x")
    _refused(lambda: schedules.schedule_reschedule(actor=SYSTEM, merchant=agency, merchant_uid="order_7",
                                                   schedule_at=_at(60)), "already used by a payment", code="conflict")
    Schedule.objects.filter(pk=row.pk).update(status="scheduled", revoked_at=None)
    _make_due(row)
    run_due_schedules()
    row.refresh_from_db()
    assert (row.payment.status, row.payment.error_code) == ("failed", charges.ORDER_TAKEN)
    assert Payment.objects.filter(merchant_uid="order_7", status="paid").count() == 1


def test_console_tabs_and_pending_counts(agency):
    class Access:
        merchant = agency

    _key(agency)
    _key(agency, customer_uid="over", card=LIMIT)
    made = _schedule(agency, [_item("due"), _item("paid"), _item("cancelled")])
    made += _schedule(agency, [_item("failed")], customer_uid="over")
    _make_due(made[1], made[3])
    run_due_schedules()
    schedules.schedules_revoke(actor=SYSTEM, merchant=agency, merchant_uids=["cancelled"])
    tabs = {view: [s.merchant_uid for s in billing_selectors.schedules_for_console(access=Access, view=view)]
            for view in billing_selectors.ScheduleView.ALL}
    assert tabs == {"due": ["due"], "done": ["paid"], "failed": ["failed"], "cancelled": ["cancelled"]}
    assert billing_selectors.pending_schedule_counts(merchant_id=agency.pk, customer_uids=["cust_1", "over"]) == {"cust_1": 1}


# --- with real workers ------------------------------------------------------------------------

WORKER_ENV = {**FAST, "PAYMENT_SCHEDULE_INTERVAL_SECONDS": "0.5"}


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


def _shop(name: str, receiver: Receiver, path: str):
    """A merchant with the shared ksnet subscription channel, a billing key and a test
    endpoint on the receiver. (A transactional test's flush empties the seeded shared
    credentials, so they are made sure of first.)"""
    SharedTestCredential.objects.get_or_create(provider="ksnet", module="api_subscription", mid="2999199990",
                                               defaults={"pg_provider": "ksnet"})
    merchant = make_merchant(name)
    endpoint = endpoint_for(merchant, receiver.url(path))
    _key(merchant)
    return merchant, endpoint


def _verified(request, endpoint) -> dict:
    headers = {k.lower(): v for k, v in request.headers.items()}
    return Webhook(secret_of(endpoint)).verify(request.body, headers)  # raises if not signed by us


def _descendants(pid: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [p for child in map(int, children) for p in (child, *_descendants(child))]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_schedule_a_few_seconds_ahead_is_run_by_the_worker_and_notified(receiver, shared_worker):
    merchant, endpoint = _shop("Subscriptions", receiver, "/sched-ahead")
    # The shared worker's beat hands the due schedules over every 5 seconds (the default).
    [row] = _schedule(merchant, [_item("plan_2027_01", seconds=2)])
    request = receiver.wait_for(1, "/sched-ahead", timeout=60)[0]
    row = wait_until(lambda: Schedule.objects.filter(pk=row.pk, status="executed").select_related("payment")
                     .first(), timeout=30)
    payload = _verified(request, endpoint)
    assert payload == {"imp_uid": row.payment.imp_uid, "merchant_uid": "plan_2027_01", "status": "paid"}
    assert row.payment.status == "paid" and row.executed_at >= row.schedule_at  # never early
    assert Payment.objects.filter(merchant=merchant).count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_twenty_due_schedules_pay_each_once(receiver):
    merchant, endpoint = _shop("Racers", receiver, "/sched-race")
    with celery_worker(beat=True, concurrency=2, extra_env=WORKER_ENV) as first, \
            celery_worker(beat=True, concurrency=2, extra_env=WORKER_ENV) as second:
        first.wait_ready()
        second.wait_ready()
        rows = _schedule(merchant, [_item(f"race_{i:02d}", seconds=0) for i in range(20)])
        receiver.wait_for(20, "/sched-race", timeout=90)
        wait_until(lambda: not Schedule.objects.filter(merchant=merchant, status="scheduled").exists(), timeout=30)
    # Both workers and their beats are stopped: what they did is all there is.
    requests = [r for r in receiver.requests if r.path == "/sched-race"]
    payloads = [_verified(r, endpoint) for r in requests]
    assert sorted(p["merchant_uid"] for p in payloads) == [f"race_{i:02d}" for i in range(20)]
    assert {p["status"] for p in payloads} == {"paid"} and len({r.headers["webhook-id"] for r in requests}) == 20
    payments = Payment.objects.filter(merchant=merchant)
    assert payments.count() == 20 and set(payments.values_list("status", flat=True)) == {"paid"}
    assert Delivery.objects.filter(merchant=merchant).count() == 20
    executed = Schedule.objects.filter(pk__in=[r.pk for r in rows], status="executed")
    assert len(set(executed.values_list("payment_id", flat=True))) == 20


# Where a run is stopped, and how this test stops it there without any hook in the code: it
# holds a row lock the run needs, in a connection of its own, and watches for the run's
# backend waiting on it.
STOPS = {
    # Holding the schedule's lock, before its payment is written: the run's shared lock on
    # the billing key waits for this test's exclusive one.
    "before its commit": ("SELECT id FROM payments_billingkey WHERE merchant_id = %s FOR UPDATE",
                          "query LIKE '%%payments_billingkey%%FOR SHARE'"),
    # Everything written (payment, schedule, webhook delivery), COMMIT sent: Django's foreign
    # keys are checked at the commit, and the delivery row refers to the endpoint held here.
    "at its commit": ("SELECT id FROM webhooks_webhookendpoint WHERE merchant_id = %s FOR UPDATE",
                      "query = 'COMMIT'"),
}


def _stuck_runs(where: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       f"AND wait_event_type = 'Lock' AND {STOPS[where][1]}")
        return [pid for (pid,) in cursor.fetchall()]


def _backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", list(STOPS))
def test_a_worker_killed_in_the_middle_of_a_run_pays_once(receiver, where):
    """The worker (pool, beat and all) is SIGKILLed while a run is stopped inside its
    transaction. Killed before its COMMIT reached the database, the run rolls back with the
    dead connection and the next worker runs the schedule; killed once it had sent its COMMIT,
    the run commits, and the next worker finds it executed and sends its webhook from the
    outbox (the dead one never handed it to the broker). One payment and one webhook either
    way."""
    need(connection.vendor == "postgresql",
         "PostgreSQL (DATABASE_URL): the test holds row locks and watches pg_stat_activity")
    path = "/sched-killed-" + where.replace(" ", "-")
    merchant, endpoint = _shop("Mortal", receiver, path)
    [row] = _schedule(merchant, [_item("plan_killed", seconds=0)])
    db = connection.settings_dict
    blocker = psycopg2.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
                               host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)
    try:
        with blocker.cursor() as cursor:  # psycopg2 opens a transaction: the lock holds until rollback
            cursor.execute(STOPS[where][0], [merchant.pk])
        with celery_worker(beat=True, extra_env=WORKER_ENV) as mortal:
            mortal.wait_ready()
            stuck = wait_until(lambda: _stuck_runs(where), timeout=60)
            assert len(stuck) == 1
            assert not Payment.objects.filter(merchant=merchant).exists()  # nothing committed yet
            for pid in [*_descendants(mortal.proc.pid), mortal.proc.pid]:
                os.kill(pid, signal.SIGKILL)
            mortal.proc.wait(timeout=20)
    finally:
        blocker.rollback()
        blocker.close()
    # The dead worker's backend gets its lock, finishes what it was doing (rolls back, or
    # commits), finds its client gone, and ends: then its outcome is final.
    wait_until(lambda: not _backend_alive(stuck[0]), timeout=30)
    row.refresh_from_db()
    if where == "before its commit":
        assert row.status == "scheduled" and not Payment.objects.filter(merchant=merchant).exists()
    else:
        assert row.status == "executed" and Payment.objects.filter(merchant=merchant).count() == 1
        assert Delivery.objects.get(merchant=merchant).enqueued_at is None  # never reached the broker
    with celery_worker(beat=True, extra_env=WORKER_ENV) as heir:
        heir.wait_ready()
        request = receiver.wait_for(1, path, timeout=60)[0]
        wait_until(lambda: Schedule.objects.filter(pk=row.pk, status="executed").exists(), timeout=30)
    row.refresh_from_db()
    assert _verified(request, endpoint)["imp_uid"] == row.payment.imp_uid
    assert Payment.objects.filter(merchant=merchant).count() == 1
    assert Delivery.objects.filter(merchant=merchant).count() == 1
    assert len([r for r in receiver.requests if r.path == path]) == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_schedules_due_while_the_broker_is_down_run_late_but_once(receiver):
    merchant, endpoint = _shop("Outage", receiver, "/sched-outage")
    rows = _schedule(merchant, [_item(f"outage_{i}", seconds=1) for i in range(3)])
    due = max(row.schedule_at for row in rows)
    down = {**WORKER_ENV, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0", "CELERY_RESULT_BACKEND": "redis://127.0.0.1:1/0"}
    with celery_worker(beat=True, extra_env=down) as cut_off:
        # Its beat cannot send the job and its consumer cannot connect: wait past the due time.
        wait_until(lambda: "consumer: Cannot connect to redis://" in cut_off.output()
                   and "beat: Connection error" in cut_off.output()
                   and timezone.now() > due + timedelta(seconds=2), timeout=60)
        assert Schedule.objects.filter(merchant=merchant, status="scheduled").count() == 3
    with celery_worker(beat=True, extra_env=WORKER_ENV) as restored:
        restored.wait_ready()
        receiver.wait_for(3, "/sched-outage", timeout=60)
        wait_until(lambda: not Schedule.objects.filter(merchant=merchant, status="scheduled").exists(), timeout=30)
    payloads = [_verified(r, endpoint) for r in receiver.requests if r.path == "/sched-outage"]
    assert sorted(p["merchant_uid"] for p in payloads) == ["outage_0", "outage_1", "outage_2"]
    assert Payment.objects.filter(merchant=merchant, status="paid").count() == 3
    assert Payment.objects.filter(merchant=merchant).count() == 3
    for row in Schedule.objects.filter(merchant=merchant):
        assert row.executed_at > due  # late, and once
