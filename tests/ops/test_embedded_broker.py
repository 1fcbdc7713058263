"""The embedded default's broker (``filesystem://``, ops/broker.py): a reader never
takes a half-written message, and a message taken by a process that dies before settling it
is handed out again (issue 20, item 15). Real files, real processes, no worker needed."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from kombu import Connection, Producer

from ops import broker

pytestmark = pytest.mark.script  # some tests start a reader process of their own

ROOT = Path(__file__).resolve().parents[2]


def _connection(folder: Path) -> Connection:
    return Connection("filesystem://", transport_options={
        "data_folder_in": str(folder), "data_folder_out": str(folder),
        "control_folder": str(folder.parent / "control")})


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "queue"
    path.mkdir()
    return path


def _publish(folder: Path, bodies, queue="q") -> None:
    with _connection(folder) as conn:
        producer = Producer(conn.channel())
        for body in bodies:
            producer.publish(body, routing_key=queue, serializer="json")


def _take(folder: Path, queue="q", timeout=10.0):
    """The next message of ``queue`` through a fresh connection (not acknowledged), or None."""
    conn = _connection(folder)
    deadline = time.monotonic() + timeout
    while True:
        message = conn.channel().basic_get(queue)
        if message is not None or time.monotonic() > deadline:
            return conn, message
        time.sleep(0.05)


def test_filesystem_url_is_the_atomic_transport(folder):
    with _connection(folder) as conn:
        assert conn.transport_cls == "filesystem"
        assert isinstance(conn.transport, broker.Transport)


def test_a_reader_polling_while_many_large_messages_are_written_gets_each_whole_once(folder):
    """kombu's own transport wrote each file in place: a reader polling the folder took files
    still being written and failed on their JSON (the worker died of that in `make run`)."""
    count, size = 150, 300_000
    errors: list[BaseException] = []

    def write():
        try:
            _publish(folder, ({"n": n, "pad": chr(65 + n % 26) * size} for n in range(count)))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    writer = threading.Thread(target=write)
    got: list[int] = []
    with _connection(folder) as conn:
        channel = conn.channel()
        writer.start()
        deadline = time.monotonic() + 120
        while len(got) < count and time.monotonic() < deadline and not errors:
            message = channel.basic_get("q")  # polled as fast as it goes
            if message is None:
                continue
            body = message.decode()
            assert body["pad"] == chr(65 + body["n"] % 26) * size, "a message arrived cut"
            got.append(body["n"])
            message.ack()
        writer.join(60)
    assert not errors, errors
    assert sorted(got) == list(range(count))  # each once, none lost
    assert [name for name in os.listdir(folder) if name.endswith(".msg")] == []
    assert not any((folder / broker.TAKEN).rglob("*.msg"))  # acknowledged: nothing kept


TAKE_AND_DIE = """
import os, signal, sys, time
import config.celery_app  # the project's transports, as every process of it has them
from kombu import Connection
folder, queue, ack = sys.argv[1], sys.argv[2], sys.argv[3] == "ack"
conn = Connection("filesystem://", transport_options={"data_folder_in": folder, "data_folder_out": folder})
channel = conn.channel()
deadline = time.monotonic() + 20
message = None
while message is None and time.monotonic() < deadline:
    message = channel.basic_get(queue, no_ack=sys.argv[3] == "no_ack")
    time.sleep(0.02)
if ack:
    message.ack()
print(message.decode()["n"], flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # dies without giving anything back
"""


def _take_and_die(folder: Path, how: str) -> int:
    out = subprocess.run([sys.executable, "-c", TAKE_AND_DIE, str(folder), "q", how], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == -signal.SIGKILL, out.stderr
    return int(out.stdout.strip())


def test_a_message_taken_by_a_process_killed_before_acknowledging_it_is_handed_out_again(folder):
    _publish(folder, [{"n": 1}, {"n": 2}])
    assert _take_and_die(folder, "keep") == 1
    conn, message = _take(folder)  # this process's first poll finds the dead reader's folder
    with conn:
        assert message is not None and message.decode() == {"n": 1}  # first, in its place
        message.ack()
        second = conn.channel().basic_get("q")
        assert second.decode() == {"n": 2}
        second.ack()
    assert list((folder / broker.TAKEN).rglob("*.msg")) == []


@pytest.mark.parametrize("how", ["ack", "no_ack"])
def test_a_message_acknowledged_or_taken_without_acknowledgement_is_not_handed_out_again(folder, how):
    _publish(folder, [{"n": 1}])
    assert _take_and_die(folder, how) == 1
    assert broker.recover(folder) == 0
    conn, message = _take(folder, timeout=0.5)
    with conn:
        assert message is None


def test_a_live_readers_messages_are_left_alone_and_a_requeue_puts_one_back(folder):
    _publish(folder, [{"n": 1}])
    conn, message = _take(folder)
    with conn:
        assert message is not None
        # Another process looking for dead readers finds this one alive.
        out = subprocess.run([sys.executable, "-c",
                              "import sys; from pathlib import Path; from ops import broker; "
                              "print(broker.recover(Path(sys.argv[1])))", str(folder)],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert out.stdout.strip() == "0", out.stderr
        assert [name for name in os.listdir(folder) if name.endswith(".msg")] == []
        message.reject(requeue=True)
        again = conn.channel().basic_get("q")
        assert again.decode() == {"n": 1}
        again.ack()
    assert list((folder / broker.TAKEN).rglob("*.msg")) == []


def test_a_file_that_is_not_a_message_is_set_aside_and_the_next_one_delivered(folder, caplog):
    (folder / "00000000000000000000-000000000_00000000-0000-0000-0000-000000000000.q.msg").write_bytes(b'{"body": "cut sho')  # sorts first
    _publish(folder, [{"n": 7}])
    conn, message = _take(folder)
    with conn:
        assert message.decode() == {"n": 7}
        message.ack()
    assert (folder / broker.UNREADABLE / "00000000000000000000-000000000_00000000-0000-0000-0000-000000000000.q.msg").exists()
    assert "is not a readable message" in caplog.text


def test_messages_written_within_one_millisecond_are_taken_in_the_order_written(folder):
    """kombu's names start with the clock in milliseconds, so messages of one millisecond came
    out in random order (CI: a test took message 2 before message 1)."""
    _publish(folder, [{"n": n} for n in range(300)])
    conn, first = _take(folder)
    with conn:
        taken = [first.decode()["n"]]
        first.ack()
        channel = conn.channel()
        for _ in range(299):
            message = channel.basic_get("q")
            taken.append(message.decode()["n"])
            message.ack()
    assert taken == list(range(300))
