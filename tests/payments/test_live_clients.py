"""i'mport's own REST clients against a live PG Console, for the main flows of a shop's server
(issue 23, "Done when"): token, prepare, payment lookup, cancel in part and in full, billing
key, payment with the key, schedules and their lists, virtual account.

- Node: the official client (npm ``iamport``) and ``iamporter`` (posquit0/node-iamporter),
  pinned in ``tests/clients/package-lock.json`` and installed once per checkout of that lock by
  ``npm ci`` into ``.cache/node-clients`` (never committed); ``tests/clients/flows.js`` drives
  them and asserts what a shop's code relies on.
- Python: ``iamporter`` (a dependency). The official ``iamport-rest-client`` from PyPI pins
  ``requests==2.26.0``, which cannot be installed beside our ``requests``; it is not used.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from iamporter import Iamporter

from api_keys.services.api_keys import api_key_create
from channels.models import SharedTestCredential
from console.tenancy.audit import SYSTEM
from payments.models import BillingKey, Payment, Schedule
from tests.factories import make_merchant
from tests.portone_schema import validator
from tests.services import need

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.script]

ROOT = Path(__file__).resolve().parent.parent.parent
CLIENTS = ROOT / "tests" / "clients"
INSTALLED = ROOT / ".cache" / "node-clients"


def _node_clients() -> Path:
    """``node_modules`` of tests/clients, from ``npm ci`` into .cache/node-clients once per lock
    (a stamp holds the lock's hash; a file lock keeps parallel test processes from racing)."""
    need(bool(shutil.which("node") and shutil.which("npm")), "node and npm")
    lock = (CLIENTS / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock + (CLIENTS / "package.json").read_bytes()).hexdigest()
    INSTALLED.mkdir(parents=True, exist_ok=True)
    stamp = INSTALLED / ".installed"
    with open(INSTALLED.parent / "node-clients.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == digest):
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(CLIENTS / name, INSTALLED / name)
            done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=INSTALLED,
                                  capture_output=True, text=True, timeout=300)
            need(done.returncode == 0, f"npm ci of tests/clients (the npm registry): {done.stderr[-500:]}")
            stamp.write_text(digest)
    return INSTALLED / "node_modules"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    return _node_clients()


@pytest.fixture
def merchant():
    # A transactional test's flush empties the seeded shared test MIDs: make sure of the ones used.
    for provider, module, mid in (("nice", "api_keyin", "iamport01m"), ("ksnet", "api_subscription", "2999199990")):
        SharedTestCredential.objects.get_or_create(provider=provider, module=module, mid=mid,
                                                   defaults={"pg_provider": provider})
    return make_merchant("Live clients")


@pytest.fixture
def issued(merchant):
    return api_key_create(actor=SYSTEM, merchant=merchant, name="order server")


def test_the_node_clients_run_the_main_flows(node_modules, merchant, issued, live_server):
    env = {**os.environ, "NODE_PATH": str(node_modules), "BASE_URL": live_server.url,
           "IMP_KEY": issued.api_key.key, "IMP_SECRET": issued.secret}
    done = subprocess.run(["node", str(CLIENTS / "flows.js")], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["iamport"] == {"scheduled": 2, "revoked": 1, "again": out["iamport"]["again"]}
    payments = dict(Payment.objects.filter(merchant=merchant).values_list("merchant_uid", "status"))
    assert payments == {"node_order_1": "cancelled", "node_again_1": "paid", "node_foreign_1": "paid",
                        "node_vbank_1": "ready", "node_again_2": "cancelled"}
    assert dict(Schedule.objects.filter(merchant=merchant).values_list("merchant_uid", "status")) == {
        "node_plan_1": "scheduled", "node_plan_2": "revoked"}
    # The shop's own card number is nowhere in clear: only its mask.
    numbers = [*Payment.objects.filter(merchant=merchant).values_list("card_number", flat=True),
               *BillingKey.objects.filter(merchant=merchant).values_list("card_number", flat=True)]
    assert "411111******1111" in numbers and not any("4111111111111111" in n for n in numbers)


def _valid(definition: str, answer) -> None:
    errors = list(validator(definition).iter_errors(answer))
    assert errors == [], [error.message for error in errors]


def test_the_python_client_runs_the_main_flows(merchant, issued, live_server):
    shop = Iamporter(imp_key=issued.api_key.key, imp_secret=issued.secret, imp_url=live_server.url + "/")
    session = requests.Session()
    session.auth = shop.imp_auth  # iamporter's own token handling, for the calls it has no function for
    base = live_server.url

    prepared = session.post(base + "/payments/prepare", json={"merchant_uid": "py_order_1", "amount": 12000}).json()
    assert prepared["code"] == 0 and prepared["response"]["amount"] == 12000
    paid = shop.create_payment(merchant_uid="py_order_1", name="Blue mug", amount=12000,
                               card_number="4111-1111-1111-1111", expiry="2030-12", birth="900101", pg="nice")
    assert paid["status"] == "paid" and shop.find_payment(imp_uid=paid["imp_uid"])["amount"] == 12000
    part = shop.cancel_payment(imp_uid=paid["imp_uid"], amount=2000, reason="one cup")  # tax_free None
    _valid("PaymentAnnotation", part)
    assert part["status"] == "paid" and part["cancelled_at"] == part["cancel_history"][0]["cancelled_at"] > 0
    rest = shop.cancel_payment(merchant_uid="py_order_1")  # amount None: the rest
    assert rest["status"] == "cancelled" and rest["cancel_amount"] == 12000

    shop.create_billkey(customer_uid="py_customer", card_number="9410-0000-7000-0000", expiry="2030-12",
                        birth="900101", pg="ksnet.2999199990")
    again = shop.create_payment(merchant_uid="py_again_1", customer_uid="py_customer", name="Plan", amount=9900)
    assert again["status"] == "paid"
    at = int(time.time()) + 3600
    made = session.post(base + "/subscribe/payments/schedule", json={"customer_uid": "py_customer", "schedules": [
        {"merchant_uid": "py_plan_1", "schedule_at": at + 0.25, "amount": 9900, "name": "Plan"}]}).json()
    assert made["code"] == 0 and made["response"][0]["schedule_at"] == at
    page = session.get(base + "/subscribe/payments/schedule",
                       params={"schedule_from": at - 60, "schedule_to": at + 60, "sorting": ""}).json()["response"]
    assert (page["total"], page["previous"], page["next"]) == (1, 0, 0)
    _valid("ScheduleResultAnnotation", page["list"][0])
