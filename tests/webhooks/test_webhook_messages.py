"""What went wrong with a delivery is stored as a message code and its parameters and shown
in the reader's language: the worker (and the web request that checked a URL) never decides
the language of the words an operator reads. Rows stored before the codes show their text."""

import re
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from console.tenancy.audit import Actor
from tests.factories import make_member
from tests.receiver import Receiver, Reply
from webhooks import errors, services
from webhooks.models import Delivery

ROOT = Path(__file__).resolve().parents[2]
KO = {"HTTP_ACCEPT_LANGUAGE": "ko"}


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    yield
    translation.deactivate()  # a Korean page leaves Korean active in this thread


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def owner_client(client, agency):
    client.force_login(make_member(agency, "owner"))
    return client


def _page(client, name, merchant, **kwargs):
    kwargs.update(merchant_code=merchant.code)
    return client.get(reverse(f"webhooks:{name}", kwargs=kwargs), **KO).content.decode()


def _delivery(merchant, endpoint, **fields) -> Delivery:
    return Delivery.objects.create(merchant=merchant, endpoint=endpoint, mode=endpoint.mode, event="paid",
                                   url=endpoint.url, content_type="json", version="v1", body="{}",
                                   next_attempt_at=timezone.now(), **fields)


@pytest.fixture
def ko_translations(monkeypatch):
    """Korean for a few of the new msgids, until locale/ko has them: what gettext would find in
    the catalog. Only the active language's lookups change; English stays the msgid."""
    words = {
        "The receiver did not answer within %(duration)s.": "수신 서버가 %(duration)s 안에 응답하지 않았습니다.",
        "The URL contains a user name or password before the host; put credentials in a "
        "header or the signing secret instead.": "URL의 호스트 앞에 사용자 이름이나 비밀번호가 있습니다.",
    }
    real_gettext, real_ngettext = errors.gettext, errors.ngettext

    def gettext(message):
        if translation.get_language() == "ko" and message in words:
            return words[message]
        return real_gettext(message)

    def ngettext(singular, plural, number):
        if translation.get_language() == "ko" and singular == "%(n)s second":
            return "%(n)s초"
        return real_ngettext(singular, plural, number)

    monkeypatch.setattr(errors, "gettext", gettext)
    monkeypatch.setattr(errors, "ngettext", ngettext)


@pytest.mark.django_db
def test_a_stored_reason_is_shown_in_the_language_of_the_page(owner_client, agency, ko_translations):
    endpoint = services.endpoint_ensure(merchant=agency, mode="test")
    delivery = _delivery(agency, endpoint, trigger="test", status="failed", attempt_count=1,
                         last_error="The receiver did not answer within 1.5 seconds.",
                         last_error_params={"code": "send.read_timeout", "seconds": 1.5})
    delivery.attempts.create(number=1, request_body="{}", error_kind="timeout",
                             error_message="The receiver did not answer within 1.5 seconds.",
                             error_params={"code": "send.read_timeout", "seconds": 1.5})
    detail = _page(owner_client, "delivery", agency, message_id=delivery.message_id)
    result = _page(owner_client, "delivery_result", agency, message_id=delivery.message_id)
    for html in (detail, result):
        assert "수신 서버가 1.5초 안에 응답하지 않았습니다." in html
        assert "did not answer" not in html
    english = owner_client.get(reverse("webhooks:delivery", kwargs={
        "merchant_code": agency.code, "message_id": delivery.message_id})).content.decode()
    assert "The receiver did not answer within 1.5 seconds." in english


@pytest.mark.django_db
def test_the_engine_stores_a_code_that_an_existing_translation_renders(owner_client, agency):
    """End to end with the real catalog: the worker stores a code and English; a Korean page
    shows the Korean of locale/ko."""
    endpoint = services.endpoint_save(actor=Actor(), merchant=agency, mode="live",
                                      url="http://127.0.0.1:9/h", content_type="json", version="v1")
    endpoint.enabled = False
    endpoint.save()
    delivery = _delivery(agency, endpoint, trigger="event")
    assert services.deliver(delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.last_error == "The endpoint is disabled; nothing was sent."
    assert delivery.last_error_params == {"code": "engine.endpoint_disabled"}
    html = _page(owner_client, "deliveries", agency)
    assert "엔드포인트가 사용 안 함 상태여서" in html
    assert "The endpoint is disabled" not in html


@pytest.mark.django_db
def test_the_reason_an_endpoint_was_disabled_is_shown_translated(owner_client, agency, receiver):
    receiver.script("/gone", [Reply(410, b"gone")])
    endpoint = services.endpoint_save(actor=Actor(), merchant=agency, mode="live",
                                      url=receiver.url("/gone"), content_type="json", version="v1")
    attempt = services.deliver(_delivery(agency, endpoint, trigger="event").pk)
    assert attempt.error_params == {"code": "send.status", "status": 410}
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == "The receiver answered 410 Gone, so the endpoint was disabled."
    assert "수신 서버가 410 Gone으로 응답하여" in _page(owner_client, "settings", agency)


@pytest.mark.django_db
def test_an_unsafe_url_is_refused_in_the_operators_language(owner_client, agency, ko_translations):
    response = owner_client.post(
        reverse("webhooks:save", kwargs={"merchant_code": agency.code, "mode": "test"}),
        {"test-url": "http://user:pw@93.184.216.34/", "test-content_type": "json",
         "test-version": "v1", "test-enabled": "on"}, **KO)
    assert response.status_code == 400
    assert "URL의 호스트 앞에 사용자 이름이나 비밀번호가 있습니다." in response.content.decode()


@pytest.mark.django_db
def test_rows_stored_before_the_codes_show_their_english_text(owner_client, agency):
    endpoint = services.endpoint_ensure(merchant=agency, mode="test")
    delivery = _delivery(agency, endpoint, trigger="test", status="failed", attempt_count=1,
                         last_error="An old message in English.")
    delivery.attempts.create(number=1, request_body="{}", error_kind="http_status", response_status=500,
                             error_message="An old attempt message in English.")
    assert "An old attempt message in English." in _page(owner_client, "delivery", agency,
                                                         message_id=delivery.message_id)
    assert "An old message in English." in _page(owner_client, "deliveries", agency)


def test_a_failed_send_stores_its_code_parameters_and_english(receiver):
    from webhooks.net import post

    receiver.script("/teapot", [Reply(418, b"short and stout")])
    result = post(receiver.url("/teapot"), body=b"{}", headers={}, allowed_networks=["127.0.0.0/8"])
    assert (result.error_kind, result.error_params) == ("http_status", {"code": "send.status", "status": 418})
    assert result.error_message == "The receiver answered 418."


def _sample(template: str) -> dict:
    params = {}
    for name in re.findall(r"%\((\w+)\)s", template):
        if name in ("why", "inner"):
            params[name] = {"code": "why.loopback"}
        elif name == "range":
            params[name] = {"code": "range.nat64"}
        elif name == "duration":
            params["seconds"] = 2
        else:
            params[name] = f"<{name}>"
    return params


@pytest.mark.parametrize("code", sorted(errors.MESSAGES))
def test_every_message_renders_with_its_parameters(code):
    detail = {"code": code, **_sample(errors.MESSAGES[code])}
    text = errors.render(detail, translate=False)
    assert text and "%(" not in text
    assert errors.render(detail) == text  # English is the msgid


@pytest.mark.script
def test_every_message_is_found_by_makemessages(tmp_path):
    """The msgids are marked the way `makemessages` finds them (its xgettext keywords), so the
    Korean can be added to locale/ko."""
    sources = sorted(str(p) for p in (ROOT / "webhooks").rglob("*.py") if "migrations" not in p.parts)
    pot = tmp_path / "webhooks.pot"
    subprocess.run(["xgettext", "--language=Python", "--from-code=UTF-8", "--keyword=gettext_noop",
                    "--keyword=gettext_lazy", "--keyword=ngettext_lazy:1,2", "--no-wrap",
                    f"--output={pot}", *sources], check=True, timeout=60)
    found = pot.read_text()
    for code, message in errors.MESSAGES.items():
        msgid = message.replace("\\", "\\\\").replace('"', '\\"')
        assert f'msgid "{msgid}"' in found, code
    assert 'msgid "%(n)s second"\nmsgid_plural "%(n)s seconds"' in found


@pytest.mark.django_db
def test_the_admin_shows_the_stored_reason_translated(client, agency):
    from tests.factories import OperatorFactory

    endpoint = services.endpoint_ensure(merchant=agency, mode="live")
    delivery = _delivery(agency, endpoint, trigger="event", status="failed",
                         last_error="The endpoint is disabled; nothing was sent.",
                         last_error_params={"code": "engine.endpoint_disabled"})
    client.force_login(OperatorFactory(is_staff=True, is_superuser=True))
    html = client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk]), **KO).content.decode()
    assert "엔드포인트가 사용 안 함 상태여서" in html
