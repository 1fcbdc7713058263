"""IDs & API keys page: the merchant code, and REST API keys whose secrets are shown once."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .access import merchant_view
from .api_keys import api_key_create, api_key_reissue, api_key_revoke
from .audit import Actor
from .models import ApiKey
from .roles import Perm


def _page(request, access, *, shown=None, errors=None, status=200):
    merchant = access.merchant
    keys = [] if merchant.is_sub_merchant else list(merchant.api_keys.all())
    response = render(request, "console/api_keys.html", {
        "access": access, "nav": "api_keys", "keys": keys, "now": timezone.now(), "shown": shown,
        "can_manage": access.can(Perm.MANAGE_API_KEYS) and not merchant.is_sub_merchant,
        "errors": errors or {}, "form": request.POST if errors else {},
        "form_errors": (errors or {}).get("__all__", []),
    }, status=status)
    if shown:
        response["Cache-Control"] = "no-store"  # the secret must not stay in any cache
    return response


@merchant_view(Perm.VIEW_INTEGRATION)
def api_keys(request, access):
    if request.method != "POST":
        return _page(request, access)
    if not access.can(Perm.MANAGE_API_KEYS):
        raise PermissionDenied
    expires_at, errors = None, {}
    raw_expiry = (request.POST.get("expires_on") or "").strip()
    if raw_expiry:
        try:
            day = datetime.date.fromisoformat(raw_expiry)
            expires_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))
        except ValueError:
            errors["expires_at"] = [_("Enter the expiry as a date, e.g. 2027-12-31.")]
    if not errors:
        try:
            issued = api_key_create(actor=Actor.from_request(request), merchant=access.merchant,
                                    name=request.POST.get("name", ""), expires_at=expires_at)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        else:
            return _page(request, access, shown=issued)
    return _page(request, access, errors=errors, status=400)


def _key(access, key_id) -> ApiKey:
    api_key = access.merchant.api_keys.filter(pk=key_id).first()
    if api_key is None:
        raise Http404
    return api_key


@merchant_view(Perm.MANAGE_API_KEYS)
def api_key_reissue_view(request, access, key_id):
    api_key = _key(access, key_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        issued = api_key_reissue(actor=Actor.from_request(request), api_key=api_key)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("console:api_keys", kwargs={"merchant_code": access.merchant.code}))
    return _page(request, access, shown=issued)


@merchant_view(Perm.MANAGE_API_KEYS)
def api_key_revoke_view(request, access, key_id):
    api_key = _key(access, key_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    api_key_revoke(actor=Actor.from_request(request), api_key=api_key)
    messages.success(request, _("Key revoked: %(name)s. Its tokens stopped working.") % {"name": api_key.name})
    return HttpResponseRedirect(reverse("console:api_keys", kwargs={"merchant_code": access.merchant.code}))
