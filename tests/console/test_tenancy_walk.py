"""Walk every console URL in the URL configuration and prove tenant scoping.

For each URL that names a merchant:
- another merchant's code answers 404 (for GET and POST alike), whatever the role;
- an object of another merchant, reached through one's own merchant, answers 404;
- a role without the view's permission answers 403; a role with it does not; a page whose
  POST needs more (``post_perm``) answers 403 to a POST from a role without it;
- every role is walked: the agency's five, on the agency and (through it) its sub-merchant,
  and a sub-merchant's own two (``AccessRole.SUB_MANAGER``, ``SUB_VIEWER``) on theirs;
- an anonymous visitor is sent to the login page.

A new page is covered as soon as it is routed. If it takes a URL parameter this
test does not know, the test fails and asks for a factory in ``PARAMETERS``.
"""

import copy

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from console.tenancy.roles import Role, access_role, role_allows
from tests.factories import make_channel, make_member, make_merchant, make_sub_merchant

pytestmark = pytest.mark.django_db

# Namespaces whose pages belong to a merchant's console.
CONSOLE_NAMESPACES = {"console", "channels", "webhooks", "settings", "accounts_console", "payment_activity",
                      "payments", "billing_keys", "schedules"}
# Console pages that name no merchant, on purpose.
MERCHANT_FREE = {"home"}
# How to make a value for each URL parameter other than merchant_code, as an
# object of ``merchant``. Add an entry when a page takes a new parameter.
def _channel_key(merchant):
    # A test channel of its own: every channel page opens it, and so does "Try a test payment",
    # which takes only enabled test channels.
    return make_channel(merchant, mode="test").channel_key


def _secret_id(merchant):
    from webhooks.services import endpoint_ensure

    return endpoint_ensure(merchant=merchant, mode="live").secrets.first().pk


def _message_id(merchant):
    from webhooks.models import Delivery
    from webhooks.services import endpoint_ensure

    endpoint = endpoint_ensure(merchant=merchant, mode="live")
    return Delivery.objects.create(
        merchant=merchant, endpoint=endpoint, mode="live", trigger="test", event="paid",
        url="https://example.com/hook", content_type="json", version="v1", body="{}",
        status="succeeded",
    ).message_id


def _key_id(merchant):
    from api_keys.services.api_keys import api_key_create
    from console.tenancy.audit import Actor

    if merchant.is_sub_merchant:  # sub-merchants hold no keys; any id is someone else's
        return _key_id(merchant.parent)
    return api_key_create(actor=Actor(), merchant=merchant, name="walk").api_key.pk


def _member_id(merchant):
    from console.models import Membership

    return Membership.objects.get(operator=make_member(merchant, "viewer"), merchant=merchant).pk


def _invitation_id(merchant):
    from accounts.services.invitations import invitation_create
    from console.tenancy.audit import Actor

    _invitation_id.n = getattr(_invitation_id, "n", 0) + 1
    return invitation_create(actor=Actor(), merchant=merchant, email=f"walk{_invitation_id.n}@example.test",
                             role="viewer", actor_role="owner").pk


def _sub_merchant_id(merchant):
    if merchant.is_sub_merchant:  # a sub-merchant has no sub-merchants; any id is someone else's
        return _sub_merchant_id(merchant.parent)
    _sub_merchant_id.n = getattr(_sub_merchant_id, "n", 0) + 1
    return make_sub_merchant(merchant, f"W{_sub_merchant_id.n % 100:02d}").pk


def _imp_uid(merchant):
    from payments.models import Payment

    _imp_uid.n = getattr(_imp_uid, "n", 0) + 1
    return Payment.objects.create(merchant=merchant, merchant_uid=f"walk_{_imp_uid.n}", amount=1000,
                                  status="paid", pg_provider="kcp", pg_id="T0000").imp_uid


def _billing_key_id(merchant):
    from payments.models import BillingKey

    _billing_key_id.n = getattr(_billing_key_id, "n", 0) + 1
    return BillingKey.objects.create(merchant=merchant, customer_uid=f"walk_{_billing_key_id.n}",
                                     pg_provider="ksnet", pg_id="2999199990", issued_through="api",
                                     card_number="941000******0000", card_name="BC카드").pk


def _schedule_id(merchant):
    from datetime import timedelta

    from django.utils import timezone

    from payments.models import Schedule

    _schedule_id.n = getattr(_schedule_id, "n", 0) + 1
    return Schedule.objects.create(merchant=merchant, customer_uid="walk", merchant_uid=f"walk_{_schedule_id.n}",
                                   schedule_at=timezone.now() + timedelta(days=1), amount=1000).pk


PARAMETERS: dict[str, callable] = {
    "member_id": _member_id,
    "invitation_id": _invitation_id,
    "sub_merchant_id": _sub_merchant_id,
    "key_id": _key_id,
    "channel_key": _channel_key,
    "secret_id": _secret_id,
    "message_id": _message_id,
    "imp_uid": _imp_uid,
    "billing_key_id": _billing_key_id,
    "schedule_id": _schedule_id,
}
# Objects a sub-merchant never owns (its agency's keys act for it): routes taking them are
# walked for agencies only; for a sub-merchant every such id is someone else's (404).
AGENCY_ONLY = {"key_id", "sub_merchant_id"}
# Parameters that are values, not another merchant's objects.
VALUES: dict[str, callable] = {"mode": lambda merchant: "live"}


def _walk(patterns, prefix_ns=(), prefix_params=frozenset()):
    """Every URL pattern with its namespaces and the parameters of its whole path (a
    merchant's pages take ``merchant_code`` from the ``m/<merchant_code>/`` they sit under)."""
    for entry in patterns:
        # Its own regex, not `converters`: Django caches _route_to_regex, so every path("", include())
        # shares one converters dict, which the resolver's populate (again per language, e.g. after
        # translation.override("ko")) updates in place with m/<merchant_code>/'s converters: the
        # root include of "home" then seemed to take merchant_code (an order-dependent failure).
        params = prefix_params | set(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            ns = prefix_ns + ((entry.namespace,) if entry.namespace else ())
            yield from _walk(entry.url_patterns, ns, params)
        elif isinstance(entry, URLPattern):
            yield prefix_ns, params, entry


def console_routes():
    routes = []
    for ns, params, pattern in _walk(get_resolver().url_patterns):
        if not pattern.name:
            continue
        name = ":".join((*ns, pattern.name))
        if (not ns or ns[0] not in CONSOLE_NAMESPACES) and name not in MERCHANT_FREE:
            continue
        routes.append((name, sorted(params), pattern.callback))
    return routes


ROUTES = console_routes()
MERCHANT_ROUTES = [r for r in ROUTES if "merchant_code" in r[1]]


def test_the_walk_finds_the_console():
    names = {name for name, _, _ in ROUTES}
    assert {"home", "console:overview", "console:audit_log"} <= names
    assert {"payment_activity:list", "payment_activity:export", "payment_activity:detail",
            "payment_activity:cancel", "payment_activity:deposit", "payment_activity:totals"} <= names
    assert {"billing_keys:list", "billing_keys:detail", "billing_keys:delete", "schedules:list",
            "schedules:cancel"} <= names
    assert len(MERCHANT_ROUTES) >= 2


@pytest.mark.parametrize(("name", "params", "callback"), ROUTES, ids=[r[0] for r in ROUTES])
def test_every_console_route_is_scoped(name, params, callback):
    if name in MERCHANT_FREE:
        return
    assert "merchant_code" in params, f"{name} names no merchant: scope it or list it in MERCHANT_FREE"
    assert hasattr(callback, "required_perm"), (
        f"{name} is not wrapped in console.tenancy.access.merchant_view(perm)"
    )
    unknown = set(params) - {"merchant_code"} - set(PARAMETERS) - set(VALUES)
    assert not unknown, f"{name}: add a factory for {sorted(unknown)} to PARAMETERS"


@pytest.fixture(scope="module")
def module_world(module_transaction, django_db_blocker):
    """Made once for the walk's tests (each test's changes are undone after it)."""
    with django_db_blocker.unblock():
        return _world_build()


@pytest.fixture
def world(module_world, db):
    return copy.deepcopy(module_world)  # the instances too are this test's own


def _world_build():
    mine = make_merchant("Mine")
    mine_sub = make_sub_merchant(mine, "M01")
    theirs = make_merchant("Theirs")
    theirs_sub = make_sub_merchant(theirs, "T01")
    from webhooks.services import endpoint_ensure

    for merchant in (mine, mine_sub, theirs, theirs_sub):  # pages about "the live endpoint"
        endpoint_ensure(merchant=merchant, mode="live")
    return {"mine": mine, "mine_sub": mine_sub, "theirs": theirs, "theirs_sub": theirs_sub}


def _check_post_perm(client, url, role, callback):
    """A role that may open the page but lacks its ``post_perm`` is refused a POST (403)."""
    post_perm = getattr(callback, "post_perm", None)
    if post_perm is not None and role_allows(role, callback.required_perm) and not role_allows(role, post_perm):
        assert client.post(url).status_code == 403, (url, role)


def _kwargs(params, merchant_code, owner_merchant):
    kwargs = {"merchant_code": merchant_code}
    for param in params:
        if param != "merchant_code":
            kwargs[param] = {**PARAMETERS, **VALUES}[param](owner_merchant)
    return kwargs


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("name", "params", "callback"), MERCHANT_ROUTES, ids=[r[0] for r in MERCHANT_ROUTES]
)
def test_route_by_role_and_tenant(client, world, role, name, params, callback):
    operator = make_member(world["mine"], role)
    client.force_login(operator)
    allowed = role_allows(role, callback.required_perm)

    for target in ("mine", "mine_sub"):
        if target == "mine_sub" and AGENCY_ONLY & set(params):
            continue
        url = reverse(name, kwargs=_kwargs(params, world[target].code, world[target]))
        response = client.get(url)
        if allowed:
            assert response.status_code in (200, 405), (url, response.status_code)
        else:
            assert response.status_code == 403, (url, response.status_code)
        _check_post_perm(client, url, role, callback)

    for target in ("theirs", "theirs_sub"):
        url = reverse(name, kwargs=_kwargs(params, world[target].code, world[target]))
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url

    extra = [p for p in params if p in PARAMETERS]
    if extra:
        # My merchant in the URL, their object in the rest of it: 404 when my role may
        # use the page, otherwise the same 403 as for my own objects (no existence oracle).
        url = reverse(name, kwargs={"merchant_code": world["mine"].code,
                                    **{p: VALUES[p](world["mine"]) for p in params if p in VALUES},
                                    **{p: PARAMETERS[p](world["theirs"]) for p in extra}})
        expected = 404 if allowed else 403
        assert client.get(url).status_code == expected, url
        assert client.post(url).status_code == expected, url


@pytest.mark.parametrize("stored_role", ["manager", "viewer"])  # a sub-merchant's own members' roles
@pytest.mark.parametrize(
    ("name", "params", "callback"), MERCHANT_ROUTES, ids=[r[0] for r in MERCHANT_ROUTES]
)
def test_sub_merchant_operator_cannot_reach_agency_or_siblings(client, world, name, params, callback,
                                                                stored_role):
    sibling = make_sub_merchant(world["mine"], "M02")
    operator = make_member(world["mine_sub"], stored_role)
    client.force_login(operator)
    role = access_role(stored_role, on_sub_merchant=True)  # Sub-merchant Manager or Viewer
    url = reverse(name, kwargs=_kwargs(params, world["mine_sub"].code, world["mine_sub"]))
    ok = client.get(url)
    if not role_allows(role, callback.required_perm):
        assert ok.status_code == 403
    elif AGENCY_ONLY & set(params):
        assert ok.status_code == 404
    else:
        assert ok.status_code in (200, 405)
        _check_post_perm(client, url, role, callback)
    for target in (world["mine"], sibling, world["theirs"]):
        url = reverse(name, kwargs=_kwargs(params, target.code, target))
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    ("name", "params", "callback"), MERCHANT_ROUTES, ids=[r[0] for r in MERCHANT_ROUTES]
)
def test_anonymous_is_sent_to_login(client, world, name, params, callback):
    url = reverse(name, kwargs=_kwargs(params, world["mine"].code, world["mine"]))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
