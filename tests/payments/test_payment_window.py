"""The sandbox payment window as the SDK's form reaches it (Django's client, no browser): it
opens for a test channel, each button ends it as PortOne would, the result goes back by
postMessage data or by redirect, and bad input is a 400 page, never a 500."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from channels.models import Channel, SharedTestCredential
from payments.models import Payment
from tests.factories import make_channel, make_member, make_merchant, make_sub_merchant

pytestmark = pytest.mark.django_db

SHOP = "http://shop.test:8000"
WINDOW = "/sandbox/pay/"


def ensure_shared_kcp():
    """The platform's shared KCP test MID (seeded by a migration; a transactional test's flush
    empties the table, so tests that need it make sure it is there)."""
    SharedTestCredential.objects.get_or_create(
        provider="kcp", module="window_general", mid="T0000", defaults={"pg_provider": "kcp"})


@pytest.fixture
def shop(db):
    ensure_shared_kcp()
    return make_merchant("Corner Shop")


def open_window(client, merchant, headers=None, **overrides):
    data = {"imp_code": merchant.code, "origin": SHOP, "pg": "kcp.T0000", "pay_method": "card",
            "merchant_uid": "order-1", "amount": "1000", "name": "Blue mug", "buyer_name": "Hong Gildong",
            "buyer_email": "gildong@example.test"}
    data.update(overrides)
    return client.post(WINDOW, {k: v for k, v in data.items() if v is not None}, headers=headers)


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def press(client, response, action, **extra):
    html = response.content.decode()
    imp_uid = re.search(r'action="/sandbox/pay/(imp_\d+)/"', html).group(1)
    data = {"token": hidden(html, "token"), "origin": hidden(html, "origin"), "action": action, **extra}
    return client.post(f"/sandbox/pay/{imp_uid}/", data), imp_uid


def message(response) -> dict | None:
    found = re.search(r'<script id="pgconsole-message" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    return json.loads(found.group(1)) if found else None


def test_the_window_opens_with_the_order_and_the_test_banner(client, shop):
    response = open_window(client, shop)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Corner Shop" in html and "Blue mug" in html and "1,000 won" in html
    assert "kcp.T0000" in html and "NHN KCP" in html and "Hong Gildong" in html
    assert "TEST" in html and "no money moves, no card data is asked" in html
    assert ">Approve<" in html and "Fail with this error" in html and "Close (the buyer cancels)" in html
    assert "F1001" in html and "Issue virtual account" not in html
    # Framed by the shop's page: no X-Frame-Options, frame-ancestors *, still no inline script.
    assert "X-Frame-Options" not in response.headers
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp and "script-src 'self'" in csp
    assert message(response) is None  # nothing goes back before a button
    payment = Payment.objects.get(merchant=shop, merchant_uid="order-1")
    assert payment.status == "ready" and payment.amount == 1000


def test_approve_sends_the_paid_rsp_to_the_shop_origin_once(client, shop):
    window = open_window(client, shop)
    done, imp_uid = press(client, window, "approve")
    assert done.status_code == 200
    assert "You can close this window." in done.content.decode()
    sent = message(done)
    assert sent["origin"] == SHOP
    assert sent["data"]["source"] == "pgconsole-sandbox"
    rsp = sent["data"]["rsp"]
    assert rsp["success"] is True and rsp["imp_success"] is True and rsp["imp_uid"] == imp_uid
    assert rsp["status"] == "paid" and rsp["paid_amount"] == 1000 and rsp["merchant_uid"] == "order-1"
    paid_at = Payment.objects.get(imp_uid=imp_uid).paid_at

    again, _ = press(client, window, "approve")  # a double click, or a second tab
    assert again.status_code == 200 and message(again)["data"]["rsp"]["success"] is True
    assert Payment.objects.get(imp_uid=imp_uid).paid_at == paid_at
    assert Payment.objects.filter(merchant=shop).count() == 1


def test_reopening_the_same_order_reuses_the_open_payment(client, shop):
    first = open_window(client, shop)
    second = open_window(client, shop)
    assert hidden(first.content.decode(), "token") and second.status_code == 200
    assert Payment.objects.filter(merchant=shop, merchant_uid="order-1").count() == 1


def test_fail_with_a_chosen_pg_error(client, shop):
    done, imp_uid = press(client, open_window(client, shop), "fail", error_code="F1001")
    rsp = message(done)["data"]["rsp"]
    assert rsp["success"] is False and rsp["error_code"] == "F1001"
    assert rsp["error_msg"] == "카드사 승인 거절: 한도 초과"  # stored in Korean
    assert Payment.objects.get(imp_uid=imp_uid).status == "failed"


def test_fail_with_an_unknown_error_keeps_the_window_open(client, shop):
    window = open_window(client, shop)
    again, imp_uid = press(client, window, "fail", error_code="F9999")
    assert again.status_code == 400
    assert "Choose a PG error from the list." in again.content.decode()
    assert message(again) is None and ">Approve<" in again.content.decode()
    assert Payment.objects.get(imp_uid=imp_uid).status == "ready"


def test_close_is_the_buyer_cancelling(client, shop):
    done, imp_uid = press(client, open_window(client, shop), "close")
    rsp = message(done)["data"]["rsp"]
    assert rsp["success"] is False and rsp["error_code"] == "F1002" and rsp["error_msg"]
    assert Payment.objects.get(imp_uid=imp_uid).status == "failed"


def test_approve_after_close_answers_with_the_payment_as_it_stands(client, shop):
    window = open_window(client, shop)
    press(client, window, "close")
    late, _ = press(client, window, "approve")  # the other tab
    assert late.status_code == 409
    assert message(late)["data"]["rsp"]["success"] is False


def test_vbank_issues_a_virtual_account(client, shop):
    window = open_window(client, shop, pay_method="vbank")
    html = window.content.decode()
    assert "Issue virtual account" in html and ">Approve<" not in html
    assert "KB Kookmin Bank" in html
    done, imp_uid = press(client, window, "vbank", bank="004")
    rsp = message(done)["data"]["rsp"]
    assert rsp["success"] is True and rsp["status"] == "ready"
    assert rsp["vbank_num"] and rsp["vbank_name"] == "KB국민은행" and rsp["vbank_date"] > 0
    missing, _ = press(client, open_window(client, shop, pay_method="vbank", merchant_uid="order-2"), "vbank")
    assert missing.status_code == 400 and "Choose a bank from the list." in missing.content.decode()


def test_a_bad_token_or_origin_is_refused(client, shop):
    window = open_window(client, shop)
    html = window.content.decode()
    imp_uid = re.search(r'action="/sandbox/pay/(imp_\d+)/"', html).group(1)
    origin = hidden(html, "origin")
    bad = client.post(f"/sandbox/pay/{imp_uid}/", {"token": "forged", "origin": origin, "action": "approve"})
    assert bad.status_code == 403 and "expired or is not valid" in bad.content.decode()
    other = client.post("/sandbox/pay/imp_000000000000/",
                        {"token": hidden(html, "token"), "origin": origin, "action": "approve"})
    assert other.status_code == 403
    tampered = client.post(f"/sandbox/pay/{imp_uid}/", {"token": hidden(html, "token"),
                                                         "origin": "https://evil.test", "action": "approve"})
    assert tampered.status_code == 403
    unknown = client.post(f"/sandbox/pay/{imp_uid}/", {"token": hidden(html, "token"), "origin": origin,
                                                        "action": "refund"})
    assert unknown.status_code == 400
    assert Payment.objects.get(imp_uid=imp_uid).status == "ready"
    assert client.get(f"/sandbox/pay/{imp_uid}/").status_code == 405
    assert client.get(WINDOW).status_code == 405


def test_redirect_mode_goes_back_with_portones_query(client, shop):
    window = open_window(client, shop, m_redirect_url="http://shop.test:8000/done?cart=7#top", origin=None)
    assert "form-action 'self' http://shop.test:8000" in window.headers["Content-Security-Policy"]
    back, imp_uid = press(client, window, "approve")
    assert back.status_code == 302
    location = urlsplit(back["Location"])
    assert (location.scheme, location.netloc, location.path, location.fragment) == (
        "http", "shop.test:8000", "/done", "top")
    query = parse_qs(location.query)
    assert query == {"cart": ["7"], "imp_uid": [imp_uid], "merchant_uid": ["order-1"], "imp_success": ["true"]}

    failed = open_window(client, shop, m_redirect_url="http://shop.test:8000/done", merchant_uid="order-2")
    back, imp_uid = press(client, failed, "fail", error_code="F1005")
    query = parse_qs(urlsplit(back["Location"]).query)
    assert query["imp_success"] == ["false"] and query["error_code"] == ["F1005"]
    assert query["error_msg"][0] == "카드사 승인 거절: 비밀번호 오류"


@pytest.mark.parametrize("amount", ["abc", "-1", "0", "1e20", "10.5", "", "99999999999999999999"])
def test_a_bad_amount_is_a_400_that_tells_the_shop(client, shop, amount):
    response = open_window(client, shop, amount=amount)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The payment window cannot open" in html and "amount" in html.lower()
    sent = message(response)
    assert sent["origin"] == SHOP
    rsp = sent["data"]["rsp"]
    assert rsp["success"] is False and rsp["error_code"] == "F400" and rsp["merchant_uid"] == "order-1"
    assert not Payment.objects.exists()


@pytest.mark.parametrize("overrides", [
    {"imp_code": "imp00000000"}, {"imp_code": ""}, {"pg": "nowhere.X1"}, {"merchant_uid": ""},
    {"pay_method": "bitcoin"}, {"currency": "USD"}, {"m_redirect_url": "javascript:alert(1)"},
    {"notice_url": '["ftp://x"]'}, {"channelKey": "channel-key-nope"}, {"name": "x" * 5000},
    {"origin": "null", "merchant_uid": "\x00"},
])
def test_bad_params_never_make_a_500(client, shop, overrides):
    response = open_window(client, shop, **overrides)
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_a_live_channel_takes_no_payment(client, shop):
    live = make_channel(shop, mode="live")
    response = open_window(client, shop, pg=None, channelKey=live.channel_key)
    assert response.status_code == 400 and "Live channels take no payments" in response.content.decode()


def test_no_http_origin_and_no_redirect_is_refused(client, shop):
    for origin in (None, "null", "file://", "http://shop.test/path", "http://user@shop.test", "ftp://shop.test"):
        response = open_window(client, shop, origin=origin)
        assert response.status_code == 400, origin
        assert message(response) is None  # nowhere safe to send it


def test_html_in_names_is_shown_escaped(client, shop):
    response = open_window(client, shop, name="<script>alert(1)</script>", buyer_name='"><img src=x>')
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x>" not in html


def test_a_10_mb_body_is_refused_cleanly(client, shop):
    response = client.post(WINDOW, {"imp_code": shop.code, "origin": SHOP, "amount": "1000",
                                    "merchant_uid": "big", "custom_data": "x" * (10 * 1024 * 1024)})
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_sub_merchant_pays_through_its_agency_code_and_tier(client, shop):
    sub = make_sub_merchant(shop, "S01", name="Corner Shop Busan")
    response = open_window(client, sub.parent, tier="S01")
    assert response.status_code == 200 and "Corner Shop Busan" in response.content.decode()
    assert Payment.objects.get().merchant == sub


def test_the_window_speaks_korean_when_the_browser_does(client, shop):
    response = open_window(client, shop, headers={"Accept-Language": "ko"})
    assert '<html lang="ko">' in response.content.decode()


def test_the_sdk_is_served_to_any_site(client):
    for path in ("/js/iamport.payment-1.2.0.js", "/js/iamport.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "max-age=86400" in response["Cache-Control"] and "public" in response["Cache-Control"]
        body = b"".join(response) if response.streaming else response.content
        assert b"window.IMP" in body and b"request_pay" in body
        assert client.get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.post("/js/iamport.js").status_code == 405


# --- the demo checkout ------------------------------------------------------------------


def try_url(merchant, channel_key):
    return reverse("payments:try", kwargs={"merchant_code": merchant.code, "channel_key": channel_key})


def shared_kcp(merchant) -> Channel:
    return Channel.objects.get(merchant=merchant, pg_provider="kcp", mid="T0000")


def test_the_try_page_pays_with_the_sdk_as_a_shop_would(client, shop):
    client.force_login(make_member(shop, "viewer"))
    channel = shared_kcp(shop)
    response = client.get(try_url(shop, channel.channel_key))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'src="/js/iamport.payment-1.2.0.js"' in html and "payments/try.js" in html
    assert f'data-imp-code="{shop.code}"' in html and 'data-pg="kcp.T0000"' in html and 'data-tier=""' in html
    listing = client.get(reverse("channels:list", kwargs={"merchant_code": shop.code})).content.decode()
    assert f"/channels/{channel.channel_key}/try/" in listing and "Try a test payment" in listing


def test_the_try_page_of_a_sub_merchant_uses_imp_agency(client, shop):
    sub = make_sub_merchant(shop, "S02")
    client.force_login(make_member(sub, "viewer"))
    html = client.get(try_url(sub, shared_kcp(sub).channel_key)).content.decode()
    assert f'data-imp-code="{shop.code}"' in html and 'data-tier="S02"' in html


def test_the_try_page_shows_the_redirect_query_escaped(client, shop):
    client.force_login(make_member(shop, "viewer"))
    response = client.get(try_url(shop, shared_kcp(shop).channel_key),
                          {"imp_uid": "imp_1", "imp_success": "false", "error_msg": "<b>no</b>"})
    html = response.content.decode()
    assert "imp_success" in html and "&lt;b&gt;no&lt;/b&gt;" in html


def test_the_try_page_is_for_enabled_test_channels_of_this_merchant(client, shop):
    client.force_login(make_member(shop, "owner"))
    live = make_channel(shop, mode="live")
    assert client.get(try_url(shop, live.channel_key)).status_code == 404
    other = make_merchant("Someone Else")
    assert client.get(try_url(shop, shared_kcp(other).channel_key)).status_code == 404
    assert client.get(try_url(other, shared_kcp(other).channel_key)).status_code == 404
    disabled = shared_kcp(shop)
    Channel.objects.filter(pk=disabled.pk).update(enabled=False)
    assert client.get(try_url(shop, disabled.channel_key)).status_code == 404
    client.logout()
    assert client.get(try_url(shop, disabled.channel_key)).status_code == 302
