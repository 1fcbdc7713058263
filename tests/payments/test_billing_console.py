"""The console side of billing keys and scheduled payments (issue 15, item 6): the Billing keys
page (list, search, paging, detail, Delete after a confirmation that counts the schedules still
to run), the Schedules page (its four tabs, search, paging, Cancel after a confirmation), the
Payments page's key-in, billing-key and scheduled markers; who may see and who may act, and that
nothing of another merchant shows. Through the Django test client on the real database; keys,
schedules and payments are made with the REST API's services."""

import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from console.models import AuditEvent
from console.tenancy.audit import Actor
from payments.audit import AuditAction
from payments.domain import billing_keys, charges, schedules
from payments.models import BillingKey, Schedule
from tests.factories import make_member, make_sub_merchant

pytestmark = pytest.mark.django_db

APPROVE = "9410-0000-7000-0000"
LIMIT = "9410-0000-1000-1001"  # issues a key, declines each payment with it


def _key(merchant, customer_uid="cust_1", card=APPROVE):
    return billing_keys.billing_key_issue(merchant=merchant, customer_uid=customer_uid, card_number=card,
                                     expiry="2030-12", birth="900101", pg="ksnet.2999199990")


def _schedule(merchant, *merchant_uids, customer_uid="cust_1", seconds=3600, amount=9900):
    at = int(time.time() + seconds)
    return schedules.schedules_create(merchant=merchant, customer_uid=customer_uid, schedules=[
        {"merchant_uid": uid, "schedule_at": at + i, "amount": amount, "name": "Monthly plan"}
        for i, uid in enumerate(merchant_uids)])


def _run(*rows):
    """Make the schedules due and run them, as the periodic job would."""
    Schedule.objects.filter(pk__in=[row.pk for row in rows]).update(schedule_at=timezone.now() - timedelta(seconds=1))
    return [schedules.schedule_execute(schedule_id=row.pk) for row in rows]


def _url(name, merchant, **kwargs):
    return reverse(name, kwargs={"merchant_code": merchant.code, **kwargs})


def _key_url(name, key):
    return _url(f"billing_keys:{name}", key.merchant, billing_key_id=key.pk)


def _uids(html: str) -> list[str]:
    return re.findall(r'<tr data-customer-uid="([^"]+)"', html)


def _merchant_uids(html: str) -> list[str]:
    return re.findall(r'<tr data-merchant-uid="([^"]+)"', html)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def _client_as(client, merchant, role):
    client.force_login(make_member(merchant, role))
    return client


# --- the Billing keys page ------------------------------------------------------------


def test_the_empty_page_says_what_a_billing_key_is_and_how_one_is_issued(owner_client, agency):
    response = owner_client.get(_url("billing_keys:list", agency))
    html = response.content.decode()
    assert response.status_code == 200
    for words in ("No billing key yet", "customer_uid", "POST /subscribe/customers/{customer_uid}",
                  "POST /subscribe/payments/onetime", "IMP.request_pay", "docs/sandbox-payments.md"):
        assert words in html, words
    assert _url("channels:list", agency) in html


def test_the_list_shows_each_key_with_its_card_channel_and_schedules_to_run(owner_client, agency, other_merchant):
    _key(agency, "cust_1")
    _key(agency, "cust_2", card="5365-0000-4000-0000")
    _schedule(agency, "s1", "s2", customer_uid="cust_1")
    _key(other_merchant, "theirs_1")
    response = owner_client.get(_url("billing_keys:list", agency))
    html = response.content.decode()
    assert _uids(html) == ["cust_2", "cust_1"]  # newest first
    row = html.split('data-customer-uid="cust_1"')[1].split("</tr>")[0]
    assert "941000******0000" in row and "BC카드" in row and "ksnet.2999199990" in row
    assert "API (POST /subscribe/customers)" in row and "Active" in row
    assert re.search(r'class="text-end">2</td>', row)
    assert "536500******0000" in html and "신한카드" in html
    assert "theirs_1" not in html


def test_a_sub_merchant_sees_only_its_own_keys(client, agency, sub_merchant):
    _key(agency, "agency_key")
    mine = _key(sub_merchant, "seoul_key")
    sibling = make_sub_merchant(agency, "B02")
    theirs = _key(sibling, "sibling_key")
    _client_as(client, sub_merchant, "viewer")
    assert _uids(client.get(_url("billing_keys:list", sub_merchant)).content.decode()) == ["seoul_key"]
    assert client.get(_key_url("detail", mine)).status_code == 200
    assert client.get(_url("billing_keys:list", agency)).status_code == 404
    assert client.get(_key_url("detail", theirs)).status_code == 404
    # Through its own merchant code, another sub-merchant's key is not found either.
    assert client.get(_url("billing_keys:detail", sub_merchant, billing_key_id=theirs.pk)).status_code == 404


def test_another_merchants_key_is_not_found_whatever_the_role(owner_client, agency, other_merchant):
    theirs = _key(other_merchant, "cust_1")
    for name in ("detail", "delete"):
        url = _url(f"billing_keys:{name}", agency, billing_key_id=theirs.pk)
        assert owner_client.get(url).status_code == 404
        assert owner_client.post(url).status_code == 404
    assert owner_client.get(_key_url("detail", theirs)).status_code == 404
    assert BillingKey.objects.get(pk=theirs.pk).deleted_at is None


def test_the_detail_shows_every_field_its_payments_and_its_schedules(owner_client, agency):
    key = billing_keys.billing_key_issue(merchant=agency, customer_uid="cust_1", card_number=APPROVE, expiry="2030-12",
                                    birth="900101", pg="ksnet.2999199990", customer_id="member-42",
                                    customer_name="Hong Gildong", customer_email="hong@example.test")
    paid = charges.payment_again(merchant=agency, customer_uid="cust_1", merchant_uid="again_1", amount=5000,
                                 name="One-off")
    _schedule(agency, "plan_2025_01")
    html = owner_client.get(_key_url("detail", key)).content.decode()
    for text in ("cust_1", "member-42", "Hong Gildong", "hong@example.test", "941000******0000", "BC카드",
                 "Credit card", "ksnet", "2999199990", "API (POST /subscribe/customers)", "Issued at"):
        assert text in html, text
    assert _url("payment_activity:detail", agency, imp_uid=paid.imp_uid) in html
    assert 'data-kind="billing_key"' in html
    assert _merchant_uids(html) == ["plan_2025_01"]
    assert "Delete billing key" in html
    assert owner_client.post(_key_url("detail", key)).status_code == 405


def test_a_viewer_sees_the_keys_but_cannot_delete_one(client, agency):
    key = _key(agency)
    _client_as(client, agency, "viewer")
    assert client.get(_url("billing_keys:list", agency)).status_code == 200
    html = client.get(_key_url("detail", key)).content.decode()
    assert "cust_1" in html and "Delete billing key" not in html
    assert client.get(_key_url("delete", key)).status_code == 403
    assert client.post(_key_url("delete", key), {"reason": "x"}).status_code == 403
    assert BillingKey.objects.get(pk=key.pk).deleted_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.BILLING_KEY_DELETE).exists()


@pytest.mark.parametrize("role", ["manager", "developer", "admin"])
def test_delete_asks_first_then_deletes_with_an_audit_row(client, agency, role):
    key = _key(agency)
    _schedule(agency, "s1", "s2", "s3")
    operator = make_member(agency, role)
    client.force_login(operator)
    confirm = client.get(_key_url("delete", key))
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Delete the billing key cust_1?" in html
    assert "This customer_uid has 3 schedules still to run." in html
    assert "will fail at their time" in html
    assert BillingKey.objects.get(pk=key.pk).deleted_at is None  # a GET deletes nothing

    response = client.post(_key_url("delete", key), {"reason": "customer left"}, follow=True)
    assert response.redirect_chain[-1][0] == _key_url("detail", key)
    assert _messages(response) == ["Billing key cust_1 deleted. Its 3 schedules still to run will fail at their "
                                   "time, unless a key is issued again under this customer_uid."]
    key.refresh_from_db()
    assert key.deleted_at is not None and key.delete_reason == "customer left"
    event = AuditEvent.objects.get(action=AuditAction.BILLING_KEY_DELETE)
    assert (event.actor, event.merchant, event.target_id) == (operator, agency, str(key.pk))
    html = response.content.decode()
    assert "This billing key was deleted at" in html and "Delete billing key" not in html
    assert "3 schedules of this customer_uid are still to run" in html
    # The list shows it deleted, its schedules marked as bound to fail.
    listing = client.get(_url("billing_keys:list", agency)).content.decode()
    row = listing.split('data-customer-uid="cust_1"')[1].split("</tr>")[0]
    assert "Deleted" in row and "3, will fail" in row and "btn-outline-danger" not in row


def test_a_key_without_schedules_is_deleted_with_a_plain_message(owner_client, agency):
    key = _key(agency)
    assert "This customer_uid has no schedule still to run." in owner_client.get(_key_url("delete", key)).content.decode()
    response = owner_client.post(_key_url("delete", key), follow=True)
    assert _messages(response) == ["Billing key cust_1 deleted."]


def test_deleting_twice_or_an_old_tab_never_deletes_the_new_key(owner_client, agency):
    old = _key(agency)
    owner_client.post(_key_url("delete", old))
    new = _key(agency)  # issued again under the same customer_uid: a new row
    assert new.pk != old.pk
    # A reload of the old confirmation, or its POST again, touches nothing.
    assert "there is nothing to delete" in owner_client.get(_key_url("delete", old)).content.decode()
    response = owner_client.post(_key_url("delete", old), follow=True)
    assert _messages(response) == ["This billing key was deleted already."]
    assert BillingKey.objects.get(pk=new.pk).deleted_at is None
    assert AuditEvent.objects.filter(action=AuditAction.BILLING_KEY_DELETE).count() == 1
    # The old key's page points to the new one; the list shows both.
    assert _key_url("detail", new) in owner_client.get(_key_url("detail", old)).content.decode()
    assert _uids(owner_client.get(_url("billing_keys:list", agency)).content.decode()) == ["cust_1", "cust_1"]


def test_a_reason_too_long_is_refused_and_nothing_is_deleted(owner_client, agency):
    key = _key(agency)
    response = owner_client.post(_key_url("delete", key), {"reason": "x" * 301})
    assert response.status_code == 400
    assert "at most 300 characters" in response.content.decode()
    assert BillingKey.objects.get(pk=key.pk).deleted_at is None


def test_search_by_the_start_of_a_customer_uid(owner_client, agency):
    for uid in ("gold_1", "gold_2", "silver_1", "Gold_3"):
        _key(agency, uid)
    get = lambda q: owner_client.get(_url("billing_keys:list", agency), {"q": q})  # noqa: E731
    assert _uids(get("gold").content.decode()) == ["gold_2", "gold_1"]  # case counts: it is an ID
    assert _uids(get("Gold").content.decode()) == ["Gold_3"]  # on SQLite too, whose LIKE ignores case
    assert _uids(get("gol_").content.decode()) == []  # an underscore is a character, not a wildcard
    assert _uids(get("silver_1").content.decode()) == ["silver_1"]
    assert _uids(get("").content.decode()) == ["Gold_3", "silver_1", "gold_2", "gold_1"]
    nothing = get("bronze").content.decode()
    assert "No billing key has a customer_uid starting with “bronze”." in nothing
    assert "No billing key yet" not in nothing
    assert get("x" * 81).status_code == 400


def _many_keys(merchant, count):
    now = timezone.now()
    keys = BillingKey.objects.bulk_create([
        BillingKey(merchant=merchant, customer_uid=f"bulk_{i:03d}", pg_provider="ksnet", pg_id="2999199990",
                   issued_through="api", card_number="941000******0000", card_name="BC카드")
        for i in range(count)])
    for i, key in enumerate(keys):
        key.created_at = now - timedelta(hours=1) + timedelta(seconds=i)
    BillingKey.objects.bulk_update(keys, ["created_at"])
    return keys


def test_keys_are_paged_by_keyset_in_a_fixed_number_of_queries(owner_client, agency, django_assert_max_num_queries):
    _many_keys(agency, 60)
    url = _url("billing_keys:list", agency)
    with django_assert_max_num_queries(12):
        first = owner_client.get(url).content.decode()
    uids = _uids(first)
    assert len(uids) == 50 and uids[0] == "bulk_059" and uids[-1] == "bulk_010"
    after = re.search(r'rel="next" href="\?after=([0-9.]+)"', first)[1]
    with django_assert_max_num_queries(12):
        second = owner_client.get(url, {"after": after}).content.decode()
    assert _uids(second) == [f"bulk_{i:03d}" for i in range(9, -1, -1)]
    assert 'rel="next"' not in second
    before = re.search(r'rel="prev" href="\?before=([0-9.]+)"', second)[1]
    assert _uids(owner_client.get(url, {"before": before}).content.decode()) == uids
    # The search is kept from page to page.
    searched = owner_client.get(url, {"q": "bulk_0"}).content.decode()
    assert re.search(r'rel="next" href="\?q=bulk_0&amp;after=[0-9.]+"', searched)
    assert owner_client.get(url, {"after": "garbage"}).status_code == 200  # a bad cursor is the first page


# --- the Schedules page ---------------------------------------------------------------


@pytest.fixture
def four_kinds(agency):
    """A schedule of each tab: due, done (paid), failed (the card declines), cancelled."""
    _key(agency, "cust_ok")
    _key(agency, "cust_limit", card=LIMIT)
    due, done = _schedule(agency, "due_1", "done_1", customer_uid="cust_ok")
    (failed,) = _schedule(agency, "failed_1", customer_uid="cust_limit")
    (cancelled,) = _schedule(agency, "cancelled_1", customer_uid="cust_ok", seconds=7200)
    paid, declined = _run(done, failed)
    assert (paid.status, declined.status) == ("paid", "failed")
    schedules.schedules_revoke(actor=Actor(), merchant=agency, merchant_uids=["cancelled_1"])
    return {"due": due, "done": done, "failed": failed, "cancelled": cancelled, "paid": paid, "declined": declined}


def test_the_four_tabs(owner_client, agency, four_kinds):
    url = _url("schedules:list", agency)
    assert _merchant_uids(owner_client.get(url).content.decode()) == ["due_1"]
    for view, uid in (("due", "due_1"), ("done", "done_1"), ("failed", "failed_1"), ("cancelled", "cancelled_1")):
        html = owner_client.get(url, {"view": view}).content.decode()
        assert _merchant_uids(html) == [uid], view
    assert _merchant_uids(owner_client.get(url, {"view": "bogus"}).content.decode()) == ["due_1"]
    done = owner_client.get(url, {"view": "done"}).content.decode()
    assert _url("payment_activity:detail", agency, imp_uid=four_kinds["paid"].imp_uid) in done
    key = BillingKey.objects.get(merchant=agency, customer_uid="cust_ok")
    assert _key_url("detail", key) in done  # customer_uid links to its key
    failed = owner_client.get(url, {"view": "failed"}).content.decode()
    assert "limit exceeded" in failed and _url("payment_activity:detail", agency,
                                                imp_uid=four_kinds["declined"].imp_uid) in failed
    # Only a schedule still to run has a Cancel button.
    assert _url("schedules:cancel", agency, schedule_id=four_kinds["due"].pk) in owner_client.get(url).content.decode()
    assert "schedules/" + str(four_kinds["done"].pk) + "/cancel/" not in done


def test_search_schedules_by_merchant_uid_or_customer_uid(owner_client, agency):
    _key(agency, "cust_a")
    _key(agency, "cust_b")
    _schedule(agency, "a_1", "a_2", customer_uid="cust_a")
    _schedule(agency, "b_1", customer_uid="cust_b", seconds=7200)
    url = _url("schedules:list", agency)
    assert _merchant_uids(owner_client.get(url, {"q": "cust_a"}).content.decode()) == ["a_1", "a_2"]
    assert _merchant_uids(owner_client.get(url, {"q": "b_1"}).content.decode()) == ["b_1"]
    html = owner_client.get(url, {"q": "nope"}).content.decode()
    assert "No schedule in this tab has the merchant_uid or customer_uid “nope”." in html


def test_schedules_are_paged_soonest_first(owner_client, agency, django_assert_max_num_queries):
    _key(agency)
    _schedule(agency, *[f"s_{i:03d}" for i in range(60)])
    url = _url("schedules:list", agency)
    with django_assert_max_num_queries(12):
        first = owner_client.get(url).content.decode()
    assert _merchant_uids(first) == [f"s_{i:03d}" for i in range(50)]
    after = re.search(r'rel="next" href="\?after=([0-9.]+)"', first)[1]
    assert _merchant_uids(owner_client.get(url, {"after": after}).content.decode()) == [
        f"s_{i:03d}" for i in range(50, 60)]


def test_cancel_a_schedule_after_a_confirmation(client, agency):
    _key(agency)
    pending, other = _schedule(agency, "plan_1", "plan_2")
    operator = make_member(agency, "manager")
    client.force_login(operator)
    url = _url("schedules:cancel", agency, schedule_id=pending.pk)
    confirm = client.get(url).content.decode()
    assert "Cancel the schedule plan_1?" in confirm and "9,900 won" in confirm
    assert Schedule.objects.get(pk=pending.pk).status == "scheduled"
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == _url("schedules:list", agency)
    assert _messages(response) == ["Schedule plan_1 cancelled: it will not run."]
    assert _merchant_uids(response.content.decode()) == ["plan_2"]
    assert Schedule.objects.get(pk=pending.pk).status == "revoked"
    assert Schedule.objects.get(pk=other.pk).status == "scheduled"
    event = AuditEvent.objects.get(action=AuditAction.PAYMENT_SCHEDULE_REVOKE)
    assert (event.actor, event.target_id) == (operator, str(pending.pk))
    # A reload of the POST (or an old tab) cancels nothing more and says why.
    again = client.post(url, follow=True)
    assert _messages(again) == ["Schedule plan_1 is no longer waiting to run: nothing to cancel."]
    assert "there is nothing to cancel" in client.get(url).content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.PAYMENT_SCHEDULE_REVOKE).count() == 1
    cancelled = client.get(_url("schedules:list", agency), {"view": "cancelled"}).content.decode()
    assert _merchant_uids(cancelled) == ["plan_1"]


def test_cancel_returns_to_the_page_it_was_pressed_on_and_nowhere_else(owner_client, agency):
    key = _key(agency)
    first, second = _schedule(agency, "plan_1", "plan_2")
    detail = _key_url("detail", key)
    html = owner_client.get(detail).content.decode()
    assert f'/cancel/?next={detail}' in html
    response = owner_client.post(_url("schedules:cancel", agency, schedule_id=first.pk), {"next": detail})
    assert response["Location"] == detail
    response = owner_client.post(_url("schedules:cancel", agency, schedule_id=second.pk),
                                 {"next": "https://evil.example/"})
    assert response["Location"] == _url("schedules:list", agency)


def test_a_viewer_cannot_cancel_and_another_merchants_schedule_is_not_found(client, agency, other_merchant):
    _key(agency)
    (mine,) = _schedule(agency, "plan_1")
    _key(other_merchant)
    (theirs,) = _schedule(other_merchant, "plan_1")
    _client_as(client, agency, "viewer")
    listing = client.get(_url("schedules:list", agency)).content.decode()
    assert _merchant_uids(listing) == ["plan_1"] and "/cancel/" not in listing
    assert client.get(_url("schedules:cancel", agency, schedule_id=mine.pk)).status_code == 403
    assert client.post(_url("schedules:cancel", agency, schedule_id=mine.pk)).status_code == 403
    client.force_login(make_member(agency, "owner"))
    for method in (client.get, client.post):
        assert method(_url("schedules:cancel", agency, schedule_id=theirs.pk)).status_code == 404
        assert method(_url("schedules:cancel", other_merchant, schedule_id=theirs.pk)).status_code == 404
    assert Schedule.objects.get(pk=theirs.pk).status == "scheduled"


def test_a_sub_merchant_sees_only_its_own_schedules(client, agency, sub_merchant):
    _key(agency)
    _schedule(agency, "agency_plan")
    _key(sub_merchant)
    (mine,) = _schedule(sub_merchant, "seoul_plan")
    _client_as(client, sub_merchant, "manager")
    assert _merchant_uids(client.get(_url("schedules:list", sub_merchant)).content.decode()) == ["seoul_plan"]
    response = client.post(_url("schedules:cancel", sub_merchant, schedule_id=mine.pk), follow=True)
    assert _messages(response) == ["Schedule seoul_plan cancelled: it will not run."]
    assert client.get(_url("schedules:list", agency)).status_code == 404


# --- the Payments page ----------------------------------------------------------------


def test_the_payments_page_marks_key_in_billing_key_and_scheduled_payments(owner_client, agency):
    keyin = charges.keyin_pay(merchant=agency, merchant_uid="keyin_1", amount=1000, card_number=APPROVE,
                              expiry="2030-12", birth="900101", pg="nice", name="Blue mug")
    keyin_kept = charges.keyin_pay(merchant=agency, merchant_uid="keyin_2", amount=1000, card_number=APPROVE,
                                   expiry="2030-12", birth="900101", pg="nice", customer_uid="kept_1")
    key = _key(agency)
    again = charges.payment_again(merchant=agency, customer_uid="cust_1", merchant_uid="again_1", amount=5000,
                                  name="One-off")
    (scheduled,) = _run(*_schedule(agency, "plan_1"))
    html = owner_client.get(_url("payment_activity:list", agency)).content.decode()
    kinds = {}
    for row in html.split("<tr>")[2:]:
        imp_uid = re.search(r"(imp_[0-9]{12})", row)[1]
        found = re.search(r'data-kind="([a-z_]+)"', row)
        kinds[imp_uid] = found[1] if found else None
    assert kinds == {keyin.imp_uid: "keyin", keyin_kept.imp_uid: "keyin", again.imp_uid: "billing_key",
                     scheduled.imp_uid: "scheduled"}
    assert ">Key-in<" in html and ">Billing key<" in html and ">Scheduled<" in html
    assert _key_url("detail", key) in html  # the customer_uid links to its key

    detail = owner_client.get(_url("payment_activity:detail", agency, imp_uid=scheduled.imp_uid)).content.decode()
    assert 'data-kind="scheduled"' in detail and _key_url("detail", key) in detail
    assert "Scheduled payment" in detail and "Made by the schedule due at" in detail
    assert _url("schedules:list", agency) + "?view=done&amp;q=plan_1" in detail
    plain = owner_client.get(_url("payment_activity:detail", agency, imp_uid=keyin.imp_uid)).content.decode()
    assert 'data-kind="keyin"' in plain and "Billing key usage" not in plain


def test_the_menu_lists_both_pages_next_to_payments(client, agency):
    _client_as(client, agency, "viewer")
    html = client.get(_url("billing_keys:list", agency)).content.decode()
    nav = html.split('aria-label="Console navigation"')[1].split("</nav>")[0]
    links = re.findall(r'href="/m/[^/]+/([a-z-]*)/?"', nav)
    assert links.index("payments") + 1 == links.index("billing-keys")
    assert links.index("billing-keys") + 1 == links.index("schedules")
    assert 'aria-current="page">Billing keys<' in nav
