"""The Billing keys and Schedules pages in a real browser, as a merchant's manager walks them:
find a key from the menu, delete it through the confirmation (which counts the schedules still
to run), then cancel a schedule through its confirmation; and the Payments page's markers.
Screenshots, in English and in Korean, go to ``/tmp/shots_billing/`` for a person to look at
(Korean shows this work's new strings in English until they are translated)."""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from channels.models import SharedTestCredential
from console.models import AuditEvent
from payments.domain import billing_keys, charges, schedules
from payments.models import BillingKey, Payment, Schedule
from tests.browser import log_in
from tests.factories import TEST_PASSWORD, make_member, make_merchant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots_billing")
APPROVE = "9410-0000-7000-0000"
LIMIT = "9410-0000-1000-1001"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _world():
    """A merchant with two billing keys, schedules of each kind, and payments made every way.
    (A transactional test's flush empties the seeded shared credentials: made sure of first.)"""
    for provider, module, mid in (("ksnet", "api_subscription", "2999199990"), ("nice", "api_keyin", "iamport01m")):
        SharedTestCredential.objects.get_or_create(provider=provider, module=module, mid=mid,
                                                   defaults={"pg_provider": provider})
    merchant = make_merchant("Corner Shop")
    for uid, card in (("gildong_0001", APPROVE), ("chulsoo_0002", LIMIT)):
        billing_keys.billing_key_issue(merchant=merchant, customer_uid=uid, card_number=card, expiry="2030-12",
                                  birth="900101", pg="ksnet.2999199990", customer_name="Hong Gildong")
    at = int(time.time()) + 86_400
    made = schedules.schedules_create(merchant=merchant, customer_uid="gildong_0001", schedules=[
        {"merchant_uid": f"plan-2026-0{m}", "schedule_at": at + m * 60, "amount": 9900, "name": "Monthly plan"}
        for m in range(1, 4)])
    (declined,) = schedules.schedules_create(merchant=merchant, customer_uid="chulsoo_0002", schedules=[
        {"merchant_uid": "plan-chulsoo-01", "schedule_at": at, "amount": 19900, "name": "Pro plan"}])
    Schedule.objects.filter(pk__in=[made[0].pk, declined.pk]).update(schedule_at=timezone.now() - timedelta(seconds=1))
    schedules.schedule_execute(schedule_id=made[0].pk)
    schedules.schedule_execute(schedule_id=declined.pk)
    charges.payment_again(merchant=merchant, customer_uid="gildong_0001", merchant_uid="once-1", amount=5000,
                          name="One-off")
    charges.keyin_pay(merchant=merchant, merchant_uid="keyin-1", amount=1000, card_number=APPROVE,
                      expiry="2030-12", birth="900101", pg="nice", name="Blue mug")
    return merchant


@pytest.fixture
def korean_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ko-KR",
                                  extra_http_headers={"Accept-Language": "ko"},
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_delete_a_billing_key_and_cancel_a_schedule(page):
    merchant = _world()
    manager = make_member(merchant, "manager")
    log_in(page, manager.email, TEST_PASSWORD)

    # The Payments page marks how each payment was made.
    page.get_by_role("link", name="Payments", exact=True).click()
    for kind in ("Key-in", "Billing key", "Scheduled"):
        expect(page.locator("main").get_by_text(kind, exact=True).first).to_be_visible()
    shot(page, "payments_en.png")
    page.get_by_role("link", name=Payment.objects.get(merchant=merchant, merchant_uid="plan-2026-01").imp_uid).click()
    expect(page.get_by_role("heading", name="Billing key", exact=True)).to_be_visible()
    expect(page.get_by_text("Made by the schedule due at")).to_be_visible()
    shot(page, "payment_detail_scheduled_en.png")

    # The Billing keys page, from the menu.
    page.get_by_role("link", name="Billing keys").click()
    expect(page.get_by_role("heading", name="Billing keys", level=1)).to_be_visible()
    row = page.locator("tr[data-customer-uid='gildong_0001']")
    expect(row).to_contain_text("941000******0000")
    expect(row.locator("td").nth(5)).to_have_text("2")  # two schedules still to run
    shot(page, "billing_keys_en.png")

    # Its page: fields, payments, schedules.
    row.get_by_role("link", name="gildong_0001", exact=True).click()
    expect(page.get_by_role("heading", name="Payments with this key")).to_be_visible()
    expect(page.locator("#key-schedules tr[data-merchant-uid]")).to_have_count(3)
    shot(page, "billing_key_detail_en.png")

    # Delete, through the confirmation that counts the schedules still to run.
    page.get_by_role("link", name="Delete billing key").click()
    expect(page.get_by_role("heading", name="Delete the billing key gildong_0001?")).to_be_visible()
    expect(page.get_by_text("This customer_uid has 2 schedules still to run.")).to_be_visible()
    page.get_by_label("Reason (optional)").fill("customer left")
    shot(page, "billing_key_delete_en.png")
    page.get_by_role("form", name="Delete billing key").get_by_role("button", name="Delete billing key").click()
    expect(page.get_by_text("Billing key gildong_0001 deleted. Its 2 schedules still to run will fail at "
                            "their time")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Deleted")
    shot(page, "billing_key_deleted_en.png")
    page.reload()  # no surprise on reload: nothing is posted again
    assert AuditEvent.objects.filter(merchant=merchant, action="billing_key.delete", actor=manager).count() == 1
    key = BillingKey.objects.get(merchant=merchant, customer_uid="gildong_0001")
    assert key.deleted_at is not None and key.delete_reason == "customer left"
    page.get_by_role("link", name="Billing keys").first.click()
    expect(page.locator("tr[data-customer-uid='gildong_0001']")).to_contain_text("Deleted")
    expect(page.locator("tr[data-customer-uid='gildong_0001']")).to_contain_text("2, will fail")

    # Cancel one of its schedules, through its confirmation.
    page.get_by_role("navigation", name="Console navigation").get_by_role("link", name="Schedules").click()
    expect(page.locator("tr[data-merchant-uid]")).to_have_count(2)
    shot(page, "schedules_due_en.png")
    page.get_by_role("link", name="Cancel schedule plan-2026-03").click()
    expect(page.get_by_role("heading", name="Cancel the schedule plan-2026-03?")).to_be_visible()
    shot(page, "schedule_cancel_en.png")
    page.get_by_role("form", name="Cancel schedule").get_by_role("button", name="Cancel schedule").click()
    expect(page.get_by_text("Schedule plan-2026-03 cancelled: it will not run.")).to_be_visible()
    expect(page.locator("tr[data-merchant-uid]")).to_have_count(1)
    assert Schedule.objects.get(merchant=merchant, merchant_uid="plan-2026-03").status == "revoked"
    assert AuditEvent.objects.filter(merchant=merchant, action="payment_schedule.revoke", actor=manager).count() == 1

    for tab, uid in (("Done", "plan-2026-01"), ("Failed", "plan-chulsoo-01"), ("Cancelled", "plan-2026-03")):
        page.get_by_role("link", name=tab, exact=True).click()
        expect(page.locator("tr[data-merchant-uid]")).to_have_count(1)
        expect(page.locator(f"tr[data-merchant-uid='{uid}']")).to_be_visible()
        shot(page, f"schedules_{tab.lower()}_en.png")

    # A merchant with no key yet: the page says what a billing key is and how one is issued.
    empty = make_merchant("New Shop")
    make_member(empty, "manager", operator=manager)
    page.goto(f"/m/{empty.code}/billing-keys/")
    expect(page.get_by_role("heading", name="No billing key yet")).to_be_visible()
    expect(page.get_by_text("POST /subscribe/customers/{customer_uid}")).to_be_visible()
    shot(page, "billing_keys_empty_en.png")
    page.goto(f"/m/{empty.code}/schedules/")
    expect(page.get_by_text("Nothing is waiting to run.")).to_be_visible()
    shot(page, "schedules_empty_en.png")
    assert page.problems.errors == []


def test_the_pages_in_korean(korean_page):
    page = korean_page
    merchant = _world()
    owner = make_member(merchant, "owner")
    page.goto("/accounts/login/")
    page.get_by_label("이메일").fill(owner.email)
    page.get_by_label("비밀번호").fill(TEST_PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state()
    code = merchant.code
    page.goto(f"/m/{code}/billing-keys/")
    expect(page.locator("tr[data-customer-uid]")).to_have_count(2)
    shot(page, "billing_keys_ko.png")
    key = BillingKey.objects.get(merchant=merchant, customer_uid="gildong_0001")
    page.goto(f"/m/{code}/billing-keys/{key.pk}/")
    shot(page, "billing_key_detail_ko.png")
    page.goto(f"/m/{code}/billing-keys/{key.pk}/delete/")
    shot(page, "billing_key_delete_ko.png")
    page.goto(f"/m/{code}/schedules/")
    expect(page.locator("tr[data-merchant-uid]")).to_have_count(2)
    shot(page, "schedules_due_ko.png")
    page.goto(f"/m/{code}/payments/")
    shot(page, "payments_ko.png")
    page.goto(f"/m/{code}/billing-keys/?q=nobody")
    shot(page, "billing_keys_search_empty_ko.png")
