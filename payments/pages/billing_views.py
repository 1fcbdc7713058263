"""The Billing keys page (빌링키) of a merchant or sub-merchant: the merchant's keys, deleted
ones too, searched by ``customer_uid`` and paged; one key's page with every field, its payments
and its schedules; **Delete** after a confirmation that says how many schedules are still to run
(they fail at their time). The Schedules page is ``schedule_views``.

Who sees and who acts as on the Payments page: everyone who sees the integration settings
sees (``Perm.VIEW_INTEGRATION``), ``Perm.MANAGE_PAYMENTS`` deletes. The write is the REST
API's service (``billing_keys.billing_key_delete``), which writes the audit row; reads go
through ``billing_selectors``, scoped to ``access.merchant``. Keys are addressed by id: a
``customer_uid`` is the merchant's own text (it may hold a ``/``), and names a new key after a
delete.
"""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET

from console.tenancy.access import merchant_view
from console.tenancy.audit import Actor
from payments.domain import billing_keys
from payments.domain.errors import PaymentError
from payments.models import BillingKey, IssuedThrough
from payments.pages.activity_views import ACT_PERM, VIEW_PERM  # the Payments page's permissions
from payments.pages.billing_forms import BillingKeyDeleteForm, BillingKeySearchForm
from payments.selectors import billing as billing_selectors

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
