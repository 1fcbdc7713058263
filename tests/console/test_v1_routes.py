"""Every path of PortOne's V1 contract answers as an i'mport endpoint (issue 23, items 3 and 5):
the envelope, never the console's HTML page; a token in ``Authorization`` or ``X-ImpTokenHeader``;
and for the operations the sandbox does not simulate, a refusal with a status the operation
documents. The contract is read from PortOne's own ``schema/v1.openapi.json`` (tests/portone_schema.py)."""

import re

import pytest
from django.urls import Resolver404, resolve

from api_keys.services.api_keys import api_key_create, token_issue
from console.rest import unserved
from console.rest.urls import API_PREFIXES
from console.tenancy.audit import SYSTEM
from tests.portone_schema import document

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "delete", "patch")


def _operations():
    return [(route, method, op) for route, ops in document()["paths"].items()
            for method, op in ops.items() if method in METHODS]


def _concrete(route: str) -> str:
    """A contract path with each ``{parameter}`` filled in (``imp_x1``…)."""
    return re.sub(r"\{[^}]+\}", "x1", route)


@pytest.fixture
def token(agency):
    issued = api_key_create(actor=SYSTEM, merchant=agency, name="routes")
    return token_issue(issued.api_key).token


def test_every_prefix_of_the_contract_answers_the_envelope():
    prefixes = {route.strip("/").split("/")[0] for route, _method, _op in _operations()}
    assert prefixes <= set(API_PREFIXES), prefixes - set(API_PREFIXES)


def test_every_operation_of_the_contract_is_served_or_refused_as_documented():
    """Each (path, method) of the contract reaches a view that takes the method: an app's
    endpoint, or ``unserved``'s refusal, never the catch-all 404 nor a 405."""
    for route, method, _op in _operations():
        match = resolve(_concrete(route))
        assert match.url_name != "rest_not_found", (method, route)
        view = match.func.view_class
        assert method in view.http_method_names and hasattr(view, method), (method, route, view)


def test_each_unserved_status_is_one_the_operation_documents():
    documented = {(route, method): set(map(int, op["responses"])) for route, method, op in _operations()}
    seen = set()
    for path, statuses, _what in unserved.UNSERVED:
        route = "/" + re.sub(r"<str:([^>]+)>", r"{\1}", path)
        for method, status in statuses.items():
            assert (route, method) in documented, (method, route)
            assert status in documented[(route, method)], (method, route, status)
            seen.add((route, method))
    assert len(seen) == sum(len(statuses) for _p, statuses, _w in unserved.UNSERVED)


@pytest.mark.parametrize(("path", "statuses"), [(path, statuses) for path, statuses, _w in unserved.UNSERVED])
def test_an_unserved_operation_authenticates_then_refuses_in_the_envelope(client, token, path, statuses):
    url = "/" + re.sub(r"<str:[^>]+>", "x1", path)
    for method, status in statuses.items():
        anonymous = getattr(client, method)(url)
        assert anonymous.status_code == 401 and anonymous.json()["code"] != 0, (method, url)
        answer = getattr(client, method)(url, HTTP_AUTHORIZATION=token)
        body = answer.json()
        assert answer.status_code == status, (method, url)
        assert body["code"] != 0 and body["response"] is None and body["message"], (method, url)
        assert re.search("[가-힣]", body["message"]), body["message"]  # i'mport answers in Korean


def test_the_bank_holder_lookup_is_not_taken_for_an_imp_uid(client, token):
    answer = client.get("/vbanks/holder?bank_code=004&bank_num=1234", HTTP_AUTHORIZATION=token)
    assert answer.status_code == 404  # documented: the lookup failed
    body = answer.json()
    assert body["code"] != 0 and body["response"] is None and "/vbanks/holder" in body["message"]
    assert client.get("/vbanks/holder").status_code == 401
    assert client.put("/vbanks/holder").status_code == 405


def test_a_certification_is_unknown_in_imports_words(client, token):
    for method in ("get", "delete"):
        answer = getattr(client, method)("/certifications/imp_12341234", HTTP_AUTHORIZATION=token)
        assert answer.status_code == 404
        assert answer.json() == {"code": -1, "message": "인증결과가 존재하지 않습니다.", "response": None}


@pytest.mark.parametrize("path", ["/naver/nothing", "/benepia", "/cvs/x/y", "/kcpquick", "/partners/x",
                                  "/payco/orders", "/paymentwall/x/y", "/escrows/x"])
def test_another_path_under_a_v1_prefix_is_the_envelopes_404(client, path):
    for method in ("get", "post"):
        answer = getattr(client, method)(path)
        assert answer.status_code == 404 and answer["Content-Type"].startswith("application/json"), path
        body = answer.json()
        assert body["code"] != 0 and body["response"] is None and path in body["message"]


def test_a_path_outside_the_api_is_still_the_consoles(client):
    with pytest.raises(Resolver404):
        resolve("/naverpay")


# --- item 3: the token header -------------------------------------------------------------


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_IMPTOKENHEADER"])
@pytest.mark.parametrize("bearer", [False, True])
def test_the_token_comes_in_authorization_or_x_imptokenheader(client, token, header, bearer):
    answer = client.get("/users/pg", **{header: f"Bearer {token}" if bearer else token})
    assert answer.status_code == 200 and answer.json()["code"] == 0


def test_a_wrong_token_in_x_imptokenheader_is_a_401(client, token):
    answer = client.get("/users/pg", HTTP_X_IMPTOKENHEADER=token[:-1] + ("a" if token[-1] != "a" else "b"))
    assert answer.status_code == 401 and answer.json()["code"] != 0
    assert client.get("/users/pg", HTTP_X_IMPTOKENHEADER="   ").status_code == 401


def test_authorization_is_read_first_when_both_come(client, token):
    assert client.get("/users/pg", HTTP_AUTHORIZATION="not-a-token", HTTP_X_IMPTOKENHEADER=token).status_code == 401
    assert client.get("/users/pg", HTTP_AUTHORIZATION=" ", HTTP_X_IMPTOKENHEADER=token).status_code == 200
