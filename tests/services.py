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
