"""What a merchant's page talks to: the browser SDK (``/js/iamport.payment-1.2.0.js``) and the
sandbox payment window (``/sandbox/pay/``).

The window is posted to from another site (the SDK's form, into an iframe or the whole page),
so it takes no CSRF token and no cookie: the signed window token is the capability. It may be
framed by any site (the merchant's page holds the iframe); everything else of the console's
Content-Security-Policy stays. The result goes back as the SDK expects: a ``postMessage`` to the
merchant page's origin (iframe), or a redirect to ``m_redirect_url`` with the query PortOne sends.
"""

import contextlib
import hashlib
import json
from functools import cache
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import signing
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import etag, require_safe

from console.tenancy.audit import Actor
from console.tenancy.client_ip import client_ip
from console.tenancy.inputs import answers_unstorable_input, unstorable_field, unstorable_message
from payments.domain.errors import PaymentError, Refusal
from payments.models import PayMethod
from payments.sandbox import billing_window, cards, failures, window
from payments.v1 import annotation

SDK_FILE = "payments/iamport.js"
SDK_MAX_AGE = 60 * 60 * 24  # a day: the address is stable, so a change reaches pages within one
MESSAGE_SOURCE = "pgconsole-sandbox"
ORIGIN_SALT = "payments.window.origin"
# What request_pay sends that the window reads; everything else the SDK sends is ignored.
PARAMS = ("pg", "channelKey", "channel_key", "pay_method", "merchant_uid", "amount", "name",
          "buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode", "m_redirect_url",
          "notice_url", "custom_data", "currency", "customer_uid", "tax_free", "vat_amount", "vbank_due",
          "card", "escrow", "products", "language", "confirm_url")
ACTIONS = ("approve", "fail", "close", "vbank", "issue")


# --- the SDK ---------------------------------------------------------------------------


@cache
def _sdk() -> tuple[bytes, str]:
    path = finders.find(SDK_FILE)
    with open(path, "rb") as handle:
        body = handle.read()
    return body, hashlib.sha256(body).hexdigest()[:32]


def _sdk_file() -> tuple[bytes, str]:
    if settings.DEBUG:  # a developer editing the file sees the change at once
        _sdk.cache_clear()
    return _sdk()


@require_safe
@etag(lambda request: _sdk_file()[1])
@cache_control(public=True, max_age=SDK_MAX_AGE)
def sdk(request):
    """The SDK file, for any page on any site to load."""
    response = HttpResponse(_sdk_file()[0], content_type="text/javascript; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


# --- the window ------------------------------------------------------------------------


def http_origin(value) -> str:
    """``scheme://host[:port]`` of an http(s) page, or "" for anything else (a path, a query,
    credentials, another scheme, ``null``)."""
    text = str(value or "").strip()
    if not text or len(text) > 300 or any(ord(c) < 33 for c in text):
        return ""
    try:
        parts = urlsplit(text)
        port = parts.port  # refuses a port that is not a number
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return ""
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def _sign_origin(imp_uid: str, origin: str) -> str:
    return signing.Signer(salt=ORIGIN_SALT).sign(f"{imp_uid} {origin}")


def _unsign_origin(imp_uid: str, value: str) -> str:
    try:
        bound_uid, _space, origin = signing.Signer(salt=ORIGIN_SALT).unsign(value or "").partition(" ")
    except signing.BadSignature:
        return ""
    return http_origin(origin) if bound_uid == imp_uid else ""


def _csp(response, *, redirect_url: str = ""):
    """Any site may frame the window; its buttons may end in a redirect to the shop."""
    config = dict(settings.SECURE_CSP)
    config["frame-ancestors"] = ["*"]
    target = http_origin(_origin_part(redirect_url))
    if target:
        config["form-action"] = [CSP.SELF, target]
    response._csp_config = config
    return response


def _origin_part(url: str) -> str:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _params(post) -> dict:
    params = {key: post[key] for key in PARAMS if key in post}
    notice = params.get("notice_url")
    if isinstance(notice, str) and notice.startswith("["):  # the SDK sends a list as JSON
        try:
            decoded = json.loads(notice)
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            params["notice_url"] = [str(url) for url in decoded]
    return params


# The window's side of the one refusal vocabulary (payments.domain.errors), written once: the
# ``error_code`` the shop's callback reads (i'mport's window codes; a decline carries the PG's own)
# and the status of the window's page when the window itself cannot be opened or acted on.
SDK_ERROR_CODES = {Refusal.INVALID: "F400", Refusal.EXPIRED: "F403", Refusal.NOT_FOUND: "F404",
                   Refusal.CONFLICT: "F409", Refusal.DECLINED: "F500"}
SDK_PAGE_STATUSES = {Refusal.INVALID: 400, Refusal.EXPIRED: 403, Refusal.NOT_FOUND: 404,
                     Refusal.CONFLICT: 409, Refusal.DECLINED: 402}


def sdk_error_code(error: PaymentError) -> str:
    return error.pg_code or SDK_ERROR_CODES[error.code]


def _failed_rsp(params: dict, error: PaymentError) -> dict:
    rsp = {"success": False, "imp_success": False, "imp_uid": None,
           "merchant_uid": params.get("merchant_uid") or None,
           "error_code": sdk_error_code(error), "error_msg": error.message}
    if _customer_uid(params):
        rsp["customer_uid"] = _customer_uid(params)
    return rsp


def _customer_uid(params: dict) -> str:
    """The ``customer_uid`` request_pay gave: a billing key's window when not empty."""
    return str(params.get("customer_uid") or "").strip()


def _message(origin: str, rsp: dict) -> dict | None:
    return {"origin": origin, "data": {"source": MESSAGE_SOURCE, "rsp": rsp}} if origin else None


def _refused(request, message: str, *, status: int, origin: str = "", rsp: dict | None = None,
             back_url: str = ""):
    response = render(request, "payments/window.html", {
        "error": message, "message": _message(origin, rsp) if rsp else None, "back_url": back_url,
    }, status=status)
    return _csp(response)


def _redirect_back(m_redirect_url: str, rsp: dict) -> str:
    """``m_redirect_url`` with PortOne's query: imp_uid, merchant_uid, imp_success, and
    error_code and error_msg on failure (after any query the URL has, before its fragment)."""
    query = [("imp_uid", rsp.get("imp_uid") or ""), ("merchant_uid", rsp.get("merchant_uid") or ""),
             ("imp_success", "true" if rsp.get("success") else "false")]
    if rsp.get("customer_uid"):  # a billing key's window
        query.append(("customer_uid", rsp["customer_uid"]))
    if not rsp.get("success"):
        query += [("error_code", rsp.get("error_code") or ""), ("error_msg", rsp.get("error_msg") or "")]
    base, hash_, fragment = m_redirect_url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}{urlencode(query)}{hash_}{fragment}"


def _window_context(payment, token: str, signed_origin: str, error: str = "", asked_amount: int = 0) -> dict:
    channel = payment.channel
    provider = channel.provider_entry if channel is not None else None
    context = {
        "payment": payment, "token": token, "signed_origin": signed_origin, "error": error,
        "provider_name": provider.name if provider else payment.pg_provider,
        "pg_string": f"{payment.pg_provider}.{payment.pg_id}",
        "amount": f"{payment.amount:,}", "is_vbank": payment.pay_method == PayMethod.VBANK,
        "pg_errors": failures.for_method(payment.pay_method), "banks": window.VBANK_BANKS,
    }
    if payment.customer_uid:  # a billing key's window
        pays = billing_window.pays_at_issuance(payment)
        context.update({
            "pays": pays, "card_groups": billing_window.card_choices(pays=pays),
            "default_card": cards.DEFAULT_CARD.key,
            # An amount asked of a PG that pays nothing at issuance is only shown (first render).
            "shown_amount": f"{asked_amount:,}" if asked_amount and not pays else "",
        })
    return context


def _window_page(request, context: dict, *, status: int = 200):
    template = "payments/window_billing_key.html" if context["payment"].customer_uid else "payments/window.html"
    return _csp(render(request, template, context, status=status), redirect_url=context["payment"].m_redirect_url)


def _open_refused(request, post, params: dict, error: PaymentError):
    """The window refuses to open: the shop gets i'mport's rsp (postMessage, or m_redirect_url)."""
    rsp = _failed_rsp(params, error)
    redirect_url = params.get("m_redirect_url", "")
    back = _redirect_back(redirect_url, rsp) if http_origin(_origin_part(redirect_url)) else ""
    return _refused(request, error.message, status=400, origin="" if back else http_origin(post.get("origin")),
                    rsp=rsp, back_url=back)


def _open_unstorable(request, message: str):
    """Input the database cannot store (NUL…): refused as any bad request_pay, ``F400``."""
    try:
        post = request.POST
    except (RequestDataTooBig, TooManyFieldsSent):
        post = {}
    return _open_refused(request, post, _params(post), PaymentError(Refusal.INVALID, message))


def _action_unstorable(request, message: str):
    return _refused(request, message, status=400)


@answers_unstorable_input(_open_unstorable)
@csrf_exempt
@xframe_options_exempt
def window_open(request):
    """The window ``IMP.request_pay`` posts to: a ready payment and its buttons."""
    if request.method != "POST":
        return _csp(HttpResponseNotAllowed(["POST"]))
    try:
        post = request.POST
    except (RequestDataTooBig, TooManyFieldsSent):
        return _refused(request, _("The payment request is too large."), status=400)
    params = _params(post)
    unstorable = unstorable_field(post) or unstorable_field(params)  # the body: this door's own
    if unstorable:
        return _open_refused(request, post, params, PaymentError(Refusal.INVALID, unstorable_message(unstorable)))
    origin = http_origin(post.get("origin"))
    redirect_url = params.get("m_redirect_url", "")
    billing_key = bool(_customer_uid(params))
    open_window = billing_window.window_open if billing_key else window.window_open
    if not str(redirect_url).strip() and not origin:  # before the service: a refused request replaces no window
        return _refused(request, _("The payment window cannot answer this page: it sent no http(s) "
                                   "origin. Open the shop over http(s), or use m_redirect_url."),
                        status=400)
    try:
        payment = open_window(
            merchant_code=post.get("imp_code", ""), tier_code=post.get("tier") or None, params=params,
            user_agent=request.headers.get("User-Agent", ""),
        )
    except PaymentError as error:
        return _open_refused(request, post, params, error)
    # The amount asked was read by the service already: it is valid here.
    asked = billing_window.read_issuance_amount(params.get("amount")) if billing_key else 0
    with _language(payment):
        context = _window_context(payment, window.window_token(payment),
                                  _sign_origin(payment.imp_uid, origin) if origin else "", asked_amount=asked)
        return _window_page(request, context)


def _language(payment):
    """request_pay's ``language`` (ko, en) is the window's, whatever the browser speaks."""
    return translation.override(payment.language) if payment.language else contextlib.nullcontext()


@answers_unstorable_input(_action_unstorable)
@csrf_exempt
@xframe_options_exempt
def window_action(request, imp_uid):
    """A button of the window: approve, fail, close, issue a virtual account or a billing key."""
    if request.method != "POST":
        return _csp(HttpResponseNotAllowed(["POST"]))
    try:
        post = request.POST
    except (RequestDataTooBig, TooManyFieldsSent):
        return _refused(request, _("The payment request is too large."), status=400)
    unstorable = unstorable_field(post)  # the body: this door's own
    if unstorable:
        return _action_unstorable(request, unstorable_message(unstorable))
    token = post.get("token", "")
    try:
        payment = window.payment_get_for_window(imp_uid, token)
    except PaymentError as error:
        return _refused(request, error.message, status=SDK_PAGE_STATUSES[error.code])
    with _language(payment):
        return _window_action(request, post, payment, imp_uid, token)


def _window_action(request, post, payment, imp_uid: str, token: str):
    signed_origin = post.get("origin", "")
    origin = _unsign_origin(imp_uid, signed_origin) if signed_origin else ""
    if signed_origin and not origin:
        return _refused(request, _("This payment window is not valid. Start the payment again."),
                        status=403)
    action = post.get("action", "")
    try:
        if action == "approve":
            payment = window.window_approve(imp_uid=imp_uid, token=token)
        elif action == "fail":
            payment = window.window_fail(imp_uid=imp_uid, token=token,
                                         error_code=post.get("error_code", ""))
        elif action == "close":
            payment = window.window_close(imp_uid=imp_uid, token=token)
        elif action == "vbank":
            payment = window.window_issue_vbank(imp_uid=imp_uid, token=token, bank=post.get("bank", ""))
        elif action == "issue":
            # No login in the window: the replacement of a key is recorded with the address.
            payment = billing_window.window_issue(actor=Actor(ip=client_ip(request)), imp_uid=imp_uid,
                                                  token=token, test_card=post.get("test_card", ""))
        else:
            raise PaymentError(Refusal.INVALID, _("Choose one of the window's buttons."))
    except PaymentError as error:
        payment.refresh_from_db()
        if payment.is_open:
            # Still open (e.g. no bank chosen): the same window, with the reason.
            context = _window_context(payment, token, signed_origin, error=error.message)
            return _window_page(request, context, status=400)
        # Decided already (another tab): the shop gets the payment as it stands.
        return _finish(request, payment, origin, error=error.message, status=409)
    return _finish(request, payment, origin)


def _finish(request, payment, origin: str, *, error: str = "", status: int = 200):
    rsp = annotation.window_result(payment)
    if payment.m_redirect_url and http_origin(_origin_part(payment.m_redirect_url)):
        back = _redirect_back(payment.m_redirect_url, rsp)
        if not error:
            return HttpResponseRedirect(back)
        return _refused(request, error, status=status, back_url=back)
    response = render(request, "payments/window_done.html", {
        "rsp": rsp, "message": _message(origin, rsp), "error": error,
    }, status=status)
    return _csp(response)
