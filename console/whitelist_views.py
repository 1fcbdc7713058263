"""The Whitelist page (the original's "Other settings"): rules edited and saved together."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from .access import merchant_view
from .audit import Actor
from .roles import Perm
from .whitelist import MAX_RULES, whitelist_save

EMPTY_ROWS = 1


@merchant_view(Perm.VIEW_INTEGRATION)
def whitelist(request, access):
    merchant = access.merchant
    can_edit = access.can(Perm.EDIT_INTEGRATION) and not merchant.is_sub_merchant
    errors, status = {}, 200
    if request.method == "POST" and can_edit:
        rows = list(zip(request.POST.getlist("cidr"), request.POST.getlist("memo")))
        enabled = request.POST.get("enabled") == "on"
        try:
            result = whitelist_save(actor=Actor.from_request(request), merchant=merchant, enabled=enabled,
                                    rows=rows, confirm_empty=request.POST.get("confirm_empty") == "on")
        except ValidationError as exc:
            errors, status = exc.message_dict, 400
        else:
            messages.success(request, _("Whitelist saved."))
            for warning in result.warnings:
                messages.warning(request, warning)
            return HttpResponseRedirect(reverse("console:whitelist", kwargs={"merchant_code": merchant.code}))
    elif request.method == "POST":
        raise PermissionDenied
    if status == 400:
        rows = [(c, m) for c, m in zip(request.POST.getlist("cidr"), request.POST.getlist("memo"))]
        enabled = request.POST.get("enabled") == "on"
    else:
        rows = list(merchant.whitelist_rules.values_list("cidr", "memo"))
        enabled = merchant.whitelist_enabled
    if can_edit and len(rows) < MAX_RULES:
        rows += [("", "")] * EMPTY_ROWS
    table = [
        {"number": i + 1, "cidr": cidr, "memo": memo,
         "cidr_errors": errors.get(f"cidr-{i}", []), "memo_errors": errors.get(f"memo-{i}", [])}
        for i, (cidr, memo) in enumerate(rows)
    ]
    return render(request, "console/whitelist.html", {
        "access": access, "nav": "whitelist", "rows": table, "enabled": enabled, "can_edit": can_edit,
        "form_errors": errors.get("__all__", []), "enabled_errors": errors.get("enabled", []),
        "max_rules": MAX_RULES,
    }, status=status)


@merchant_view(Perm.EDIT_INTEGRATION)
def whitelist_row(request, access):
    """One more empty rule row ("Add rule"), swapped in by htmx."""
    return render(request, "console/_whitelist_row.html", {"row": {"cidr": "", "memo": ""}, "can_edit": True})
