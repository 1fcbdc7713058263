"""A real Celery worker process for tests, on the configured broker.

Each worker consumes its own queue, so a developer's `make run` worker on the
same broker never steals a test's task (nor another xdist worker's test).

Most tests share one worker (the ``shared_worker`` fixture: fast retries, beat, two pool
processes), started once for the tests of a session that use it; a test that needs a worker
of its own kind (killed, cut off from the broker, another environment) starts one with
``celery_worker()`` and is marked ``worker``.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from .services import Shared

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """The URL of the database the test run uses (pytest-django's test_ database)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


# The test running now (set by conftest.py), so that a worker is started only by a test marked
# ``worker``: `make test-fast` leaves those out, and must not meet one unmarked.
current_test = None


@contextmanager
def celery_worker(*, concurrency: int = 1, pool: str = "prefork", extra_env: dict | None = None,
                  beat: bool = False, loglevel: str = "INFO"):
    if current_test is not None and current_test.get_closest_marker("worker") is None:
        pytest.fail(f"{current_test.nodeid} starts a Celery worker: mark it pytest.mark.worker", pytrace=False)
    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    log_dir = Path(settings.VAR_DIR) / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"worker-{queue}.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue,
         "--pool", pool, "--concurrency", str(concurrency), "--loglevel", loglevel,
         "--without-gossip", "--without-mingle", "--hostname", f"{queue}@%h",
         *(["--beat", "--schedule", str(log_dir / f"beat-{queue}")] if beat else [])],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        handle = WorkerHandle(proc=proc, queue=queue, log=log)
        handle.hostname = f"{queue}@{socket.gethostname()}"
        yield handle
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def _ready_shared_worker():
    from .hooks import FAST

    with celery_worker(concurrency=2, beat=True, extra_env=FAST) as handle:
        handle.wait_ready()
        yield handle


# The shared worker: retries in seconds (hooks.FAST), its beat dispatching due deliveries every
# half second and due schedules every PAYMENT_SCHEDULE_INTERVAL_SECONDS (5).
SHARED_WORKER = Shared(_ready_shared_worker)


class WorkerHandle:
    def __init__(self, *, proc, queue, log):
        self.proc, self.queue, self.log = proc, queue, log

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.output()}")
            if " ready." in self.output():
                return
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready after {timeout}s:\n{self.output()}")


def wait_until(probe, *, timeout: float = 30, interval: float = 0.1):
    """Call ``probe`` until it returns something truthy and return that; fail after ``timeout``.

    For state another process (the worker) writes after a side effect the test can see first.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing after {timeout}s from {probe!r}")
        time.sleep(interval)
