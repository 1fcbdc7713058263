"""The Payments page (결제 내역) of a merchant or sub-merchant: its sandbox payments, filtered and
paged, a CSV of what the filters show, one payment's detail with its cancellations and the
webhooks it caused, and the console's Cancel and Deposit buttons.

Everyone who sees the integration settings sees the payments (``Perm.VIEW_INTEGRATION``);
``Perm.MANAGE_PAYMENTS`` cancels and deposits. Reads go through
``payments.selectors``, which scope everything to ``access.merchant``.
"""

import csv
from datetime import datetime

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET

from channels.models import Mode
from console.tenancy.access import merchant_action, merchant_view
from console.tenancy.audit import Actor
from console.tenancy.roles import Perm
from payments.domain import cancels, lifecycle, refunds
from payments.domain.errors import PaymentError
from payments.models import (
    CustomerUidUsage,
    Payment,
    PayMethod,
    Status,
    card_quota_label,
    card_type_label,
)
from payments.pages.activity_forms import CancelForm, PaymentFilterForm
from payments.selectors import billing as billing_selectors
from payments.selectors import payments as selectors
from payments.selectors.billing import ScheduleView
from webhooks.selectors import deliveries_for_payment

VIEW_PERM = Perm.VIEW_INTEGRATION
ACT_PERM = Perm.MANAGE_PAYMENTS


def won(amount: int) -> str:
    return _("%(amount)s won") % {"amount": f"{amount:,}"}


def _filter_form(request, access) -> PaymentFilterForm:
    channels = selectors.payment_channel_choices(access=access)
    return PaymentFilterForm(request.GET or None, channels=channels)


@merchant_view(VIEW_PERM)
@require_GET
def payment_list(request, access):
    form = _filter_form(request, access)
    status, page = 200, None
    if form.is_bound and not form.is_valid():
        status = 400  # a bad filter (a reversed date range) lists nothing, not everything
    else:
        page = selectors.payments_page(access=access, filters=form.filters(),
                                       after=request.GET.get("after"), before=request.GET.get("before"))
    filters = form.filters() if status == 200 else None
    return render(request, "payments/activity.html", {
        "access": access, "nav": "payments", "form": form, "page": page,
        "filtered": bool(filters and filters.active) or bool(form.errors),
        "csv_max_rows": selectors.CSV_MAX_ROWS,
        "export_query": _without_paging(request.GET),
    }, status=status)


@merchant_view(VIEW_PERM)
@require_GET
def payment_totals(request, access):
    """The totals of what the list's filters show, asked by the Payments page once it is drawn
    (htmx): the sum reads every filtered row, so the list does not wait for it."""
    form = _filter_form(request, access)
    if form.is_bound and not form.is_valid():
        return render(request, "payments/_totals_failed.html", status=400)
    filters = form.filters()
    return render(request, "payments/_totals.html", {
        "totals": selectors.payment_totals(access=access, filters=filters), "filtered": bool(filters.active)})


def _without_paging(query) -> str:
    """The list's query string for the CSV link: the filters, not the page."""
    query = query.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return "?" + query.urlencode() if query else ""


# --- CSV ------------------------------------------------------------------------------

CSV_COLUMNS = (
    "imp_uid", "merchant_uid", "status", "pay_method", "name", "amount", "cancel_amount", "currency",
    "channel_key", "pg_provider", "pg_id", "pg_tid", "mode", "buyer_name", "buyer_email", "buyer_tel",
    "started_at", "paid_at", "failed_at", "cancelled_at", "fail_reason", "cancel_reason",
    "vbank_name", "vbank_num", "vbank_date",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write returns what it was given: csv.writer makes one line."""

    def write(self, value):
        return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, int):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(payments, *, limit: int):
    """The header, then one line per payment; past ``limit`` rows, one line that says the file
    was cut. A byte-order mark first, so Excel reads the Korean as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    for n, payment in enumerate(payments):
        if n == limit:
            yield writer.writerow([_cell(_("Cut at %(limit)s rows: narrow the filters (the dates) "
                                           "for the rest.") % {"limit": f"{limit:,}"})])
            return
        yield writer.writerow([_cell(getattr(payment, column)) for column in CSV_COLUMNS])


@merchant_view(VIEW_PERM)
@require_GET
def payment_export(request, access):
    form = _filter_form(request, access)
    if form.is_bound and not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return HttpResponse(" ".join(errors), status=400, content_type="text/plain; charset=utf-8")
    limit = selectors.CSV_MAX_ROWS
    rows = selectors.payments_for_export(access=access, filters=form.filters(), limit=limit)
    response = StreamingHttpResponse(csv_lines(rows, limit=limit), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="payments-{access.merchant.code}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --- one payment ----------------------------------------------------------------------


def _when(value) -> str:
    return date_format(timezone.localtime(value), "Y-m-d H:i:s") if value else ""


def _label(name: str) -> str:
    label = str(Payment._meta.get_field(name).verbose_name)
    return label if "_" in label else capfirst(label)  # "imp_uid" is a name, not a word


def _sections(payment: Payment) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every field of the payment, grouped as the page shows them: (heading, [(label, text)]).
    Empty values are left out."""
    def rows(pairs):
        return [(_label(name), text) for name, text in pairs if text not in ("", None)]

    channel = payment.channel
    sections = [
        (_("Payment"), rows([
            ("imp_uid", payment.imp_uid), ("merchant_uid", payment.merchant_uid),
            ("name", payment.name), ("status", payment.get_status_display()),
            ("amount", won(payment.amount)),
            ("cancel_amount", won(payment.cancel_amount) if payment.cancel_amount else ""),
            ("currency", payment.currency), ("pay_method", payment.get_pay_method_display()),
            ("channel", str(channel) if channel else ""), ("channel_key", payment.channel_key),
            ("pg_provider", payment.pg_provider), ("pg_id", payment.pg_id), ("pg_tid", payment.pg_tid),
            ("mode", Mode(payment.mode).label if payment.mode in Mode.values else payment.mode),
            ("channel_type", payment.channel_type),
        ])),
        (_("Times"), rows([
            ("started_at", _when(payment.started_at)), ("paid_at", _when(payment.paid_at)),
            ("failed_at", _when(payment.failed_at)), ("cancelled_at", _when(payment.cancelled_at)),
            ("updated_at", _when(payment.updated_at)),
        ])),
        (_("Buyer"), rows([
            ("buyer_name", payment.buyer_name), ("buyer_email", payment.buyer_email),
            ("buyer_tel", payment.buyer_tel), ("buyer_addr", payment.buyer_addr),
            ("buyer_postcode", payment.buyer_postcode),
        ])),
    ]
    if payment.pay_method == PayMethod.CARD:
        sections.append((PayMethod.CARD.label, rows([
            ("apply_num", payment.apply_num), ("card_name", payment.card_name),
            ("card_code", payment.card_code), ("card_number", payment.card_number),
            ("card_quota", card_quota_label(payment.card_quota) if payment.apply_num else ""),
            ("card_type", card_type_label(payment.card_type)),
        ])))
    if payment.pay_method == PayMethod.VBANK:
        sections.append((PayMethod.VBANK.label, rows([
            ("vbank_name", payment.vbank_name), ("vbank_code", payment.vbank_code),
            ("vbank_num", payment.vbank_num), ("vbank_holder", payment.vbank_holder),
            ("vbank_date", _when(payment.vbank_date)), ("vbank_issued_at", _when(payment.vbank_issued_at)),
        ])))
    sections.append((_("More"), rows([
        ("error_code", payment.error_code), ("fail_reason", payment.fail_reason),
        ("cancel_reason", payment.cancel_reason), ("custom_data", payment.custom_data),
        ("notice_urls", ", ".join(payment.notice_urls or [])), ("m_redirect_url", payment.m_redirect_url),
        ("tax_free", f"{payment.tax_free:,}" if payment.tax_free else ""),
        ("vat_amount", "" if payment.vat_amount is None else f"{payment.vat_amount:,}"),
        ("escrow", "true" if payment.escrow else ""), ("confirm_url", payment.confirm_url),
        ("language", payment.language), ("user_agent", payment.user_agent),
    ])))
    return [(heading, fields) for heading, fields in sections if fields]


@merchant_view(VIEW_PERM)
def payment_detail(request, access, imp_uid):
    payment = selectors.payment_get(access=access, imp_uid=imp_uid)  # 404 first, whatever the method
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    can_act = access.can(ACT_PERM)
    waits = payment.waits_for_deposit
    scheduled = (billing_selectors.schedule_of_payment(payment=payment)
                 if payment.customer_uid_usage == CustomerUidUsage.SCHEDULED else None)
    return render(request, "payments/detail.html", {
        "access": access, "nav": "payments", "payment": payment, "sections": _sections(payment),
        "amount_text": won(payment.amount), "remaining_text": won(payment.remaining),
        "cancellations": [(c, won(c.amount)) for c in payment.cancellations.all()],
        "deliveries": deliveries_for_payment(merchant=access.merchant, imp_uid=payment.imp_uid),
        "can_cancel": can_act and (payment.status == Status.PAID or waits),
        "can_cancel_part": payment.status == Status.PAID,
        "needs_refund_account": refunds.needs_refund_account(payment),
        "cancelled_text": won(payment.cancel_amount),
        "can_deposit": can_act and waits,
        "cancel_form": CancelForm(), "remaining": payment.remaining,
        "usage_label": CustomerUidUsage(payment.customer_uid_usage).label
        if payment.customer_uid_usage in CustomerUidUsage.values else payment.customer_uid_usage,
        "scheduled": scheduled,
        "schedule_query": "?" + urlencode({
            "view": ScheduleView.FAILED if payment.status == Status.FAILED else ScheduleView.DONE,
            "q": payment.merchant_uid}),
    })


@sensitive_post_parameters("refund_account")
@merchant_action(ACT_PERM, load=selectors.payment_get)
def payment_cancel(request, access, payment, imp_uid):
    form = CancelForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        messages.error(request, " ".join(errors))
    else:
        amount = form.cleaned_data["amount"]
        try:
            data = form.cleaned_data
            cancellation = cancels.payment_cancel(
                actor=Actor.from_request(request), payment=payment, amount=amount, reason=data["reason"],
                refund_holder=data["refund_holder"], refund_bank=data["refund_bank"],
                refund_account=data["refund_account"])
        except PaymentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Cancelled %(amount)s. The webhook says so.")
                             % {"amount": won(cancellation.amount)})
    return redirect("payment_activity:detail", merchant_code=access.merchant.code, imp_uid=payment.imp_uid)


@merchant_action(ACT_PERM, load=selectors.payment_get)
def payment_deposit(request, access, payment, imp_uid):
    try:
        lifecycle.vbank_deposit(actor=Actor.from_request(request), payment=payment)
    except PaymentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Deposit received: the payment is paid. The webhook says so."))
    return redirect("payment_activity:detail", merchant_code=access.merchant.code, imp_uid=payment.imp_uid)
