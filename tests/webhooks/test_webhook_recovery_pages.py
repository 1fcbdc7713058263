"""The pages of recovery after a fix (issue 22, items 1–5): where each attempt went, Send now,
Resend failed deliveries since a time (counted and confirmed first), the payment's link, and
Recent deliveries updated in place after Send test. No worker: what goes to the broker is
recorded instead (tests/webhooks/test_webhook_recovery.py sends for real)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from console.models import AuditEvent
from console.tenancy.audit import Actor
from tests.factories import make_member, make_merchant
from webhooks import services, tasks
from webhooks.models import Delivery, WebhookEndpoint

# Committed, as in production: what the services hand to the broker after commit is seen.
pytestmark = pytest.mark.django_db(transaction=True)

HOOK = "http://127.0.0.1:9/hook"
FIXED = "http://127.0.0.1:9/fixed"


def url(name, merchant, **kw):
    return reverse(f"webhooks:{name}", kwargs={"merchant_code": merchant.code, **kw})


@pytest.fixture
def queued(monkeypatch):
    """The ids handed to the broker, by task (the tests that use it commit, so the services'
    after-commit hand-over runs)."""
    sent = {"deliver": [], "dispatch": []}
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, **kw: sent["deliver"].append(args[0]))
    monkeypatch.setattr(tasks.deliveries_dispatch, "apply_async",
                        lambda args, **kw: sent["dispatch"].append(list(args[0])))
    return sent


@pytest.fixture
def developer_client(client, agency):
    client.force_login(make_member(agency, "developer"))
    return client


def _endpoint(merchant, hook=HOOK, mode="test"):
    return services.endpoint_save(actor=Actor(), merchant=merchant, mode=mode, url=hook, content_type="json",
                                  version="v1")


def _delivery(endpoint, *, status="failed", trigger="event", attempts=1, created_at=None, **kw):
    delivery = Delivery.objects.create(
        merchant=endpoint.merchant, endpoint=endpoint, mode=endpoint.mode, trigger=trigger, event="paid",
        url=kw.pop("url", HOOK), content_type="json", version="v1",
        body='{"imp_uid":"imp_abc123","merchant_uid":"order_1","status":"paid"}',
        imp_uid="imp_abc123" if trigger == "event" else "", status=status, attempt_count=attempts,
        created_at=created_at or timezone.now(), **kw)
    for number in range(1, attempts + 1):
        delivery.attempts.create(number=number, url=delivery.url, request_headers={}, request_body=delivery.body,
                                 response_status=500, error_kind="http_status")
    return delivery


# --- 1. Where each attempt went ---------------------------------------------------------------

def test_the_detail_page_says_where_each_attempt_went_and_where_the_next_goes(developer_client, agency):
    endpoint = _endpoint(agency)
    delivery = _delivery(endpoint)
    _endpoint(agency, FIXED)  # fixed since
    html = developer_client.get(url("delivery", agency, message_id=delivery.message_id)).content.decode()
    assert f'Sent to <span class="font-monospace">{HOOK}</span>' in html
    assert f"The endpoint's URL is now {FIXED}: the next attempt or a resend goes there." in html


def test_a_notice_url_delivery_says_it_stays_with_its_url(developer_client, agency):
    endpoint = _endpoint(agency)
    delivery = _delivery(endpoint, url="http://127.0.0.1:9/notice", to_notice_url=True)
    html = developer_client.get(url("delivery", agency, message_id=delivery.message_id)).content.decode()
    assert "every attempt goes there, whatever the endpoint" in html
    assert 'id="url-changed"' not in html


def test_a_resend_to_an_endpoint_without_a_url_is_refused_in_words(developer_client, agency, queued):
    endpoint = _endpoint(agency)
    delivery = _delivery(endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="")
    response = developer_client.post(url("resend", agency, message_id=delivery.message_id),
                                     {"attempts": "1"}, follow=True)
    assert "The endpoint has no URL now. Save an Endpoint URL first." in response.content.decode()
    assert Delivery.objects.get(pk=delivery.pk).status == "failed" and queued["deliver"] == []


def test_an_event_resend_to_a_disabled_endpoint_is_refused_but_a_notice_url_one_goes(
        developer_client, agency, queued):
    endpoint = _endpoint(agency)
    event = _delivery(endpoint)
    notice = _delivery(endpoint, url="http://127.0.0.1:9/notice", to_notice_url=True)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)
    refused = developer_client.post(url("resend", agency, message_id=event.message_id), follow=True)
    assert "The endpoint is disabled. Turn on Send notifications first." in refused.content.decode()
    sent = developer_client.post(url("resend", agency, message_id=notice.message_id), follow=True)
    assert "to the payment&#x27;s notice_url" in sent.content.decode()
    assert queued["deliver"] == [notice.pk]


# --- 2. Send now -------------------------------------------------------------------------------

def test_a_retrying_delivery_has_send_now_which_brings_the_next_attempt_forward(
        developer_client, agency, queued):
    endpoint = _endpoint(agency)
    later = timezone.now() + timedelta(minutes=16)
    delivery = _delivery(endpoint, status="retrying", max_attempts=6, next_attempt_at=later)
    html = developer_client.get(url("delivery", agency, message_id=delivery.message_id)).content.decode()
    assert ">Send now</button>" in html and 'name="attempts" value="1"' in html
    assert "The next automatic attempt is at" in html

    response = developer_client.post(url("resend", agency, message_id=delivery.message_id), {"attempts": "1"},
                                     follow=True)
    assert f"to the endpoint&#x27;s URL: {HOOK}" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "retrying" and delivery.max_attempts == 6  # the schedule's own attempt
    assert delivery.next_attempt_at <= timezone.now() and queued["deliver"] == [delivery.pk]
    event = AuditEvent.objects.get(action="webhook.resend")
    assert set(event.changes) == {"next_attempt_at"}

    # Pressed again (a double click, a second tab): it is due already, nothing more is queued.
    again = developer_client.post(url("resend", agency, message_id=delivery.message_id), {"attempts": "1"},
                                  follow=True)
    assert "already queued" in again.content.decode()
    assert queued["deliver"] == [delivery.pk] and AuditEvent.objects.filter(action="webhook.resend").count() == 1


def test_a_press_from_a_page_older_than_the_last_attempt_sends_nothing(developer_client, agency, queued):
    endpoint = _endpoint(agency)
    delivery = _delivery(endpoint, attempts=2)
    response = developer_client.post(url("resend", agency, message_id=delivery.message_id), {"attempts": "1"},
                                     follow=True)
    assert "Attempt 2 was made after this page was shown" in response.content.decode()
    assert Delivery.objects.get(pk=delivery.pk).status == "failed" and queued["deliver"] == []


def test_a_pending_delivery_and_a_viewer_get_no_button(client, agency):
    endpoint = _endpoint(agency)
    pending = _delivery(endpoint, status="pending", attempts=0, next_attempt_at=timezone.now())
    retrying = _delivery(endpoint, status="retrying", next_attempt_at=timezone.now() + timedelta(minutes=4))
    client.force_login(make_member(agency, "developer"))
    html = client.get(url("delivery", agency, message_id=pending.message_id)).content.decode()
    assert "Send now" not in html and ">Resend</button>" not in html
    client.force_login(make_member(agency, "viewer"))
    html = client.get(url("delivery", agency, message_id=retrying.message_id)).content.decode()
    assert "Send now" not in html
    assert client.post(url("resend", agency, message_id=retrying.message_id)).status_code == 403


# --- 3. Resend failed deliveries since … -----------------------------------------------------

def _failed_since(endpoint, n, since):
    return [_delivery(endpoint, created_at=since + timedelta(minutes=i + 1)) for i in range(n)]


def test_recover_counts_first_then_resends_on_confirmation(developer_client, agency, queued):
    endpoint = _endpoint(agency)
    since = timezone.now() - timedelta(hours=2)
    failed = _failed_since(endpoint, 3, since)
    _delivery(endpoint, created_at=since - timedelta(minutes=5))  # before the time
    _delivery(endpoint, trigger="test")  # a test
    _delivery(endpoint, url="http://127.0.0.1:9/notice", to_notice_url=True)  # a notice_url
    _delivery(endpoint, status="succeeded")
    _endpoint(agency, FIXED)
    local = timezone.localtime(since).strftime("%Y-%m-%dT%H:%M")

    settings_page = developer_client.get(url("settings", agency)).content.decode()
    assert 'aria-label="Resend failed test deliveries"' in settings_page
    review = developer_client.get(url("recover", agency, mode="test") + f"?since={local}")
    html = review.content.decode()
    assert review.status_code == 200
    assert f"<strong>3</strong> payment notifications failed since {local.replace('T', ' ')}" in html
    assert f"Resend them to {FIXED}?" in html and ">Resend 3 deliveries</button>" in html
    assert queued == {"deliver": [], "dispatch": []} and not AuditEvent.objects.filter(action="webhook.recover")

    hidden = html.split('name="since" value="')[1].split('"')[0]
    response = developer_client.post(url("recover", agency, mode="test"), {"since": hidden})
    assert response.status_code == 302 and response["Location"].endswith("/webhooks/deliveries/?mode=test")
    page = developer_client.get(response["Location"]).content.decode()
    assert "3 failed deliveries since" in page and "are being sent again." in page
    assert sorted(queued["dispatch"][0]) == sorted(d.pk for d in failed)
    for delivery in failed:
        delivery.refresh_from_db()
        assert (delivery.status, delivery.max_attempts, delivery.completed_at) == ("pending", 2, None)
    event = AuditEvent.objects.get(action="webhook.recover")
    assert event.merchant == agency and event.changes["resent"] == {"old": None, "new": 3}

    # The task hands what is still due to the engine.
    assert services.deliveries_dispatch(delivery_ids=[d.pk for d in failed]) == 3
    assert sorted(queued["deliver"]) == sorted(d.pk for d in failed)


def test_recover_says_when_there_is_more_than_one_go_takes(developer_client, agency, queued, monkeypatch):
    from webhooks.services import deliveries

    monkeypatch.setattr(deliveries, "RECOVER_MAX", 2)
    monkeypatch.setattr(services, "RECOVER_MAX", 2)
    endpoint = _endpoint(agency)
    since = timezone.now() - timedelta(hours=1)
    failed = _failed_since(endpoint, 3, since)
    local = timezone.localtime(since).strftime("%Y-%m-%dT%H:%M")
    html = developer_client.get(url("recover", agency, mode="test") + f"?since={local}").content.decode()
    assert "At most 2 are resent at a time, the oldest first" in html and ">Resend 2</button>" in html
    response = developer_client.post(url("recover", agency, mode="test"), {"since": local}, follow=True)
    page = response.content.decode()
    assert "2 failed deliveries since" in page
    assert "1 more failed delivery since then was not included (at most 2 at a time)" in page
    assert sorted(queued["dispatch"][0]) == [failed[0].pk, failed[1].pk]


@pytest.mark.parametrize(("since", "message"), [
    ("yesterday", "Enter a date and time, for example 2026-12-08 09:30."),
    ("", "This field is required."),
    ((timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"), "Choose a time in the past."),
])
def test_recover_with_a_bad_time_is_a_400_in_words(developer_client, agency, queued, since, message):
    endpoint = _endpoint(agency)
    _failed_since(endpoint, 1, timezone.now() - timedelta(hours=1))
    for response in (developer_client.get(url("recover", agency, mode="test"), {"since": since}),
                     developer_client.post(url("recover", agency, mode="test"), {"since": since})):
        assert response.status_code == 400 and message in response.content.decode()
    assert Delivery.objects.get().status == "failed" and not AuditEvent.objects.filter(action="webhook.recover")


def test_recover_of_a_disabled_endpoint_is_refused_before_it_asks(developer_client, agency, queued):
    endpoint = _endpoint(agency)
    _failed_since(endpoint, 1, timezone.now() - timedelta(hours=1))
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)
    since = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    review = developer_client.get(url("recover", agency, mode="test"), {"since": since})
    assert review.status_code == 400
    html = review.content.decode()
    assert "The endpoint is disabled. Turn on Send notifications first." in html and "Resend 1" not in html
    assert developer_client.post(url("recover", agency, mode="test"), {"since": since}).status_code == 400
    assert Delivery.objects.get().status == "failed"


def test_recover_with_nothing_failed_says_so(developer_client, agency, queued):
    _endpoint(agency)
    since = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    html = developer_client.get(url("recover", agency, mode="test"), {"since": since}).content.decode()
    assert "No payment notification has failed since" in html and "<button" not in html.split("<main")[-1]


def test_recover_reaches_only_this_merchants_endpoint(client, agency, other_merchant, queued):
    other = _endpoint(other_merchant)
    _failed_since(other, 2, timezone.now() - timedelta(hours=1))
    client.force_login(make_member(agency, "developer"))
    since = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    # The agency has no test endpoint: not found, whatever the other merchant has.
    assert client.post(url("recover", agency, mode="test"), {"since": since}).status_code == 404
    assert client.post(url("recover", other_merchant, mode="test"), {"since": since}).status_code == 404
    assert not Delivery.objects.exclude(status="failed").exists()


# --- 4. The payment's link ------------------------------------------------------------------

def test_an_event_links_to_its_payment_and_a_test_does_not(developer_client, agency):
    endpoint = _endpoint(agency)
    event = _delivery(endpoint)
    test = _delivery(endpoint, trigger="test")
    html = developer_client.get(url("delivery", agency, message_id=event.message_id)).content.decode()
    link = reverse("payment_activity:detail", kwargs={"merchant_code": agency.code, "imp_uid": "imp_abc123"})
    assert f'href="{link}">imp_abc123</a>' in html
    html = developer_client.get(url("delivery", agency, message_id=test.message_id)).content.decode()
    assert "imp_abc123" not in html.split("<main")[-1].split("Attempt 1")[0]  # no payment row


def test_notify_records_the_payment_of_the_event(agency):
    _endpoint(agency, mode="live")
    delivery = services.notify_event(merchant=agency, mode="live", imp_uid="imp_link_1", merchant_uid="o_1",
                                     status="paid")
    assert delivery.imp_uid == "imp_link_1"
    test, _ = services.delivery_send_test(actor=Actor(), merchant=make_merchant_with_hook(), mode="test")
    assert test.imp_uid == ""


def make_merchant_with_hook():
    merchant = make_merchant("Tester")
    _endpoint(merchant)
    return merchant


# --- 5. Recent deliveries in place --------------------------------------------------------------

def test_send_test_and_its_result_swap_recent_deliveries_in_place(developer_client, agency, queued):
    _endpoint(agency)
    page = developer_client.get(url("settings", agency)).content.decode()
    assert "Nothing sent yet." in page and 'id="recent-deliveries"' in page
    response = developer_client.post(url("send_test", agency, mode="test"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    delivery = Delivery.objects.get()
    assert 'id="recent-deliveries" hx-swap-oob="true"' in html
    recent = html.split('id="recent-deliveries"')[1]
    assert delivery.message_id in recent and "Nothing sent yet." not in recent
    assert ">Pending</span>" in recent

    Delivery.objects.filter(pk=delivery.pk).update(status="succeeded", attempt_count=1, completed_at=timezone.now())
    result = developer_client.get(url("delivery_result", agency, message_id=delivery.message_id)).content.decode()
    assert 'hx-swap-oob="true"' in result and ">Succeeded</span>" in result.split('id="recent-deliveries"')[1]


# --- The migration that fills the new columns for older rows ----------------------------------

@pytest.mark.django_db  # nothing here needs a commit
@pytest.mark.parametrize(("version", "content_type", "body", "expected"), [
    ("v1", "json", '{"imp_uid":"imp_111","merchant_uid":"o","status":"paid"}', "imp_111"),
    ("v1", "form", "imp_uid=imp_222&merchant_uid=o&status=paid", "imp_222"),
    ("v2", "json", '{"type":"Transaction.Paid","data":{"storeId":"s","paymentId":"o","transactionId":"imp_333"}}',
     "imp_333"),
    ("v1", "json", "not json", ""),
])
def test_older_rows_get_their_payment_and_each_attempt_its_url(agency, version, content_type, body, expected):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("webhooks.migrations.0006_attempt_url_and_delivery_imp_uid")
    endpoint = _endpoint(agency)
    delivery = Delivery.objects.create(merchant=agency, endpoint=endpoint, mode="test", trigger="event", event="paid",
                                       url=HOOK, content_type=content_type, version=version, body=body)
    test = Delivery.objects.create(merchant=agency, endpoint=endpoint, mode="test", trigger="test", event="paid",
                                   url=HOOK, content_type="json", version="v1",
                                   body='{"imp_uid":"imp_test_1","merchant_uid":"t","status":"paid"}')
    attempt = delivery.attempts.create(number=1, request_headers={}, request_body=body)
    migration.backfill(apps, None)
    delivery.refresh_from_db()
    test.refresh_from_db()
    attempt.refresh_from_db()
    assert (delivery.imp_uid, test.imp_uid, attempt.url) == (expected, "", HOOK)
