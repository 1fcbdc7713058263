"""Walk every route of the REST API and prove tenant scoping: another merchant's token never
reaches a merchant's payment, order, amount registration, billing key, schedule, virtual
account or tier. Each route, with each method it answers, is called with merchant B's token
and merchant A's identifiers (in the path, or in the body for the routes addressed by body),
with a body that is otherwise valid so that the call gets as far as the lookup; the answer is
a 404 in the envelope, and afterwards nothing of A's has changed.

A new route is covered as soon as it is routed: one with a path parameter this walk does not
know fails and asks for an entry in ``PATH_VALUES``.
"""

import json
import re
import time

import pytest
from django.urls import URLPattern

from api_keys.services.api_keys import api_key_create, token_issue
from config.urls import rest_api
from console.tenancy.audit import SYSTEM
from payments.domain import billing_keys, orders, schedules, vbanks
from payments.models import BillingKey, Payment, Preparation, Schedule
from payments.sandbox import window
from tests.factories import make_merchant, make_sub_merchant

pytestmark = pytest.mark.django_db

APPROVE = "9410-0000-7000-0000"
SKIP = {"rest_not_found", "openapi", "rest_get_token"}
# Routes that create in the caller's own namespace: B may use a code or a customer_uid that A
# uses too; that makes B's own, never touches A's (checked after the walk).
OWN_NAMESPACE = {("rest_tier", "POST"), ("rest_subscribe_customer", "POST")}


class World:
    def __init__(self):
        self.a = make_merchant("Merchant A")
        self.b = make_merchant("Merchant B")
        self.tier = make_sub_merchant(self.a, "SEL")
        opened = window.window_open(merchant_code=self.a.code, tier_code=None, params={
            "pg": "kcp.T0000", "merchant_uid": "order_a", "amount": 1000, "name": "Mug"})
        self.payment = window.window_approve(imp_uid=opened.imp_uid, token=window.window_token(opened))
        orders.prepare(merchant=self.a, merchant_uid="prep_a", amount=5000, update=False)
        billing_keys.billing_key_issue(merchant=self.a, customer_uid="cust_a", card_number=APPROVE, expiry="2030-12",
                                       birth="900101", pg="ksnet.2999199990")
        schedules.schedules_create(merchant=self.a, customer_uid="cust_a", schedules=[
            {"merchant_uid": "sched_a", "schedule_at": int(time.time()) + 3600, "amount": 9900, "name": "Plan"}])
        self.vbank = vbanks.vbank_issue(merchant=self.a, merchant_uid="vbank_a", amount=25000, vbank_code="004",
                                        vbank_due=int(time.time()) + 86400, pg="nice")
        self.token = token_issue(api_key_create(actor=SYSTEM, merchant=self.b, name="walker").api_key).token

    def snapshot(self) -> dict:
        return {
            "payments": sorted(Payment.objects.filter(merchant=self.a).values_list(
                "imp_uid", "status", "amount", "cancel_amount")),
            "preparations": sorted(Preparation.objects.filter(merchant=self.a).values_list("merchant_uid", "amount")),
            "keys": sorted(BillingKey.objects.filter(merchant=self.a).values_list(
                "customer_uid", "card_number", "deleted_at")),
            "schedules": sorted(Schedule.objects.filter(merchant=self.a).values_list(
                "merchant_uid", "status", "schedule_at")),
            "tier": (self.a.sub_merchants.filter(tier_code="SEL").values_list("name", flat=True).first()),
        }


def PATH_VALUES(world: World, route: str) -> dict:  # noqa: N802 -- read as a table
    """A's identifier for each path parameter, by route."""
    if route.startswith("vbanks"):
        imp_uid = world.vbank.imp_uid
    else:
        imp_uid = world.payment.imp_uid
    if "prepare" in route:
        merchant_uid = "prep_a"
    elif "schedule" in route:
        merchant_uid = "sched_a"
    else:
        merchant_uid = "order_a"
    return {"imp_uid": imp_uid, "merchant_uid": merchant_uid, "customer_uid": "cust_a", "tier_code": "SEL",
            "payment_status": "paid"}


def BODIES(world: World) -> dict:  # noqa: N802
    """A body valid in all but whose it is, per (route name, method)."""
    later = int(time.time()) + 7200
    card = {"card_number": APPROVE, "expiry": "2030-12", "birth": "900101", "pg": "ksnet.2999199990"}
    return {
        ("rest_tier", "PUT"): {"tier_name": "Renamed by B"},
        ("rest_tier", "POST"): {"tier_name": "B's own"},
        ("rest_subscribe_customer", "POST"): card,
        ("rest_subscribe_schedule_of_order", "PUT"): {"schedule_at": later},
        ("rest_subscribe_reschedule", "POST"): {"schedule_at": later},
        ("rest_vbank", "PUT"): {"amount": 1},
        # Addressed by body:
        ("rest_payments_cancel", "POST"): {"imp_uid": world.payment.imp_uid},
        ("rest_subscribe_again", "POST"): {"customer_uid": "cust_a", "merchant_uid": "b_order", "amount": 1000,
                                           "name": "B"},
        ("rest_subscribe_unschedule", "POST"): {"customer_uid": "cust_a", "merchant_uid": ["sched_a"]},
        ("rest_subscribe_schedule", "POST"): {"customer_uid": "cust_a", "schedules": [
            {"merchant_uid": "b_sched", "schedule_at": later, "amount": 1000, "name": "B"}]},
    }


# Routes addressed by body (or query) rather than path, with the call that names A's object.
BODY_ADDRESSED = {
    ("rest_payments_cancel", "POST"), ("rest_subscribe_again", "POST"), ("rest_subscribe_unschedule", "POST"),
    ("rest_subscribe_schedule", "POST"),
}
# Routes whose path parameter filters the caller's own list (PortOne answers them with a list,
# empty when nothing matches, never a 404), and the query each needs.
FILTERS = {"rest_subscribe_customer_schedules", "rest_subscribe_schedules_of_customer_alias"}
LIST_QUERY = {"from": "{start}", "to": "{end}", "schedule_from": "{start}", "schedule_to": "{end}"}
QUERY_ADDRESSED = {
    "rest_payments": {"imp_uid[]": "{imp_uid}", "merchant_uid[]": "order_a"},
    "rest_subscribe_customers": {"customer_uid[]": "cust_a"},
}


def _routes():
    for pattern in rest_api:
        if (not isinstance(pattern, URLPattern) or pattern.name in SKIP or not pattern.name
                or pattern.name.startswith("rest_unserved_")):  # those reach no data: test_v1_routes
            continue
        view = pattern.callback.view_class
        methods = [m for m in ("GET", "POST", "PUT", "DELETE") if hasattr(view, m.lower())]
        yield pattern, methods


def test_the_walk_knows_every_route():
    routes = {pattern.name for pattern, _methods in _routes()}
    assert {"rest_payment", "rest_subscribe_customer", "rest_vbank", "rest_tier", "rest_payments_cancel"} <= routes
    for pattern, _methods in _routes():
        route = str(pattern.pattern)
        unknown = set(re.findall(r"<(?:\w+:)?(\w+)>", route)) - {"imp_uid", "merchant_uid", "customer_uid",
                                                                   "tier_code", "payment_status"}
        assert not unknown, f"{route}: add {unknown} to PATH_VALUES"


def test_another_merchants_token_reaches_nothing_of_theirs(client):
    world = World()
    before = world.snapshot()
    bodies = BODIES(world)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.token}"}
    calls = []
    for pattern, methods in _routes():
        route = str(pattern.pattern)
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        values = PATH_VALUES(world, route)
        path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m, values=values: values[m.group(1)], route)
        for method in methods:
            key = (pattern.name, method)
            names_a = (set(params) - {"payment_status"} or key in BODY_ADDRESSED
                       or (method == "GET" and pattern.name in QUERY_ADDRESSED))
            if not names_a and method != "GET":
                continue  # creates the caller's own (prepare, key-in, a virtual account)
            query = {k: v.format(imp_uid=world.payment.imp_uid) for k, v in
                     QUERY_ADDRESSED.get(pattern.name, {}).items()} if method == "GET" else {}
            if pattern.name in FILTERS or pattern.name == "rest_subscribe_schedule" and method == "GET":
                names_a = False
                query = {k: v.format(start=int(time.time()) - 60, end=int(time.time()) + 86400)
                         for k, v in LIST_QUERY.items()}
            kind = "own" if key in OWN_NAMESPACE else ("a" if names_a else "list")
            calls.append((kind, key, method, path + ("?" + "&".join(
                f"{k}={v}" for k, v in query.items()) if query else "")))
    # What B creates of its own comes last, so that every other call meets only A's objects.
    a_ids = [world.payment.imp_uid, world.vbank.imp_uid, "order_a", "prep_a", "cust_a", "sched_a", "vbank_a"]
    for kind, key, method, url in sorted(calls, key=lambda call: call[0] == "own"):
        response = client.generic(method, url, data=json.dumps(bodies.get(key, {})),
                                  content_type="application/json", **headers)
        body = response.json()
        if kind == "own":
            continue
        if kind == "list":  # the caller's own list: none of A's in it
            assert response.status_code == 200 and not any(i in response.content.decode() for i in a_ids), url
            continue
        # Unknown to B: a 404 where the operation documents one, else i'mport's refusal in a 200.
        assert response.status_code in (200, 404) and body["code"] != 0, (method, url, response.status_code, body)
        assert body["response"] is None
    assert world.snapshot() == before
    assert sum(kind == "a" for kind, *_rest in calls) >= 20, calls
