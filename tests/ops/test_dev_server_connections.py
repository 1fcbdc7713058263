"""`make run`'s development server on PostgreSQL holds no database connection for a client that
is idle or gone (issue 20, item 16): runserver serves each keep-alive client from a thread of
its own, and a persistent connection per thread (CONN_MAX_AGE 60) let 30 idle clients hold up
to 30 connections, and about 100 exhaust the server for every database on it."""

import http.client
import os
import socket
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

from tests.services import need
from tests.worker import ROOT, wait_until
from tests.worker import test_database_url as worker_database_url

pytestmark = pytest.mark.script  # runs the development server

CLIENTS = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _held(application_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                       [application_name])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_idle_and_departed_keep_alive_clients_hold_no_connection(tmp_path):
    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    name = f"devserver-{uuid.uuid4().hex[:10]}"  # tells the server's connections apart
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_CONN_MAX_AGE")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", PGCONSOLE_VAR_DIR=str(tmp_path),
               DATABASE_URL=f"{worker_database_url()}?application_name={name}",
               DJANGO_SECRET_KEY=settings.SECRET_KEY)
    log = open(tmp_path / "runserver.log", "w+")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    clients: list[http.client.HTTPConnection] = []
    try:
        def answers() -> bool:
            assert server.poll() is None, (tmp_path / "runserver.log").read_text()
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/healthz", headers={"Connection": "close"})
                return probe.getresponse().status == 200
            except OSError:
                return False

        wait_until(answers, timeout=60)
        for _ in range(CLIENTS):  # each asks for a page that reads the database, and stays
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            client.request("GET", "/healthz")  # SELECT 1
            response = client.getresponse()
            assert response.status == 200 and response.getheader("Connection") != "close"
            response.read()
            clients.append(client)
        # The clients are connected and idle, each with a server thread of its own: none holds
        # a database connection once its request is over.
        try:
            wait_until(lambda: _held(name) == 0, timeout=10, interval=0.2)
        except TimeoutError:
            pytest.fail(f"{_held(name)} database connections held for {CLIENTS} idle clients")
        for client in clients:  # still connected: the next request goes over the same socket
            client.request("GET", "/healthz")
            response = client.getresponse()
            assert response.status == 200
            response.read()
        for client in clients:  # the clients leave
            client.close()
        clients.clear()
        try:
            wait_until(lambda: _held(name) == 0, timeout=10, interval=0.2)
        except TimeoutError:
            pytest.fail(f"{_held(name)} database connections held after the clients left")
    finally:
        for client in clients:
            client.close()
        server.terminate()
        server.wait(timeout=20)
        log.close()
