from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .access import merchant_view
from .roles import Perm
from .selectors import audit_events_page, members_of, operator_merchants, sub_merchants_of


@login_required
def home(request):
    """Send the operator to their first merchant, or explain that they have none."""
    entries = operator_merchants(operator=request.user)
    if entries:
        return redirect("console:overview", merchant_code=entries[0].merchant.code)
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
    page = audit_events_page(access=access, page=request.GET.get("page"))
    return render(
        request, "console/audit_log.html", {"access": access, "page_obj": page, "nav": "audit"}
    )
