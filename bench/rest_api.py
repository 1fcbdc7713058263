"""REST API under gunicorn with 2 workers: requests per second for POST /users/getToken,
GET /users/pg, GET /payments/{imp_uid} (valid token) and key-in payments (POST
/subscribe/payments/onetime, each a new paid payment), next to a bare JSON Django view on the
same server, same run.

Targets: /users/pg and /payments/{imp_uid} at no less than half the bare view's rate.
"""

import itertools
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CLIENT_THREADS = 4
SECONDS = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rate(url, *, method="GET", headers=None, data=None) -> float:
    """Requests per second; ``data`` may be a callable that makes each request's body."""
    count, stop = [0], time.monotonic() + SECONDS
    lock = threading.Lock()

    def worker():
        session = requests.Session()
        n = 0
        while time.monotonic() < stop:
            body = data() if callable(data) else data
            response = session.request(method, url, headers=headers, data=body, timeout=10)
            assert response.status_code == 200, (url, response.status_code, response.text[:200])
            assert response.json()["code"] == 0, response.text[:200]
            n += 1
        with lock:
            count[0] += n

    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count[0] / SECONDS


def run() -> list[str]:
    from accounts import services as console_services
    from api_keys.services.api_keys import api_key_create
    from console.tenancy.audit import SYSTEM
    from payments.sandbox import window
    from tests.worker import test_database_url

    merchant = console_services.merchant_create(actor=SYSTEM, name="Bench REST")
    issued = api_key_create(actor=SYSTEM, merchant=merchant, name="bench")
    payment = window.window_open(merchant_code=merchant.code, tier_code=None, params={
        "pg": "kcp.T0000", "merchant_uid": "bench-1", "amount": 1000, "name": "Bench order"})
    payment = window.window_approve(imp_uid=payment.imp_uid, token=window.window_token(payment))
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": test_database_url(),
           "BENCH_ROOT_URLCONF": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bench.wsgi:application", "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning"],
        # Its log goes to a file: a pipe nobody reads fills up and stops the server mid-request.
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=tempfile.TemporaryFile(),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # until both workers answer (booting can take seconds on a busy machine)
            try:
                requests.get(base + "/bench/bare.json", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.1)
        body = {"imp_key": issued.api_key.key, "imp_secret": issued.secret}
        token = requests.post(base + "/users/getToken", data=body, timeout=5).json()["response"]["access_token"]
        bare = _rate(base + "/bench/bare.json")
        get_token = _rate(base + "/users/getToken", method="POST", data=body)
        users_pg = _rate(base + "/users/pg", headers={"Authorization": f"Bearer {token}"})
        one_payment = _rate(base + f"/payments/{payment.imp_uid}", headers={"Authorization": f"Bearer {token}"})
        orders = itertools.count()
        keyin = _rate(base + "/subscribe/payments/onetime", method="POST",
                      headers={"Authorization": f"Bearer {token}"},
                      data=lambda: {"merchant_uid": f"keyin-{next(orders)}", "amount": 1000, "pg": "nice",
                                    "card_number": "9410-0000-7000-0000", "expiry": "2030-12", "birth": "900101",
                                    "name": "Bench key-in"})
    finally:
        server.terminate()
        server.wait(timeout=20)
    return [
        f"rest api (gunicorn x2, {CLIENT_THREADS} client threads, {SECONDS}s each):",
        f"rest api: bare JSON view        {bare:8.1f} req/s",
        f"rest api: POST /users/getToken  {get_token:8.1f} req/s   ({get_token / bare:4.2f}x bare)",
        f"rest api: GET /users/pg         {users_pg:8.1f} req/s   ({users_pg / bare:4.2f}x bare)",
        f"rest api: GET /payments/{{imp_uid}} {one_payment:6.1f} req/s   ({one_payment / bare:4.2f}x bare)",
        f"rest api: POST /subscribe/payments/onetime (key-in, paid) {keyin:6.1f} payments/s   "
        f"({keyin / bare:4.2f}x bare)",
    ]
