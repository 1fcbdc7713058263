"""The i'mport-compatible REST API: POST /users/getToken, GET /users/pg, and the tiers
(sub-merchants) at /tiers/<code>: GET, POST (add), PUT (rename), DELETE.

Every answer is the i'mport envelope {"code", "message", "response"}, failures included:
a non-zero code, a sentence, and 400/401/403/404/405/429. That holds for a wrong method
(405, with Allow), a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (400) and an unknown path
under the API's prefixes (404, ``not_found``). Bodies may be JSON or form-encoded. These
endpoints authenticate with tokens, so they are exempt from CSRF.
"""

import json
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.http import JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from channels import selectors as channel_selectors
from console.accounts.services.merchants import (
    SubMerchantGone,
    sub_merchant_create,
    sub_merchant_delete,
    sub_merchant_update,
)
from console.api.selectors import whitelist_allows
from console.api.services.api_keys import (
    api_key_check,
    token_authenticate,
    token_issue,
    touch_last_used,
)
from console.models import TIER_CODE_RE, ApiKey, Merchant
from console.tenancy.audit import Actor
from console.tenancy.client_ip import client_ip

FAILED_TOKEN_LIMIT = 10  # failed getToken calls per client address per minute
TIER_NAME_MAX = Merchant._meta.get_field("name").max_length


def envelope(response=None, *, code: int = 0, message: str | None = None, status: int = 200):
    return JsonResponse({"code": code, "message": message, "response": response}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def _fail(status: int, message: str):
    return envelope(None, code=-1, message=message, status=status)


def rest_view(*methods: str):
    """An endpoint of the REST API: no CSRF (tokens, not cookies), any other method answered
    405 in the envelope, and a body too large to read answered 400 in the envelope."""
    allowed = ", ".join(methods)

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                response = _fail(405, f"{request.method} is not allowed here. Use {allowed}.")
                response["Allow"] = allowed
                return response
            if any("\x00" in str(v) for v in kwargs.values()) or any(
                    "\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
                return _fail(400, "The path or the query contains a NUL character.")
            try:
                return view(request, *args, **kwargs)
            except RequestDataTooBig:
                return _fail(400, "The body is too large: at most "
                                  f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
            except (TooManyFieldsSent, TooManyFilesSent, MultiPartParserError) as exc:
                return _fail(400, f"The body could not be read: {exc}")

        return wrapped

    return decorator


@csrf_exempt
def not_found(request, path=""):
    """Any path under the API's prefixes that no endpoint serves."""
    return _fail(404, f"There is no REST API endpoint at {request.path}.")


def _body(request) -> dict | None:
    """The body as a dict: JSON, or a form (Django parses a form only for POST, so a PUT's is
    read here; no body at all is an empty form). None when it is neither."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None
    if request.method == "POST":
        return request.POST
    if request.content_type == "application/x-www-form-urlencoded" or not request.body:
        return QueryDict(request.body, encoding=request.encoding)
    return None


def _refused(merchant: Merchant, request):
    address = client_ip(request)
    if whitelist_allows(merchant, address):
        return None
    return _fail(403, f"The address {address} is not on this merchant's IP whitelist.")


@rest_view("POST")
def get_token(request):
    address = client_ip(request) or "unknown"
    failures_key = f"rest:getToken:failures:{address}"
    if (cache.get(failures_key) or 0) >= FAILED_TOKEN_LIMIT:
        return _fail(429, "Too many failed token requests from this address. Try again in a minute.")
    data = _body(request)
    if data is None:
        return _fail(400, "The body must be JSON or a form with imp_key and imp_secret.")
    api_key = api_key_check(str(data.get("imp_key") or ""), str(data.get("imp_secret") or ""))
    if api_key is None:
        if cache.add(failures_key, 1, timeout=60) is False:
            try:
                cache.incr(failures_key)
            except ValueError:
                cache.set(failures_key, 1, timeout=60)
        return _fail(401, "The REST API key or secret is wrong, expired or revoked.")
    refused = _refused(api_key.merchant, request)
    if refused:
        return refused
    issued = token_issue(api_key)
    touch_last_used(api_key)
    return envelope({"access_token": issued.token, "now": int(issued.now.timestamp()),
                     "expired_at": int(issued.expires_at.timestamp())})


def _authenticated(request) -> tuple[ApiKey | None, Merchant | None, JsonResponse | None]:
    """(the key, the merchant the call acts for, error response)."""
    header = request.headers.get("Authorization", "").strip()
    token = header[7:].strip() if header.lower().startswith("bearer ") else header
    api_key = token_authenticate(token)
    if api_key is None:
        return None, None, _fail(401, "The access token is missing, unknown or expired. Get one at /users/getToken.")
    refused = _refused(api_key.merchant, request)
    if refused:
        return None, None, refused
    merchant = api_key.merchant
    if "Tier" in request.headers:  # present means "act for this sub-merchant", even if blank
        tier = request.headers["Tier"]
        sub = merchant.sub_merchants.filter(tier_code=tier).first() if TIER_CODE_RE.fullmatch(tier) else None
        if sub is None:
            return None, None, _fail(404, f"This merchant has no sub-merchant with the tier code {tier!r}.")
        merchant = sub
    return api_key, merchant, None


@rest_view("GET")
def users_pg(request):
    _key, merchant, error = _authenticated(request)
    if error:
        return error
    return envelope(channel_selectors.channels_for_api(merchant_id=merchant.pk))


# --- Tiers: the same services, rules and audit rows as the Sub-merchants page -----------


def _tier_json(sub: Merchant) -> dict:
    return {"tier_code": sub.tier_code, "tier_name": sub.name}


def _tier_code_problem(tier_code: str) -> str | None:
    if TIER_CODE_RE.fullmatch(tier_code):
        return None
    shown = tier_code[:20]
    if TIER_CODE_RE.fullmatch(tier_code.upper()):
        return f"Tier codes are upper case: use /tiers/{tier_code.upper()}, not /tiers/{shown}."
    return f"A tier code is exactly 3 uppercase letters or digits, e.g. A01, not {shown!r}."


def _unknown_tier(tier_code: str):
    return _fail(404, f"This merchant has no sub-merchant with the tier code {tier_code}.")


def _refusal(exc) -> str:
    """A service's ValidationError as one sentence, fields named as the API names them."""
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    names = {"name": "tier_name", "tier_code": "tier_code", "__all__": None}
    return " ".join(f"{names.get(field, field)}: {message}" if names.get(field, field) else message
                    for field, messages in exc.message_dict.items() for message in messages)


def _tier_name(request) -> tuple[str | None, JsonResponse | None]:
    data = _body(request)
    if data is None:
        return None, _fail(400, "The body must be JSON or a form (application/x-www-form-urlencoded) "
                                "with tier_name.")
    name = data.get("tier_name")
    if name is not None and not isinstance(name, str):
        return None, _fail(400, "tier_name must be a string: the sub-merchant's name.")
    if not (name or "").strip():
        return None, _fail(400, "tier_name is required: the sub-merchant's name.")
    if len(name) > TIER_NAME_MAX:  # as sent, as the OpenAPI description says
        return None, _fail(400, f"tier_name is too long: at most {TIER_NAME_MAX} characters "
                                f"(it has {len(name)}).")
    return name, None


@rest_view("GET", "POST", "PUT", "DELETE")
def tier(request, tier_code):
    """GET a tier of the caller; POST, PUT and DELETE only with an agency's own key (no Tier
    header: a call acting for a sub-merchant gets 403). Another agency's tier is a 404."""
    api_key, merchant, error = _authenticated(request)
    if error:
        return error
    problem = _tier_code_problem(tier_code)
    if problem:
        return _fail(400, problem)
    agency = merchant.parent or merchant
    sub = agency.sub_merchants.filter(tier_code=tier_code).first()
    if request.method == "GET":
        if sub is None or (merchant.parent_id and merchant.pk != sub.pk):
            return _unknown_tier(tier_code)
        return envelope(_tier_json(sub))
    if merchant.parent_id:
        return _fail(403, "Only the agency's own calls add, rename or delete its tiers: call "
                          "without the Tier header.")
    if request.method != "POST" and sub is None:
        return _unknown_tier(tier_code)
    actor = Actor(api_key=api_key, ip=client_ip(request))
    try:
        if request.method == "DELETE":
            sub_merchant_delete(actor=actor, sub_merchant=sub)
            return envelope(_tier_json(sub))
        name, error = _tier_name(request)
        if error:
            return error
        if request.method == "POST":
            return envelope(_tier_json(sub_merchant_create(actor=actor, agency=agency, name=name,
                                                           tier_code=tier_code)))
        return envelope(_tier_json(sub_merchant_update(actor=actor, sub_merchant=sub, name=name)))
    except (SubMerchantGone, Merchant.DoesNotExist):  # deleted by a call running alongside
        return _unknown_tier(tier_code)
    except ValidationError as exc:
        return _fail(400, _refusal(exc))
