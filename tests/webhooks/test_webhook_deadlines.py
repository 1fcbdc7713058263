"""Every send has one total deadline under the lease: a receiver that trickles its answer,
one that never answers, or one that sends megabytes of headers ends as ONE failed attempt,
not a send that holds the worker for ever and goes out again every time the lease runs out.

The first tests drive ``webhooks.net.post`` against a real receiver on loopback; the last
ones a real Celery worker (with beat, so ``dispatch_due`` runs as in production) whose lease
(4 s) is far shorter than what the misbehaving receivers would take without a deadline."""

import time

import pytest

from console.tenancy.audit import Actor
from tests.factories import make_merchant
from tests.hooks import endpoint_for, wait_final
from tests.receiver import Receiver, Reply
from webhooks import services
from webhooks.net import post

# The receiver would need 60 × 0.25 = 15 s to finish: four leases of the worker below.
TRICKLE = {"status": 200, "body": b"x" * 60, "trickle": 0.25}
# 96 header lines of 64,000 bytes: about 6 MB, within what http.client accepts (100 lines of
# 64 KiB), far beyond what a webhook answer needs.
HUGE_HEADERS = {f"X-Padding-{i}": "h" * 64000 for i in range(96)}

# Proves "it ended instead of hanging": far above the deadlines used, far below the 15 s a
# trickling receiver would take.
ENDED = 10


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _post(url, **kwargs):
    kwargs.setdefault("body", b'{"event":"ping"}')
    kwargs.setdefault("headers", {"Content-Type": "application/json"})
    kwargs.setdefault("allowed_networks", ["127.0.0.0/8"])
    return post(url, **kwargs)


# --------------------------------------------------------------- post(), no database


@pytest.mark.parametrize("trickle_from", ["body", "start"])
def test_a_trickling_receiver_is_cut_at_the_send_deadline(receiver, trickle_from):
    """Each byte comes well within the read timeout, so only a total deadline stops it:
    while reading the body, and while reading the status line and headers."""
    receiver.script("/trickle", [Reply(**TRICKLE, trickle_from=trickle_from)])
    started = time.monotonic()
    result = _post(receiver.url("/trickle"), read_timeout=2, deadline=1.5)
    assert time.monotonic() - started < ENDED
    assert result.error_kind == "timeout" and not result.ok
    assert result.error_params == {"code": "send.deadline", "seconds": 1.5}
    assert result.error_message == (
        "The receiver did not finish answering within 1.5 seconds, the most one send may take.")
    assert len(result.body) < 60  # it was cut, not read to the end
    if trickle_from == "body":
        assert result.status == 200  # the headers had arrived


def test_a_receiver_that_never_answers_ends_at_the_read_timeout(receiver):
    receiver.script("/silent", [Reply(200, b"late", delay=20)])
    started = time.monotonic()
    result = _post(receiver.url("/silent"), read_timeout=0.5, deadline=5)
    assert time.monotonic() - started < ENDED
    assert result.error_kind == "timeout"
    assert result.error_params == {"code": "send.read_timeout", "seconds": 0.5}


def test_six_megabytes_of_headers_are_capped_and_fail_the_attempt(receiver):
    receiver.script("/headers", [Reply(200, b"ok", headers=HUGE_HEADERS)])
    result = _post(receiver.url("/headers"), max_headers=32 * 1024)
    assert result.status == 200 and not result.ok
    assert result.error_kind == "headers"
    assert result.error_params == {"code": "send.headers_too_large", "kib": 32}
    assert result.headers_truncated is True
    kept = sum(len(k) + len(v) + 4 for k, v in result.headers.items())
    assert kept <= 32 * 1024
    assert result.body == "ok"


def test_headers_under_the_cap_are_kept_whole(receiver):
    receiver.script("/some-headers", [Reply(200, b"ok", headers={"X-A": "1" * 1000, "X-B": "2"})])
    result = _post(receiver.url("/some-headers"), max_headers=32 * 1024)
    assert result.ok and result.headers_truncated is False
    assert result.headers["X-A"] == "1" * 1000 and result.headers["X-B"] == "2"


def test_the_connection_cut_at_the_deadline_is_not_reused(receiver):
    """A kept-alive connection whose send was cut is closed, not handed to the next send."""
    from webhooks.net import make_session

    session = make_session()
    receiver.script("/cut", [Reply(**TRICKLE)])
    assert _post(receiver.url("/cut"), deadline=1, session=session).error_kind == "timeout"
    receiver.script("/fine", [Reply(200, b"fine")])
    result = _post(receiver.url("/fine"), session=session)
    assert result.ok and result.body == "fine"


# ------------------------------------------------- the engine, with the settings' timings


@pytest.mark.django_db
def test_the_engine_sends_with_the_configured_timeouts_and_deadline(receiver, settings, monkeypatch):
    """Every real send is bounded by the settings (by default PortOne's first send, 10 s to
    connect and 30 s to read, inside a 45 s deadline: see test_webhook_leases). The engine
    hands them to ``net.post``, watched here on its way to the real receiver."""
    from django.utils import timezone

    from webhooks import net
    from webhooks.models import Delivery
    from webhooks.services import engine

    settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT = 7.0, 21.0
    settings.WEBHOOK_SEND_DEADLINE, settings.WEBHOOK_DNS_TIMEOUT = 33.0, 2.0
    seen = []
    real_post = net.post

    def watched_post(url, **kwargs):
        seen.append(kwargs)
        return real_post(url, **kwargs)

    monkeypatch.setattr(net, "post", watched_post)
    merchant = make_merchant("Timed")
    endpoint = endpoint_for(merchant, receiver.url("/timed"))
    delivery = Delivery.objects.create(
        merchant=merchant, endpoint=endpoint, mode="test", trigger="event", event="paid",
        url=endpoint.url, content_type="json", version="v1", body="{}", next_attempt_at=timezone.now())
    attempt = engine.deliver(delivery.pk)
    assert attempt.ok and len(receiver.wait_for(1, "/timed")) == 1
    [used] = seen
    assert (used["connect_timeout"], used["read_timeout"], used["deadline"], used["dns_timeout"]) == (
        7.0, 21.0, 33.0, 2.0)


# ---------------------------------------------------- a real worker, a short lease


@pytest.fixture
def worker(shared_worker):
    return shared_worker  # retries in seconds (hooks.FAST), with beat: see tests/worker.py


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "reply", "kind", "code"),
    [("/w-trickle-body", Reply(**TRICKLE), "timeout", "send.deadline"),
     ("/w-trickle-head", Reply(**TRICKLE, trickle_from="start"), "timeout", "send.deadline"),
     ("/w-silent", Reply(200, b"late", delay=20), "timeout", "send.read_timeout"),
     ("/w-headers", Reply(200, b"ok", headers=HUGE_HEADERS), "headers", "send.headers_too_large")],
)
def test_a_misbehaving_receiver_costs_one_failed_attempt(worker, settings, receiver, path, reply, kind,
                                                         code):
    settings.WEBHOOK_QUEUE = worker.queue
    merchant = make_merchant("Slowpoke")
    receiver.script(path, [reply])
    endpoint_for(merchant, receiver.url(path))
    delivery, enqueued = services.delivery_send_test(actor=Actor(), merchant=merchant, mode="test")
    assert enqueued
    delivery = wait_final(delivery, timeout=30)
    attempt = delivery.attempts.get()  # exactly one
    assert delivery.status == "failed" and delivery.attempt_count == 1
    assert attempt.error_kind == kind and attempt.error_params["code"] == code, attempt.error_message
    assert delivery.last_error_params["code"] == code
    if kind == "headers":
        assert attempt.response_headers_truncated
        assert sum(len(k) + len(v) + 4 for k, v in attempt.response_headers.items()) <= 32 * 1024
    # Sent once: never again while the first send was in flight, and not after.
    assert len([r for r in receiver.requests if r.path == path]) == 1
    assert services.dispatch_due() == 0
