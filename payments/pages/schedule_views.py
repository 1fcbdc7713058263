"""The Schedules page (예약 결제) of a merchant or sub-merchant: its scheduled payments in four
tabs (due, done, failed, cancelled), searched by ``merchant_uid`` or ``customer_uid`` and paged;
**Cancel** one still to run, after a confirmation.

Who sees and who acts as on the Payments page: everyone who sees the integration settings
sees (``Perm.VIEW_INTEGRATION``), ``Perm.MANAGE_PAYMENTS`` cancels. The write is the REST
API's service (``schedules.schedules_revoke``), which writes the audit rows; reads go through
``billing_selectors``, scoped to ``access.merchant``. Schedules are addressed by id: a
``merchant_uid`` is the merchant's own text (it may hold a ``/``).
"""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from console.tenancy.access import merchant_view
from console.tenancy.audit import Actor
from payments.domain import schedules
from payments.domain.errors import PaymentError
from payments.models import Schedule, ScheduleStatus
from payments.pages.activity_views import (  # the Payments page's permissions
    ACT_PERM,
    VIEW_PERM,
    won,
)
from payments.pages.schedule_forms import ScheduleSearchForm
from payments.selectors import billing as billing_selectors
from payments.selectors.billing import ScheduleView

TABS = (  # the Schedules page's tabs
    (ScheduleView.DUE, pgettext_lazy("schedules tab", "Due")),
    (ScheduleView.DONE, pgettext_lazy("schedules tab", "Done")),
    (ScheduleView.FAILED, pgettext_lazy("schedules tab", "Failed")),
    (ScheduleView.CANCELLED, pgettext_lazy("schedules tab", "Cancelled")),
)


@merchant_view(VIEW_PERM)
@require_GET
def schedule_list(request, access):
    form = ScheduleSearchForm(request.GET or None)
    view, q = form.values() if form.is_bound else (ScheduleView.DUE, "")
    page = billing_selectors.schedules_page(access=access, view=view, q=q, after=request.GET.get("after"),
                                            before=request.GET.get("before"))
    return render(request, "payments/schedules.html", {
        "access": access, "nav": "schedules", "form": form, "q": q, "view": view, "tabs": TABS,
        "page": page, "can_act": access.can(ACT_PERM), "here": request.get_full_path(),
        "wide_status": view == ScheduleView.FAILED,  # room for the failure reasons
    }, status=400 if form.is_bound and form.errors else 200)


def _back(request, access) -> str:
    """Where Cancel returns: the page it was pressed on (``next``, this site's only), else the
    Schedules page."""
    back = request.POST.get("next") or request.GET.get("next") or ""
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure()) and back.startswith("/"):
        return back
    return reverse("schedules:list", kwargs={"merchant_code": access.merchant.code})


@merchant_view(ACT_PERM)
def schedule_cancel(request, access, schedule_id):
    """GET: the schedule and a button (or why it cannot be cancelled); POST: cancel it."""
    schedule = billing_selectors.schedule_for_console(access=access, pk=schedule_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    back = _back(request, access)
    if request.method == "POST":
        if schedule.status != ScheduleStatus.SCHEDULED:
            messages.info(request, _("Schedule %(uid)s is no longer waiting to run: nothing to cancel.")
                          % {"uid": schedule.merchant_uid})
            return redirect(back)
        try:
            schedules.schedules_revoke(actor=Actor.from_request(request), merchant=access.merchant,
                                       merchant_uids=[schedule.merchant_uid])
        except PaymentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Schedule %(uid)s cancelled: it will not run.")
                             % {"uid": schedule.merchant_uid})
        return redirect(back)
    key_ids = billing_selectors.billing_key_ids(merchant_id=access.merchant.pk, customer_uids=[schedule.customer_uid])
    return render(request, "payments/schedule_cancel.html", {
        "access": access, "nav": "schedules", "schedule": schedule, "amount_text": won(schedule.amount),
        "key_id": key_ids.get(schedule.customer_uid), "back": back,
        "pending": schedule.status == ScheduleStatus.SCHEDULED,
        "status_label": _schedule_status(schedule),
    })


def _schedule_status(schedule: Schedule) -> str:
    if schedule.status == ScheduleStatus.EXECUTED and schedule.payment is not None:
        return schedule.payment.get_status_display()
    if schedule.status == ScheduleStatus.EXECUTED:
        return _("Failed")
    return schedule.get_status_display()
