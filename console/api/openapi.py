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


# --- payments (our answer's shape, field for field as PortOne's PaymentAnnotation) -------

_S, _I, _B, _N = "string", "integer", "boolean", "number"
_PAYMENT_FIELDS = {
    "imp_uid": _S, "merchant_uid": _S, "pay_method": _S, "channel": _S, "pg_provider": _S,
    "emb_pg_provider": _S, "pg_tid": _S, "pg_id": _S, "escrow": _B, "apply_num": _S, "bank_code": _S,
    "bank_name": _S, "card_code": _S, "card_name": _S, "card_issuer_code": _S, "card_issuer_name": _S,
    "card_publisher_code": _S, "card_publisher_name": _S, "card_quota": _I, "card_number": _S,
    "card_type": _I, "vbank_code": _S, "vbank_name": _S, "vbank_num": _S, "vbank_holder": _S,
    "vbank_date": _I, "vbank_issued_at": _I, "name": _S, "amount": _N, "cancel_amount": _N,
    "currency": _S, "buyer_name": _S, "buyer_email": _S, "buyer_tel": _S, "buyer_addr": _S,
    "buyer_postcode": _S, "custom_data": _S, "user_agent": _S, "status": _S, "started_at": _I,
    "paid_at": _I, "failed_at": _I, "cancelled_at": _I, "fail_reason": _S, "cancel_reason": _S,
    "receipt_url": _S, "cash_receipt_issued": _B, "customer_uid": _S, "customer_uid_usage": _S,
}
_PAYMENT_REQUIRED = ["imp_uid", "merchant_uid", "amount", "cancel_amount", "currency", "status"]
CANCELLATION = {"type": "object", "required": ["pg_tid", "amount", "reason", "cancelled_at", "cancellation_id"],
                "properties": {"pg_tid": {"type": _S}, "amount": {"type": _N}, "cancelled_at": {"type": _I},
                               "reason": {"type": _S}, "cancellation_id": {"type": _S},
                               "receipt_url": {"type": _S, "nullable": True}}}
PAYMENT = {
    "type": "object", "required": _PAYMENT_REQUIRED,
    "properties": {
        **{name: ({"type": kind} if name in _PAYMENT_REQUIRED else {"type": kind, "nullable": True})
           for name, kind in _PAYMENT_FIELDS.items()},
        "status": {"type": _S, "enum": ["ready", "paid", "failed", "cancelled"]},
        "cancel_history": {"type": "array", "items": CANCELLATION},
        "cancel_receipt_urls": {"type": "array", "items": {"type": _S}},
    },
}
PAGED = {"type": "object", "required": ["total", "previous", "next", "list"],
         "properties": {"total": {"type": _I}, "previous": {"type": _I}, "next": {"type": _I},
                        "list": {"type": "array", "items": PAYMENT}}}
PREPARED = {"type": "object", "required": ["merchant_uid", "amount", "currency"],
            "properties": {"merchant_uid": {"type": _S}, "amount": {"type": _N}, "currency": {"type": _S}}}
_AMOUNT = {"description": "Whole won, 1 to 10,000,000,000 (a number, or its digits as a string)",
           "oneOf": [{"type": "integer", "minimum": 1, "maximum": 10_000_000_000},
                     {"type": "string", "pattern": "^[1-9][0-9]{0,9}$"}]}
# An order number as sent: a non-space character, no control characters, at most 80.
_ORDER = {"type": _S, "minLength": 1, "maxLength": 80, "pattern": f"^\\s*[^\\s{_CC}][^{_CC}]*$"}
PREPARE_BODY = {"type": "object", "required": ["merchant_uid", "amount"],
                "properties": {"merchant_uid": _ORDER, "amount": _AMOUNT,
                               "currency": {"type": _S, "enum": ["KRW"]}}}
_AMOUNT_OR_0 = {"description": "Whole won; 0 or none: all that is left",
                "oneOf": [{"type": "integer", "minimum": 0, "maximum": 10_000_000_000},
                          {"type": "string", "pattern": "^(0|[1-9][0-9]{0,9})$"}]}
CANCEL_BODY = {
    "type": "object",
    "anyOf": [{"required": ["imp_uid"]}, {"required": ["merchant_uid"]}],
    "properties": {
        "imp_uid": {**_ORDER, "maxLength": 16}, "merchant_uid": _ORDER, "amount": _AMOUNT_OR_0,
        "tax_free": _AMOUNT_OR_0, "checksum": _AMOUNT,
        "reason": {"type": _S, "maxLength": 300, "pattern": f"^[^{_CC}]*$"}},
}
_SORTING = {"name": "sorting", "in": "query", "required": False,
            "schema": {"type": _S, "enum": ["-started", "started", "-paid", "paid", "-updated", "updated"]}}
_PAGE = [{"name": "page", "in": "query", "required": False, "schema": {"type": _I, "minimum": 1, "maximum": 10**6}},
         {"name": "limit", "in": "query", "required": False,
          "schema": {"type": _I, "minimum": 1, "maximum": 1000}}]
_STATUS = {"type": _S, "enum": ["ready", "paid", "cancelled", "failed"]}


def _ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _envelope(schema)}}}


def _get(operation_id: str, summary: str, parameters: list, ok: dict,
         errors=("400", "401", "403", "404")) -> dict:
    return {"get": {"operationId": operation_id, "summary": summary, "security": [{"token": []}],
                    "parameters": [*parameters, TIER_HEADER],
                    "responses": {"200": ok, **{status: ERROR for status in errors}}}}


def _path(name: str, schema: dict | None = None, example: str = "order_1") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": _S}, "example": example}


PAYMENT_PATHS = {
    "/payments/{imp_uid}": _get(
        "getPayment", "One payment of the caller (another merchant's, or a sub-merchant's asked "
        "without its Tier header, is a 404)", [_path("imp_uid", example="imp_000000000000")],
        _ok("The payment", PAYMENT)),
    "/payments": _get(
        "getPayments", "The caller's payments among these imp_uid[] and merchant_uid[] (207 when "
        "some are not found)",
        [{"name": "imp_uid[]", "in": "query", "required": False, "style": "form", "explode": True,
          "schema": {"type": "array", "items": {"type": _S}}},
         {"name": "merchant_uid[]", "in": "query", "required": False, "style": "form", "explode": True,
          "schema": {"type": "array", "items": {"type": _S}}}],
        _ok("The payments", {"type": "array", "items": PAYMENT}), errors=("207", "400", "401", "403", "404")),
    "/payments/find/{merchant_uid}/{payment_status}": _get(
        "findPayment", "The latest payment of an order, of one status",
        [_path("merchant_uid"), _path("payment_status", _STATUS, "paid"), _SORTING], _ok("The payment", PAYMENT)),
    "/payments/findAll/{merchant_uid}/{payment_status}": _get(
        "findAllPayments", "Every payment of an order, of one status, page by page",
        [_path("merchant_uid"), _path("payment_status", _STATUS, "paid"), *_PAGE, _SORTING],
        _ok("A page", PAGED)),
    "/payments/status/{payment_status}": _get(
        "getPaymentsByStatus", "The caller's payments of a status started between from and to "
        "(UNIX seconds; by default the 90 days up to now; from after to lists nothing), page by page",
        [_path("payment_status", {"type": _S, "enum": ["all", "ready", "paid", "cancelled", "failed"]}, "all"),
         *_PAGE, {"name": "from", "in": "query", "required": False,
                  "schema": {"type": _I, "minimum": 0, "maximum": 2**31}},
         {"name": "to", "in": "query", "required": False, "schema": {"type": _I, "minimum": 0, "maximum": 2**31}},
         _SORTING],
        _ok("A page", PAGED)),
    "/payments/prepare/{merchant_uid}": _get(
        "getPreparedAmount", "The amount registered for an order", [_path("merchant_uid")],
        _ok("The registration", PREPARED)),
    "/payments/prepare": {
        method: {"operationId": f"{verb}PreparedAmount", "summary": summary, "security": [{"token": []}],
                 "parameters": [TIER_HEADER],
                 "requestBody": {"required": True, "content": {
                     "application/json": {"schema": PREPARE_BODY},
                     "application/x-www-form-urlencoded": {"schema": PREPARE_BODY}}},
                 "responses": {"200": _ok("The registration", PREPARED),
                               **{status: ERROR for status in ("400", "401", "403", "404")}}}
        for method, verb, summary in (
            ("post", "register", "Register an order's amount before the window (a window of "
                                 "another amount for it fails)"),
            ("put", "change", "Change an order's registered amount"))
    },
    "/payments/cancel": {"post": {
        "operationId": "cancelPayment", "summary": "Cancel a payment in full or in part",
        "description": "By imp_uid, else merchant_uid. No amount (or 0): the rest. checksum: the "
                       "amount the caller believes is left; when it differs nothing is cancelled. "
                       "As PortOne's contract says, a refusal of the payment itself answers 200 "
                       "with a non-zero code.",
        "security": [{"token": []}], "parameters": [TIER_HEADER],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": CANCEL_BODY},
            "application/x-www-form-urlencoded": {"schema": CANCEL_BODY}}},
        "responses": {"200": _ok("The payment after the cancel, or a refusal (code not 0)", PAYMENT),
                      **{status: ERROR for status in ("400", "401", "403", "404")}}}},
}

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
        **PAYMENT_PATHS,
    },
}


@require_GET
def openapi_json(request):
    return JsonResponse(SPEC)
