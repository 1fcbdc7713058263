"""The real things: a Celery worker process, Redis, PostgreSQL."""

import json
import os
import subprocess
import sys

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery_app import app
from ops.tasks import ping
from tests.services import need
from tests.worker import ROOT, celery_worker


def test_trivial_task_round_trip_through_a_real_worker(shared_worker):
    result = ping.apply_async(kwargs={"value": "hello"}, queue=shared_worker.queue)
    assert result.get(timeout=30) == {"echo": "hello"}
    # and a second one, to show the worker keeps consuming
    assert ping.apply_async(queue=shared_worker.queue).get(timeout=30) == {"echo": "pong"}


def test_broker_is_redis_when_configured():
    url = os.environ.get("REDIS_URL", "")
    need(bool(url), "Redis (REDIS_URL)")
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert redis.Redis.from_url(url, socket_connect_timeout=2).ping() is True


PRODUCER = """
import django, json, sys
django.setup()
from django.conf import settings
from ops.tasks import ping
assert settings.CELERY_BROKER_URL == "filesystem://", settings.CELERY_BROKER_URL
print(json.dumps(ping.apply_async(kwargs={"value": "embedded"}, queue=sys.argv[1]).get(timeout=30)))
"""


@pytest.mark.worker
def test_embedded_default_filesystem_broker_with_a_real_worker(tmp_path):
    """What `make run` uses when nothing is configured: two processes, one folder."""
    embedded = {"REDIS_URL": "", "CELERY_BROKER_URL": "", "CELERY_RESULT_BACKEND": "",
                "PGCONSOLE_VAR_DIR": str(tmp_path)}
    with celery_worker(extra_env=embedded) as worker:
        worker.wait_ready()
        out = subprocess.run(
            [sys.executable, "-c", PRODUCER, worker.queue],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", **embedded},
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert out.returncode == 0, out.stderr + worker.output()
        assert json.loads(out.stdout.strip().splitlines()[-1]) == {"echo": "embedded"}


@pytest.mark.django_db
def test_database_is_postgresql_when_configured():
    need(os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")),
         "PostgreSQL (DATABASE_URL)")
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        assert cursor.fetchone()[0]
