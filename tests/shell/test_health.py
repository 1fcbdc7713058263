import pytest
from django.db import OperationalError
from kombu import Connection

from config.celery_app import app

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch):
    # A real connection attempt to a port nothing listens on.
    monkeypatch.setattr(
        app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0", connect_timeout=1)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unavailable"}


def test_healthz_is_503_not_500_when_the_database_fails(client, monkeypatch):
    from ops import health

    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"


def test_healthz_needs_no_login_and_refuses_post(client):
    assert client.post("/healthz").status_code == 405
