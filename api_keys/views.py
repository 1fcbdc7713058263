"""IDs & API keys page: the merchant code, and REST API keys whose secrets are shown once.

Create API key and Reissue secret answer their POST with a redirect (post/redirect/get):
the new secret waits in the session, encrypted, and the next GET of the page takes it out
and shows it. A reload shows it no more and creates or rotates nothing.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from api_keys.services.api_keys import NAME_MAX_LENGTH as API_KEY_NAME_MAX_LENGTH
from api_keys.services.api_keys import api_key_create, api_key_reissue, api_key_revoke
from console.tenancy import shown_once
from console.tenancy.access import merchant_action, merchant_view
from console.tenancy.audit import Actor
from console.tenancy.roles import Perm
from console.tenancy.stale import StaleEdit, stale_message

from .selectors import api_key_of
from .services.whitelist import (
    CIDR_MAX_LENGTH,
    MAX_RULES,
    MEMO_MAX_LENGTH,
    whitelist_save,
    whitelist_version,
)

# The secret just issued, until the page that shows it is loaded once.
SHOWN_SECRET = "console.api_keys.shown_secret"


def _keep_shown(request, access, issued) -> HttpResponseRedirect:
    """Keep the new secret for the next GET of the page, and redirect there."""
    shown_once.keep(request, SHOWN_SECRET, {
        "merchant": access.merchant.code, "key_id": issued.api_key.pk, "secret": issued.secret})
    return HttpResponseRedirect(reverse("console:api_keys", kwargs={"merchant_code": access.merchant.code}))


def _take_shown(request, access, keys) -> dict | None:
    """The secret kept for this page, taken out of the session: shown once, never again."""
    data = shown_once.take(request, SHOWN_SECRET)
    if not data or data.get("merchant") != access.merchant.code:
        return None
    api_key = next((key for key in keys if key.pk == data.get("key_id")), None)
    return {"api_key": api_key, "secret": data["secret"]} if api_key else None


def _page(request, access, *, errors=None, status=200):
    merchant = access.merchant
    keys = [] if merchant.is_sub_merchant else list(merchant.api_keys.all())
    shown = _take_shown(request, access, keys) if request.method == "GET" else None
    response = render(request, "console/api_keys.html", {
        "access": access, "nav": "api_keys", "keys": keys, "now": timezone.now(), "shown": shown,
        "can_manage": access.can(Perm.MANAGE_API_KEYS) and not merchant.is_sub_merchant,
        "errors": errors or {}, "form": request.POST if errors else {},
        "name_max_length": API_KEY_NAME_MAX_LENGTH,
        "form_errors": (errors or {}).get("__all__", []),
    }, status=status)
    if shown:
        response["Cache-Control"] = "no-store"  # the secret must not stay in any cache
    return response


@merchant_view(Perm.VIEW_INTEGRATION, post_perm=Perm.MANAGE_API_KEYS)
def api_keys(request, access):
    if request.method != "POST":
        return _page(request, access)
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
            return _keep_shown(request, access, issued)
    return _page(request, access, errors=errors, status=400)


@merchant_action(Perm.MANAGE_API_KEYS, load=api_key_of)
def api_key_reissue_view(request, access, api_key, key_id):
    try:
        issued = api_key_reissue(actor=Actor.from_request(request), api_key=api_key)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("console:api_keys", kwargs={"merchant_code": access.merchant.code}))
    return _keep_shown(request, access, issued)


@merchant_action(Perm.MANAGE_API_KEYS, load=api_key_of)
def api_key_revoke_view(request, access, api_key, key_id):
    api_key_revoke(actor=Actor.from_request(request), api_key=api_key)
    messages.success(request, _("Key revoked: %(name)s. Its tokens stopped working.") % {"name": api_key.name})
    return HttpResponseRedirect(reverse("console:api_keys", kwargs={"merchant_code": access.merchant.code}))


# --- Whitelist page (the original's "Other settings"): rules edited and saved together ---

EMPTY_ROWS = 1


def _whitelist_stale_text(exc: StaleEdit) -> str:
    """What another tab changed in the whitelist, in words."""
    texts = []
    for change in exc.changes:
        if change.field == "enabled":
            texts.append(_("it is now on") if change.value else _("it is now off"))
        elif change.value:
            rules = ", ".join(f"{cidr} ({memo})" if memo else cidr for cidr, memo in change.value)
            texts.append(_("the rules are now: %(rules)s") % {"rules": rules})
        else:
            texts.append(_("it has no rule now"))
    return stale_message(_("Someone changed the whitelist while you were editing: %(changes)s."), texts)


@merchant_view(Perm.VIEW_INTEGRATION)
def whitelist(request, access):
    merchant = access.merchant
    can_edit = access.can(Perm.EDIT_INTEGRATION) and not merchant.is_sub_merchant
    errors, status, stale = {}, 200, None
    version = request.POST.get("edit_version", "")
    if request.method == "POST" and can_edit:
        rows = list(zip(request.POST.getlist("cidr"), request.POST.getlist("memo"), strict=False))
        enabled = request.POST.get("enabled") == "on"
        try:
            result = whitelist_save(actor=Actor.from_request(request), merchant=merchant, enabled=enabled,
                                    rows=rows, confirm_empty=request.POST.get("confirm_empty") == "on",
                                    confirm_everyone=request.POST.get("confirm_everyone") == "on",
                                    expected_version=version or None)
        except StaleEdit as exc:
            # Refused: another tab saved since this page was loaded. Say what it changed, show what
            # is stored now where this operator changed nothing, keep what they typed elsewhere.
            stale, status, version = exc, 409, exc.version
            errors = {"__all__": [_whitelist_stale_text(exc)]}
        except ValidationError as exc:
            errors, status = exc.message_dict, 400
        else:
            messages.success(request, _("Whitelist saved."))
            for warning in [*result.warnings, *result.hints]:
                messages.warning(request, warning)
            return HttpResponseRedirect(reverse("console:whitelist", kwargs={"merchant_code": merchant.code}))
    elif request.method == "POST":
        raise PermissionDenied
    if status in (400, 409):
        # The rules as typed, with their errors (keyed by the row's place in the POST); rows
        # left empty are dropped, so that showing errors never piles up empty rows.
        posted = zip(request.POST.getlist("cidr"), request.POST.getlist("memo"), strict=False)
        rows = [(i, c, m) for i, (c, m) in enumerate(posted) if (c or "").strip() or (m or "").strip()]
        enabled = request.POST.get("enabled") == "on"
        if stale is not None:
            if "rules" in stale.refresh:
                rows = [(None, c, m) for c, m in stale.refresh["rules"]]
            enabled = stale.refresh.get("enabled", enabled)
        else:
            messages.error(request, _("Nothing was saved: fix what is marked below, then save again."))
    else:
        rows = [(i, c, m) for i, (c, m) in enumerate(merchant.whitelist_rules.values_list("cidr", "memo"))]
        enabled = merchant.whitelist_enabled
        version = whitelist_version(merchant) if can_edit else ""
    if can_edit and len(rows) < MAX_RULES:
        rows += [(None, "", "")] * EMPTY_ROWS
    table = [
        {"number": n + 1, "cidr": cidr, "memo": memo,
         "cidr_errors": errors.get(f"cidr-{i}", []), "memo_errors": errors.get(f"memo-{i}", [])}
        for n, (i, cidr, memo) in enumerate(rows)
    ]
    return render(request, "console/whitelist.html", {
        "access": access, "nav": "whitelist", "rows": table, "enabled": enabled, "can_edit": can_edit,
        "form_errors": errors.get("__all__", []), "enabled_errors": errors.get("enabled", []),
        "everyone_errors": errors.get("everyone", []),
        "max_rules": MAX_RULES, "edit_version": version, **_whitelist_limits(),
    }, status=status)


@merchant_view(Perm.EDIT_INTEGRATION)
def whitelist_row(request, access):
    """One more empty rule row ("Add rule"), swapped in by htmx."""
    return render(request, "console/_whitelist_row.html", {"row": {"cidr": "", "memo": ""}, "can_edit": True,
                                                           **_whitelist_limits()})


def _whitelist_limits() -> dict:
    return {"cidr_max_length": CIDR_MAX_LENGTH, "memo_max_length": MEMO_MAX_LENGTH}
