"""The door of the i'mport-compatible REST API, on Django REST framework.

Every endpoint is an ``ImportView``. What it guarantees, for every answer:

* the i'mport envelope ``{"code", "message", "response"}``, failures included: a non-zero
  code, one sentence, and 400/401/403/404/405/429 (``envelope_exception_handler``). That
  holds for a wrong method (405 with ``Allow``, before any authentication), a body over
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (400), a body that is neither JSON nor a form (400), text
  the database cannot store (a NUL, half of a surrogate pair: 400) in the body (``valid``), the
  path, the query or a header (``console.tenancy.inputs.UnstorableInputMiddleware``, which asks
  ``unstorable_refusal`` for the envelope) and an unknown path under the API's prefixes (404,
  ``not_found``);
* JSON whatever the ``Accept`` header asks for (the clients of the original never send one);
* messages in Korean whatever ``Accept-Language`` says, as i'mport answers (``REST_LANGUAGE``);
* i'mport's rule for statuses: a refusal whose status the operation does not document (its
  ``responses`` in the description, written as PortOne's V1 contract documents it) is answered
  HTTP 200 with its non-zero ``code``, as i'mport answers a business refusal
  (``answered_status``); the door's own refusals (401, 403, 405, 429) keep their status;
* bodies as JSON or as a form (``application/x-www-form-urlencoded``, and multipart, which
  the description leaves out), for PUT as for POST;
* no CSRF (tokens, not cookies) and no session: ``authentication_classes`` is empty, and a
  view with ``requires_token`` authenticates the token itself (``Authorization``, bare or
  ``Bearer``, or ``X-ImpTokenHeader``, which older clients send), checks the merchant's
  IP whitelist and resolves the ``Tier`` header to the sub-merchant the call acts for
  (``self.api_key``, ``self.merchant``).

The OpenAPI description at /api/openapi.json is generated from these views and their
serializers by drf-spectacular (``ImportSchema`` adds the token and the Tier header);
tests/console/test_openapi.py runs schemathesis against it.
"""

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.validators import RegexValidator
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from console.models import TIER_CODE_RE, ApiKey, Merchant
from console.tenancy.client_ip import client_ip
from console.tenancy.inputs import (
    answers_unstorable_input,
    storable,
    unstorable_field,
    unstorable_message,
)

from .tokens import token_authenticate
from .whitelist import whitelist_allows

REST_LANGUAGE = "ko"  # i'mport answers in Korean, whatever the caller's Accept-Language says

# The door's own refusals: answered with their status whatever the operation documents.
DOOR_STATUSES = frozenset({401, 403, 405, 429})

# The headers a token may come in: i'mport reads both (PortOne's guide names them; older
# clients send only the second).
TOKEN_HEADERS = ("Authorization", "X-ImpTokenHeader")


class Refusal(exceptions.APIException):
    """An answer in the envelope with this HTTP status, message and (non-zero) code. The status is
    the one wanted; ``answered_status`` gives what the operation answers (i'mport's rule)."""

    def __init__(self, status: int, message: str, *, code: int = -1):
        super().__init__(detail=message)
        self.status_code, self.envelope_code = status, code


def documented_statuses(request) -> frozenset[int] | None:
    """The statuses the operation ``request`` calls documents in the API's description (its
    view's ``responses``, written as PortOne's V1 contract documents the operation), or None for
    a route the description leaves out."""
    from .openapi import documented  # the description is built from the views of this module

    match = request.resolver_match
    if match is None:  # asked before the URL was resolved (UnstorableInputMiddleware)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
    # A route the description leaves out may answer as a documented one it stands in for
    # (``documented_like``: i'mport's older ``/subscribe/payments/foreign`` is ``onetime``).
    route = getattr(getattr(match.func, "view_class", None), "documented_like", None) or match.route
    return documented(route, request.method) if route else None


def answered_status(request, wanted: int) -> int:
    """i'mport's rule, written once: a refusal answers ``wanted`` when the operation documents it
    (or it is the door's own), else HTTP 200 with its non-zero code."""
    if wanted in DOOR_STATUSES:
        return wanted
    documented = documented_statuses(request)
    return wanted if documented is None or wanted in documented else 200


def envelope(response=None, *, code: int = 0, message: str | None = None, status: int = 200) -> Response:
    return Response({"code": code, "message": message, "response": response}, status=status)


def _sentence(detail, path: str = "") -> str:
    """DRF's error detail (a string, a list, or a dict per field, nested for lists of
    objects) as one sentence, each problem after the field it is about (``schedules[2].amount``),
    as the API names it."""
    if isinstance(detail, Mapping):
        return " ".join(filter(None, (_sentence(value, _join(path, key)) for key, value in detail.items())))
    if isinstance(detail, list | tuple):
        if any(isinstance(item, Mapping) for item in detail):  # one entry per item of a list
            return " ".join(filter(None, (_sentence(item, f"{path}[{index}]") for index, item in enumerate(detail))))
        return " ".join(_sentence(item, path) for item in detail)
    text = str(detail)
    return text if not path or text.startswith(path) else f"{path}: {text}"


def _join(path: str, key) -> str:
    if key in ("non_field_errors", "__all__"):
        return path
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


_UNREADABLE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, MultiPartParserError)


def envelope_exception_handler(exc, context):
    """Every failure of an ``ImportView`` as an envelope. Anything else is a bug: DRF
    re-raises it and Django answers 500 (and logs it)."""
    if isinstance(exc, RequestDataTooBig):
        exc = Refusal(400, _("The body is too large: at most %(max)s bytes.")
                      % {"max": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    elif isinstance(exc, _UNREADABLE) or isinstance(exc, SuspiciousOperation):
        exc = Refusal(400, _("The body could not be read: %(why)s") % {"why": exc})
    elif isinstance(exc, Http404):
        exc = Refusal(404, str(exc) or _("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = Refusal(403, str(exc) or _("Not allowed."))
    elif isinstance(exc, exceptions.MethodNotAllowed):
        view = context["view"]
        exc = Refusal(405, _("%(method)s is not allowed here. Use %(allowed)s.")
                      % {"method": context["request"].method, "allowed": view.allowed})
    elif isinstance(exc, exceptions.UnsupportedMediaType | exceptions.ParseError):
        exc = Refusal(400, _(context["view"].body_hint))  # each hint's Korean is in the catalogue
    if not isinstance(exc, exceptions.APIException):
        return None
    status = answered_status(context["request"], exc.status_code)
    response = envelope(None, code=getattr(exc, "envelope_code", -1), message=_sentence(exc.detail),
                        status=status)
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))
    return response


class _AlwaysJSON(DefaultContentNegotiation):
    """JSON whatever ``Accept`` says: a client asking for HTML gets JSON, not a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _EnvelopeRenderer(JSONRenderer):
    charset = "utf-8"


TIER_HEADER = OpenApiParameter(
    "Tier", str, OpenApiParameter.HEADER, required=False, pattern=r"^[A-Z0-9]{3}$",
    description="Act for this sub-merchant of the agency (its tier code).")


class ImportSchema(AutoSchema):
    """drf-spectacular's schema, with the bearer token and the Tier header on every view that
    takes a token, and the envelope's failures on every operation."""

    def get_auth(self):
        return [{"token": []}] if getattr(self.view, "requires_token", False) else []

    def get_override_parameters(self):
        extra = [TIER_HEADER] if getattr(self.view, "requires_token", False) else []
        return [*super().get_override_parameters(), *extra]

    def map_parsers(self):
        return [media for media in super().map_parsers() if media != "multipart/form-data"]

    def get_operation_id(self):
        return getattr(self.view, "operation_ids", {}).get(self.method.lower()) or super().get_operation_id()


class ImportView(APIView):
    """An endpoint of the REST API (see the module's docstring)."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()
    parser_classes = (JSONParser, FormParser, MultiPartParser)
    renderer_classes = (_EnvelopeRenderer,)
    content_negotiation_class = _AlwaysJSON
    metadata_class = None
    schema = ImportSchema()
    requires_token = True
    body_hint = "The body must be JSON or a form (application/x-www-form-urlencoded)."

    api_key: ApiKey | None = None
    merchant: Merchant | None = None

    sensitive_fields: tuple[str, ...] = ()  # kept out of Django's error reports (card data)

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        if cls.sensitive_fields:
            view = sensitive_post_parameters(*cls.sensitive_fields)(view)
        return answers_unstorable_input(unstorable_refusal)(csrf_exempt(view))

    @property
    def allowed(self) -> str:
        return ", ".join(m for m in self.allowed_methods if m != "OPTIONS")  # HEAD with GET

    @property
    def default_response_headers(self):
        return {"Allow": self.allowed}

    def get_exception_handler(self):
        return envelope_exception_handler

    def dispatch(self, request, *args, **kwargs):
        with translation.override(REST_LANGUAGE):  # messages rendered here, in the envelope
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        method = request.method.lower()
        if method == "options" or method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method)
        if request.content_type and method in ("post", "put", "patch", "delete"):
            request._request.body  # noqa: B018 -- over DATA_UPLOAD_MAX_MEMORY_SIZE raises here, not later
        super().initial(request, *args, **kwargs)
        if self.requires_token:
            self.api_key, self.merchant = self.authenticate(request)

    def authenticate(self, request) -> tuple[ApiKey, Merchant]:
        api_key = token_authenticate(request_token(request))
        if api_key is None:
            raise Refusal(401, _("The access token is missing, unknown or expired. Get one at /users/getToken."))
        refuse_unlisted_address(api_key.merchant, request)
        merchant = api_key.merchant
        if "Tier" in request.headers:  # present means "act for this sub-merchant", even if blank
            tier = request.headers["Tier"]
            if not TIER_CODE_RE.fullmatch(tier):  # bad input: a 400 where the operation documents one
                raise Refusal(400, _("This merchant has no sub-merchant with the tier code “%(tier)s”.")
                              % {"tier": tier})
            sub = merchant.sub_merchants.filter(tier_code=tier).first()
            if sub is None:  # not found where the operation says so, else a bad header
                documented = documented_statuses(request._request) or {404}
                raise Refusal(404 if 404 in documented else 400,
                              _("This merchant has no sub-merchant with the tier code “%(tier)s”.") % {"tier": tier})
            merchant = sub
        return api_key, merchant

    def body(self, request) -> Mapping:
        """The body as a mapping (JSON object or form); no body at all is an empty one."""
        data = request.data
        if not isinstance(data, Mapping):
            raise Refusal(400, _(self.body_hint))
        return data

    def valid(self, serializer_class, data, **kwargs) -> dict:
        """``data`` through ``serializer_class``: its validated data, or a 400 that names each
        field's problem."""
        serializer = serializer_class(data=data, **kwargs)
        if not serializer.is_valid():
            raise Refusal(400, storable(_sentence(serializer.errors)))  # a message may quote the input
        # What the database cannot store, in what is read (the path, query and headers:
        # UnstorableInputMiddleware). A field no serializer declares is never read: ignored.
        field = unstorable_field(serializer.validated_data)
        if field:
            raise Refusal(400, unstorable_message(field))
        return serializer.validated_data


def request_token(request) -> str:
    """The token a call carries: the first of ``TOKEN_HEADERS`` that is not blank, bare or after
    ``Bearer``."""
    for name in TOKEN_HEADERS:
        value = request.headers.get(name, "").strip()
        if value:
            return value[7:].strip() if value.lower().startswith("bearer ") else value
    return ""


def refuse_unlisted_address(merchant: Merchant, request) -> None:
    address = client_ip(request)
    if not whitelist_allows(merchant, address):
        raise Refusal(403, _("The address %(address)s is not on this merchant's IP whitelist.")
                      % {"address": address})


def unstorable_refusal(request, message: str) -> JsonResponse:
    """The envelope's refusal of input that cannot be stored, as ``UnstorableInputMiddleware`` asks
    it of the API's views (before the view runs): a call that needs a token and has none valid is
    a 401 first, as any other; then a 400, or i'mport's 200 where the operation documents no 400."""
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        view = None
    if getattr(getattr(view, "view_class", None), "requires_token", False) and \
            token_authenticate(request_token(request)) is None:
        with translation.override(REST_LANGUAGE):
            message = _("The access token is missing, unknown or expired. Get one at /users/getToken.")
        status = 401
    else:
        status = answered_status(request, 400)
    return JsonResponse({"code": -1, "message": message, "response": None}, status=status,
                        json_dumps_params={"ensure_ascii": False})


@answers_unstorable_input(unstorable_refusal)
@csrf_exempt
def not_found(request, path=""):
    """Any path under the API's prefixes that no endpoint serves (``urls.API_PREFIXES``)."""
    with translation.override(REST_LANGUAGE):
        message = _("There is no REST API endpoint at %(path)s.") % {"path": request.path}
    return JsonResponse({"code": -1, "message": message, "response": None}, status=404,
                        json_dumps_params={"ensure_ascii": False})


# --- what every app's serializers share ------------------------------------------------------

# Control characters (a character class): never inside a name, an order number or a reason.
CONTROL_CHARACTERS = "\\u0000-\\u001f\\u007f-\\u009f"
NO_NUL = RegexValidator("^[^\\u0000]*$", gettext_lazy("No NUL characters."))


# --- the envelope in the description ------------------------------------------------------


def enveloped(name: str, response: serializers.Field | None = None) -> type[serializers.Serializer]:
    """A serializer class (for the description only) of the envelope around ``response``."""
    fields = {
        "code": serializers.IntegerField(help_text="0 on success, non-zero on failure"),
        "message": serializers.CharField(allow_null=True, help_text="Why it failed; null on success"),
        "response": response if response is not None else serializers.JSONField(allow_null=True),
    }
    return type(name, (serializers.Serializer,), fields)


ERROR = enveloped("Failure")


def operation(method: str, **kwargs):
    """A view's one operation in the description (``extend_schema`` on its ``method``). Its
    ``responses`` are what the operation documents, which ``answered_status`` reads: write them
    as PortOne's V1 contract documents the operation (tests/payments/test_rest_refusals.py)."""
    return extend_schema_view(**{method: extend_schema(**kwargs)})


def responses(ok: type[serializers.Serializer], *errors: int) -> dict:
    return {200: ok, **{status: ERROR for status in errors}}
