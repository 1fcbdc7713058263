"""Real services for tests: PostgreSQL, Redis, a Celery worker, Chromium.

With REQUIRE_SERVICES=1 (CI), a test that needs one of them fails when it is
missing; otherwise it is skipped with the reason.
"""

import os

import pytest

REQUIRED = os.environ.get("REQUIRE_SERVICES", "") not in ("", "0", "false", "False")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def need(available: bool, what: str) -> None:
    if available:
        return
    if REQUIRED:
        pytest.fail(f"REQUIRE_SERVICES is set but {what} is not available", pytrace=False)
    pytest.skip(f"{what} is not available (set REQUIRE_SERVICES=1 to make this a failure)")


class Shared:
    """One of something slow to start (a Celery worker, a browser) for the tests of a session
    (of each xdist worker) that use it one after the other: started by the first of them, kept
    for the next, stopped before a test that does not use it (conftest.py; the tests that use
    one run together) and at the end. ``start`` makes a context manager that yields it."""

    def __init__(self, start):
        self._start = start
        self._running = None
        self.value = None

    def get(self):
        if self._running is None:
            running = self._start()
            self.value = running.__enter__()
            self._running = running
        return self.value

    def stop(self) -> None:
        running, self._running, self.value = self._running, None, None
        if running is not None:
            running.__exit__(None, None, None)
