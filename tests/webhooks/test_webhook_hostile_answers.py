"""Whatever a receiver answers, the attempt is recorded and the delivery moves on: a header or a
body that some parser or the database chokes on never leaves the delivery Pending, to be sent
again every lease for ever (issue 20, item 14). Runs on SQLite and on PostgreSQL, which refuses
NUL in text and JSON."""

import gzip
import socket
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from console.tenancy.audit import Actor
from tests.factories import make_merchant
from webhooks import services
from webhooks.models import Delivery
from webhooks.services import engine

pytestmark = pytest.mark.django_db

HALF_A_MEGABYTE_OF_NUL = gzip.compress(b"\x00" * 500_000)

# name: (the receiver's answer, byte for byte; the delivery's status after the attempt)
ANSWERS = {
    "retry_after_superscript_two": (
        b"HTTP/1.1 503 Busy\r\nRetry-After: \xb2\r\nContent-Length: 0\r\n\r\n", "retrying"),
    "retry_after_superscript_three": (
        b"HTTP/1.1 429 Slow\r\nRetry-After: \xb3\r\nContent-Length: 0\r\n\r\n", "retrying"),
    "retry_after_date_past_year_9999": (
        b"HTTP/1.1 503 Busy\r\nRetry-After: Mon, 32 Jan 99999999999999999999 24:60:60 GMT\r\n"
        b"Content-Length: 0\r\n\r\n", "retrying"),
    "nul_in_a_header": (b"HTTP/1.1 503 Busy\r\nX-Trace: a\x00b\r\nContent-Length: 0\r\n\r\n", "retrying"),
    "nul_in_the_body": (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\x00b", "succeeded"),
    "nul_in_the_location": (
        b"HTTP/1.1 302 Found\r\nLocation: /a\x00b\r\nContent-Length: 0\r\n\r\n", "failed"),
    "nul_in_a_gzipped_body": (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
        % len(HALF_A_MEGABYTE_OF_NUL) + HALF_A_MEGABYTE_OF_NUL, "succeeded"),
    "nul_in_the_status_line": (b"HTTP/1.1 500 a\x00b\r\nContent-Length: 0\r\n\r\n", "retrying"),
    "not_http_with_a_nul": (b"hello\x00world\r\n\r\n", "retrying"),
}


class RawReceiver:
    """Answers every request on loopback with the same bytes, whatever they are."""

    def __init__(self, answer: bytes):
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    request += chunk
                try:
                    conn.sendall(self.answer)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def _delivery_to(url: str) -> Delivery:
    merchant = make_merchant("Hostile")
    endpoint = services.endpoint_save(actor=Actor(), merchant=merchant, mode="test", url=url,
                                      content_type="json", version="v1")
    return Delivery.objects.create(merchant=merchant, endpoint=endpoint, mode="test", trigger="event",
                                   event="paid", url=url, content_type="json", version="v1",
                                   body="{}", next_attempt_at=timezone.now())


@pytest.mark.parametrize("name", list(ANSWERS))
def test_any_answer_is_recorded_and_the_delivery_moves_on(name, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 4]
    settings.WEBHOOK_RETRY_UNIT_SECONDS = 60
    answer, status = ANSWERS[name]
    receiver = RawReceiver(answer)
    try:
        delivery = _delivery_to(f"http://127.0.0.1:{receiver.port}/hook")
        attempt = engine.deliver(delivery.pk)
    finally:
        receiver.close()
    assert attempt is not None, "no attempt recorded"
    delivery.refresh_from_db()
    assert delivery.status == status and delivery.attempt_count == 1
    assert delivery.locked_until is None and delivery.lock_token == ""  # nobody sends it again now
    if status == "retrying":  # the schedule's minute (±20 %), whatever Retry-After said
        wait = (delivery.next_attempt_at - attempt.started_at).total_seconds()
        assert 45 <= wait <= 75, wait
    for text in (attempt.response_body, attempt.error_message, delivery.last_error,
                 *attempt.response_headers, *attempt.response_headers.values()):
        assert "\x00" not in text


def test_the_receivers_own_headers_and_body_are_kept_as_sent(settings):
    receiver = RawReceiver(
        b"HTTP/1.1 503 Busy\r\nRetry-After: \xb2\r\nX-Trace: a\x00b\r\nContent-Length: 5\r\n\r\nx\x00y\xb2z")
    try:
        attempt = engine.deliver(_delivery_to(f"http://127.0.0.1:{receiver.port}/hook").pk)
    finally:
        receiver.close()
    assert attempt.response_status == 503
    assert attempt.response_headers["Retry-After"] == "\u00b2"  # recorded as the receiver sent it
    assert attempt.response_headers["X-Trace"] == "a\ufffdb"  # NUL is what no database stores
    assert attempt.response_body == "x\ufffdy\ufffdz"  # not UTF-8, and a NUL


@pytest.mark.parametrize("value", ["\u00b2", "\u00b3", "\u00b9", "\u0661\u0662", "\uff11\uff12", "1e3",
                                   "-5", "1.5", "12 34", "\x00", "Mon, 01 Jan 2020 25:61:61 GMT",
                                   "  32 Jan 99999999999999999999 24:60:60 :", "soon"])
def test_an_unreadable_retry_after_is_ignored(value):
    assert engine._parse_retry_after(value) is None


def test_retry_after_reads_ascii_seconds_and_caps_a_huge_number(settings):
    assert engine._parse_retry_after(" 120 ") == 120
    assert engine._retry_delay(1, "9" * 5000) == timedelta(seconds=settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS)


def test_a_send_that_raises_is_still_a_recorded_attempt(monkeypatch, settings):
    """The last net: should a library raise on some answer nobody foresaw, the attempt is
    recorded as a failed send and retried on the schedule, instead of the task crashing."""
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 4]

    def choke(*args, **kwargs):
        raise LookupError("unknown encoding: \x00")

    monkeypatch.setattr(engine.net, "post", choke)
    delivery = _delivery_to("http://127.0.0.1:9/hook")
    attempt = engine.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert attempt is not None and attempt.error_kind == "connection"
    assert "LookupError: unknown encoding: \ufffd" in attempt.error_message
    assert delivery.status == "retrying" and delivery.attempt_count == 1
