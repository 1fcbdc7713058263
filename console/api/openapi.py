"""GET /api/openapi.json: the OpenAPI 3 description of the i'mport-compatible REST API.

tests/test_openapi.py runs schemathesis against the app with it, so it stays true.
"""

from django.http import JsonResponse
from django.views.decorators.http import require_GET


def _envelope(response_schema: dict) -> dict:
    return {
        "type": "object",
        "required": ["code", "message", "response"],
        "properties": {
            "code": {"type": "integer", "description": "0 on success, non-zero on failure"},
            "message": {"type": "string", "nullable": True},
            "response": {**response_schema, "nullable": True},
        },
    }


ERROR = {"description": "Failure, in the envelope", "content": {"application/json": {"schema": _envelope({})}}}

TOKEN_BODY = {
    "type": "object",
    "required": ["imp_key", "imp_secret"],
    "properties": {"imp_key": {"type": "string", "description": "REST API key"},
                   "imp_secret": {"type": "string", "description": "REST API secret"}},
}

CHANNEL = {
    "type": "object",
    "required": ["pg_provider", "pg_id", "sandbox", "type", "channel_name", "channel_key"],
    "properties": {
        "pg_provider": {"type": "string", "maxLength": 16},
        "pg_id": {"type": "string", "maxLength": 80},
        "sandbox": {"type": "boolean"},
        "type": {"type": "string", "enum": ["payment", "api_payment", "certification"]},
        "channel_name": {"type": "string"},
        "channel_key": {"type": "string"},
    },
}

TIER_HEADER = {"name": "Tier", "in": "header", "required": False,
               "description": "Act for this sub-merchant of the agency (tier code).",
               "schema": {"type": "string", "pattern": "^[A-Z0-9]{3}$"}}

TIER_CODE = {"type": "string", "pattern": "^[A-Z0-9]{3}$",
             "description": "Exactly 3 uppercase letters or digits. A lower-case code is a 400 "
                            "that says tier codes are upper case."}
# A name: a non-space character, no control characters inside, spaces around it allowed (they
# are trimmed); at most 100 characters as sent.
_CC = "\\u0000-\\u001f\\u007f-\\u009f"
TIER_NAME = {"type": "string", "minLength": 1, "maxLength": 100,
             "pattern": f"^\\s*[^\\s{_CC}](?:[^{_CC}]*[^\\s{_CC}])?\\s*$",
             "description": "The sub-merchant's name: at most 100 characters, no control "
                            "characters; spaces around it are trimmed."}
TIER_BODY = {"type": "object", "required": ["tier_name"], "properties": {"tier_name": TIER_NAME}}
TIER = {"type": "object", "required": ["tier_code", "tier_name"],
        "properties": {"tier_code": {"type": "string"}, "tier_name": {"type": "string"}}}


def _tier_operation(operation_id: str, summary: str, description: str, *, example: str,
                    body: bool = False, errors: tuple[str, ...]) -> dict:
    operation = {
        "operationId": operation_id, "summary": summary, "description": description,
        "security": [{"token": []}],
        "parameters": [{"name": "tier_code", "in": "path", "required": True, "schema": TIER_CODE,
                        "example": example}, TIER_HEADER],
        "responses": {
            "200": {"description": "The tier", "content": {"application/json": {"schema": _envelope(TIER)}}},
            **{status: ERROR for status in errors},
        },
    }
    if body:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": TIER_BODY},
            "application/x-www-form-urlencoded": {"schema": TIER_BODY}}}
    return operation


SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "PG Console REST API (i'mport-compatible)", "version": "1.0.0"},
    "components": {"securitySchemes": {"token": {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "The access_token from /users/getToken, bare or as `Bearer <token>`."}}},
    "paths": {
        "/users/getToken": {"post": {
            "operationId": "getToken",
            "summary": "Issue a 30-minute access token (the same one again while it lives)",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": TOKEN_BODY},
                "application/x-www-form-urlencoded": {"schema": TOKEN_BODY}}},
            "responses": {
                "200": {"description": "A token", "content": {"application/json": {"schema": _envelope({
                    "type": "object", "required": ["access_token", "now", "expired_at"],
                    "properties": {"access_token": {"type": "string"}, "now": {"type": "integer"},
                                   "expired_at": {"type": "integer"}}})}}},
                "400": ERROR, "401": ERROR, "403": ERROR, "429": ERROR,
            },
        }},
        "/users/pg": {"get": {
            "operationId": "getPgSettings",
            "summary": "The caller's enabled PG channels (test ones with sandbox: true); never credentials",
            "description": "Channels the caller owns or that its agency assigned to it. A disabled "
                           "channel is left out: a merchant's server is never offered one.",
            "security": [{"token": []}],
            "parameters": [TIER_HEADER],
            "responses": {
                "200": {"description": "Channels", "content": {"application/json": {
                    "schema": _envelope({"type": "array", "items": CHANNEL})}}},
                "401": ERROR, "403": ERROR, "404": ERROR,
            },
        }},
        "/tiers/{tier_code}": {
            "get": _tier_operation(
                "getTier", "A sub-merchant (tier) of the caller",
                "The tier, or 404 if it is not the caller's (a call with the Tier header sees only "
                "that tier).", example="ABC", errors=("400", "401", "403", "404")),
            "post": _tier_operation(
                "addTier", "Add a sub-merchant (tier) to the agency",
                "The agency's own key only (with the Tier header: 403). 400 for a missing or "
                "malformed tier_name, a malformed code or a code the agency already uses. The new "
                "sub-merchant gets its test channels, as one added in the console does.",
                example="XYZ", body=True, errors=("400", "401", "403", "404")),
            "put": _tier_operation(
                "updateTier", "Rename a sub-merchant (tier) of the agency",
                "The agency's own key only (with the Tier header: 403); 404 for a tier that is not "
                "the agency's.", example="ABC", body=True, errors=("400", "401", "403", "404")),
            "delete": _tier_operation(
                "deleteTier", "Delete a sub-merchant (tier) of the agency",
                "As the console's Delete: its channels return to the agency, its own members lose "
                "access, its open invitations are revoked, its tier code is free again. Answers "
                "the deleted tier. The agency's own key only (with the Tier header: 403).",
                example="ABC", errors=("400", "401", "403", "404")),
        },
    },
}


@require_GET
def openapi_json(request):
    return JsonResponse(SPEC)
