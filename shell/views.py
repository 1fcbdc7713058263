from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from accounts.selectors import members_of, sub_merchants_of
from console.tenancy.access import merchant_view
from console.tenancy.roles import Perm
from console.tenancy.selectors import operator_merchants
from shell.forms import AuditFilterForm
from shell.selectors import (
    AuditFilters,
    audit_events_page,
    audit_filter_choices,
)


@login_required
def home(request):
    """Send the operator to their first merchant, or explain that they have none."""
    entries = operator_merchants(operator=request.user)
    if entries:
        return redirect("console:overview", merchant_code=entries[0].merchant.code)
    if request.user.is_staff:  # platform staff without a merchant work in the admin
        return redirect("admin:index")
    return render(request, "console/no_merchant.html")


@merchant_view(Perm.VIEW_OVERVIEW)
def overview(request, access):
    context = {
        "access": access,
        "sub_merchants": sub_merchants_of(access=access),
        "members": members_of(access=access) if access.can(Perm.VIEW_MEMBERS) else None,
        "nav": "overview",
    }
    return render(request, "console/overview.html", context)


@merchant_view(Perm.VIEW_AUDIT)
def audit_log(request, access):
    choices = audit_filter_choices(access=access)
    form = AuditFilterForm(request.GET or None, actors=choices["actors"], actions=choices["actions"])
    status, filters, page = 200, AuditFilters(), None
    if form.is_bound and not form.is_valid():
        status = 400  # a bad filter (e.g. a reversed date range) lists nothing, not everything
    else:
        if form.is_bound:
            filters = AuditFilters(**{k: v for k, v in form.cleaned_data.items() if v})
        page = audit_events_page(access=access, page=request.GET.get("page"), filters=filters)
    return render(request, "console/audit_log.html", {
        "access": access, "page_obj": page, "nav": "audit", "form": form, "filters": filters,
        "bookkeeping_count": choices["bookkeeping"],
    }, status=status)
