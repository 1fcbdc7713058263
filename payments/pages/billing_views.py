"""The Billing keys page (빌링키) and the Schedules page (예약 결제) of a merchant or sub-merchant.

Billing keys: the merchant's keys, deleted ones too, searched by ``customer_uid`` and paged;
one key's page with every field, its payments and its schedules; **Delete** after a
confirmation that says how many schedules are still to run (they fail at their time). Schedules:
the merchant's scheduled payments in four tabs (due, done, failed, cancelled); **Cancel** one
still to run, after a confirmation.

Who sees and who acts as on the Payments page: everyone who sees the integration settings
sees (``Perm.VIEW_INTEGRATION``), ``Perm.MANAGE_PAYMENTS`` deletes and cancels. The writes
are the REST API's services (``billing_keys.billing_key_delete``, ``schedules.schedules_revoke``),
which write the audit rows; reads go through ``billing_selectors``, scoped to
``access.merchant``. Keys and schedules are addressed by id: a ``customer_uid`` or
``merchant_uid`` is the merchant's own text (it may hold a ``/``), and a ``customer_uid`` names
a new key after a delete.
"""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET

from console.tenancy.access import merchant_view
from console.tenancy.audit import Actor
from payments.domain import billing_keys, schedules
from payments.domain.errors import PaymentError
from payments.models import BillingKey, IssuedThrough, Schedule, ScheduleStatus
from payments.pages.activity_views import (
    ACT_PERM,
    VIEW_PERM,
    won,  # the Payments page's permissions
)
from payments.pages.billing_forms import (
    BillingKeyDeleteForm,
    BillingKeySearchForm,
    ScheduleSearchForm,
)
from payments.selectors import billing as billing_selectors
from payments.selectors.billing import ScheduleView

CARD_TYPES = {0: gettext_lazy("Credit card"), 1: gettext_lazy("Check card")}  # PortOne's card_type


def _when(value) -> str:
    return date_format(timezone.localtime(value), "Y-m-d H:i:s") if value else ""


def _label(model, name: str) -> str:
    label = str(model._meta.get_field(name).verbose_name)
    return label if "_" in label else capfirst(label)  # "customer_uid" is a name, not a word


# --- billing keys ---------------------------------------------------------------------


@merchant_view(VIEW_PERM)
@require_GET
def billing_key_list(request, access):
    form = BillingKeySearchForm(request.GET or None)
    q = form.query() if form.is_bound else ""
    page = billing_selectors.billing_keys_page(access=access, q=q, after=request.GET.get("after"),
                                               before=request.GET.get("before"))
    return render(request, "payments/billing_keys.html", {
        "access": access, "nav": "billing_keys", "form": form, "q": q, "page": page,
        "can_act": access.can(ACT_PERM),
    }, status=400 if form.is_bound and form.errors else 200)


def _key_sections(key: BillingKey) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every field of the key, grouped as the page shows them; empty values are left out."""
    def rows(pairs):
        return [(_label(BillingKey, name), text) for name, text in pairs if text not in ("", None)]

    channel = key.channel
    sections = [
        (_("Billing key"), rows([
            ("customer_uid", key.customer_uid), ("customer_id", key.customer_id),
            ("issued_through", key.get_issued_through_display()), ("created_at", _when(key.created_at)),
            ("updated_at", _when(key.updated_at)), ("deleted_at", _when(key.deleted_at)),
            ("delete_reason", key.delete_reason),
        ])),
        (_("Card"), rows([
            ("card_number", key.card_number), ("card_name", key.card_name), ("card_code", key.card_code),
            ("card_type", CARD_TYPES.get(key.card_type, "") if key.card_type is not None else ""),
        ])),
        (_("Channel"), rows([
            ("channel", str(channel) if channel else _("Deleted")),
            ("pg_provider", key.pg_provider), ("pg_id", key.pg_id),
        ])),
        (_("Customer"), rows([
            ("customer_name", key.customer_name), ("customer_tel", key.customer_tel),
            ("customer_email", key.customer_email), ("customer_addr", key.customer_addr),
            ("customer_postcode", key.customer_postcode),
        ])),
    ]
    return [(heading, fields) for heading, fields in sections if fields]


def _shown(name: str, value):
    return CARD_TYPES.get(value, value) if name == "card_type" else value


def _replacement_rows(events) -> list[dict]:
    """Each replacement as the key's page shows it: when, through which door (the window's
    imp_uid), from which address and by whom, and what it changed (old, new)."""
    through = dict(IssuedThrough.choices)
    rows = []
    for event in events:
        changes = event.changes
        door = changes.get("issued_through", {}).get("new", "")
        rows.append({
            "when": _when(event.created_at), "through": through.get(door, door),
            "imp_uid": changes.get("imp_uid", {}).get("new", ""),
            "ip": event.ip_address or "", "actor": event.actor_email,
            "changes": [(_label(BillingKey, name), _shown(name, value.get("old")), _shown(name, value.get("new")))
                        for name, value in changes.items()
                        if name in billing_keys.REPLACED_FIELDS and name != "issued_through"
                        and value.get("old") != value.get("new")],
        })
    return rows


@merchant_view(VIEW_PERM)
def billing_key_detail(request, access, billing_key_id):
    key = billing_selectors.billing_key_for_console(access=access, pk=billing_key_id)  # 404 first
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    history = billing_selectors.billing_key_history(key=key)
    return render(request, "payments/billing_key_detail.html", {
        "access": access, "nav": "billing_keys", "key": key, "sections": _key_sections(key),
        "history": history, "detail_rows": billing_selectors.DETAIL_ROWS,
        "replacements": _replacement_rows(history.replacements),
        "schedule_rows": [(schedule, key.pk) for schedule in history.schedules], "can_act": access.can(ACT_PERM),
        "wide_status": any(s.payment is not None and s.payment.fail_reason for s in history.schedules),
        "here": request.get_full_path(),
    })


def _key_url(access, key) -> str:
    return reverse("billing_keys:detail", kwargs={"merchant_code": access.merchant.code, "billing_key_id": key.pk})


@merchant_view(ACT_PERM)
def billing_key_delete(request, access, billing_key_id):
    """GET: what deleting the key does (its schedules still to run fail at their time) and a
    button; POST: delete it, then back to its page, which shows it deleted."""
    key = billing_selectors.billing_key_for_console(access=access, pk=billing_key_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    form = BillingKeyDeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and key.is_deleted:
        # Never call the service then: it deletes the *live* key of this customer_uid, which
        # may be a new one issued since.
        messages.info(request, _("This billing key was deleted already."))
        return redirect(_key_url(access, key))
    if request.method == "POST" and form.is_valid():
        try:
            billing_keys.billing_key_delete(actor=Actor.from_request(request), merchant=access.merchant,
                                       customer_uid=key.customer_uid, reason=form.cleaned_data["reason"],
                                       billing_key_id=key.pk)
        except PaymentError as exc:
            messages.error(request, exc.message)
            return redirect(_key_url(access, key))
        pending = billing_selectors.pending_schedule_counts(
            merchant_id=access.merchant.pk, customer_uids=[key.customer_uid]).get(key.customer_uid, 0)
        if pending:
            messages.warning(request, ngettext(
                "Billing key %(uid)s deleted. Its %(count)d schedule still to run will fail at its time, "
                "unless a key is issued again under this customer_uid.",
                "Billing key %(uid)s deleted. Its %(count)d schedules still to run will fail at their time, "
                "unless a key is issued again under this customer_uid.", pending,
            ) % {"uid": key.customer_uid, "count": pending})
        else:
            messages.success(request, _("Billing key %(uid)s deleted.") % {"uid": key.customer_uid})
        return redirect(_key_url(access, key))
    pending = 0 if key.is_deleted else billing_selectors.pending_schedule_counts(
        merchant_id=access.merchant.pk, customer_uids=[key.customer_uid]).get(key.customer_uid, 0)
    return render(request, "payments/billing_key_delete.html", {
        "access": access, "nav": "billing_keys", "key": key, "form": form, "pending": pending,
    }, status=400 if form.errors else 200)


# --- schedules ------------------------------------------------------------------------

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
