"""A throw-away database and timing helpers for the benchmarks.

The benchmarks run against whatever DATABASE_URL points at (SQLite by default,
PostgreSQL in CI), in a separate test_ database that is dropped afterwards.
"""

import os
import statistics
import time
from contextlib import contextmanager

import django


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()


@contextmanager
def scratch_database():
    from django.db import connection

    # No setup_test_environment(): it instruments template rendering, which would
    # distort what is measured.
    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":  # never the test suite's file: both may run at once
        from django.conf import settings

        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(settings.VAR_DIR / "bench.sqlite3")
    else:
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_{old_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def median_ms(fn, *, repeat: int, warmup: int = 3) -> tuple[float, float]:
    """Median and p95 wall time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def count_queries(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)
