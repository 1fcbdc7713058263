"""The Webhooks page (웹훅 관리), Send test with live results, and the delivery log."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from console.tenancy.access import merchant_action, merchant_view
from console.tenancy.audit import Actor
from console.tenancy.inputs import ascii_int
from console.tenancy.roles import Perm
from console.tenancy.stale import FIELD as STALE_FIELD

from . import selectors, services
from .forms import EndpointForm, RecoverForm
from .models import Delivery, Mode


def _page_url(access) -> str:
    return reverse("webhooks:settings", kwargs={"merchant_code": access.merchant.code})


def _render_page(request, access, forms=None, status=200):
    data = selectors.endpoints_page(access=access)
    forms = forms or {}
    for view in data["endpoints"]:
        if view.mode not in forms:
            e = view.endpoint
            initial = ({"url": e.url, "content_type": e.content_type, "version": e.version, "enabled": e.enabled}
                       if e else {"enabled": True})
            initial[STALE_FIELD] = services.endpoint_version(e)
            forms[view.mode] = EndpointForm(initial=initial, prefix=view.mode)
        view.form = forms[view.mode]
    return render(request, "webhooks/settings.html", {
        "access": access, "nav": "webhooks", "data": data, "can_edit": access.can(Perm.EDIT_WEBHOOK),
        "retry_schedule": settings.WEBHOOK_RETRY_SCHEDULE,
        "recover_since": timezone.localtime() - timedelta(days=1),
    }, status=status)


@merchant_view(Perm.VIEW_INTEGRATION)
def webhook_settings(request, access):
    return _render_page(request, access)


@merchant_action(Perm.EDIT_WEBHOOK)
def endpoint_save(request, access, mode):
    form = EndpointForm(request.POST, prefix=mode)
    if form.is_valid():
        try:
            services.endpoint_save(actor=Actor.from_request(request), merchant=access.merchant, mode=mode,
                                   expected_version=form.expected_version, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Webhook settings saved (%(mode)s).") % {"mode": Mode(mode).label})
            return HttpResponseRedirect(_page_url(access) + f"#endpoint-{mode}")
    return _render_page(request, access, forms={mode: form}, status=409 if form.stale else 400)


@merchant_action(Perm.EDIT_WEBHOOK)
def send_test(request, access, mode):
    try:
        delivery, enqueued = services.delivery_send_test(
            actor=Actor.from_request(request), merchant=access.merchant, mode=mode)
    except ValidationError as exc:
        if request.htmx:
            return render(request, "webhooks/_send_error.html", {"message": " ".join(exc.messages)}, status=400)
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(_page_url(access))
    if request.htmx:
        return _result_response(request, access, delivery, attempt=None, broker_down=not enqueued)
    if not enqueued:
        messages.warning(request, _("The worker queue cannot be reached right now. The test is saved and "
                                    "will be sent as soon as the queue is back."))
    return HttpResponseRedirect(reverse("webhooks:delivery", kwargs={
        "merchant_code": access.merchant.code, "message_id": delivery.message_id}))


@never_cache
@merchant_view(Perm.VIEW_INTEGRATION)
def delivery_result(request, access, message_id):
    """The live result of a send, polled by htmx until it is final."""
    delivery = selectors.delivery_get(access=access, message_id=message_id, with_attempts=True)
    attempts = list(delivery.attempts.all())
    return _result_response(request, access, delivery, attempt=attempts[-1] if attempts else None,
                            broker_down=False)


def _result_response(request, access, delivery, *, attempt, broker_down):
    """The result box of a send, and "Recent deliveries" swapped in beside it (htmx out of band),
    so the table shows the new delivery and its status without a reload."""
    return render(request, "webhooks/_delivery_result.html", {
        "access": access, "delivery": delivery, "attempt": attempt, "broker_down": broker_down,
        "recent": selectors.recent_deliveries(access=access), "recent_oob": True,
    })


@merchant_action(Perm.EDIT_WEBHOOK)
def own_webhook(request, access):
    try:
        services.sub_merchant_set_own_webhook(actor=Actor.from_request(request), merchant=access.merchant,
                                              use_own=request.POST.get("use_own") == "1")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(_page_url(access))


@never_cache
@merchant_action(Perm.EDIT_WEBHOOK, load=selectors.secret_get)
def secret_reveal(request, access, found, mode, secret_id):
    endpoint, _secret = found
    try:
        value = services.secret_reveal(actor=Actor.from_request(request), endpoint=endpoint,
                                       secret_id=secret_id)
    except ValidationError as exc:
        return render(request, "webhooks/_send_error.html", {"message": " ".join(exc.messages)}, status=400)
    response = render(request, "webhooks/_secret_revealed.html", {"value": value})
    response["Cache-Control"] = "no-store"
    return response


@merchant_action(Perm.EDIT_WEBHOOK, load=selectors.endpoint_get)
def secret_rotate(request, access, endpoint, mode):
    services.secret_rotate(actor=Actor.from_request(request), endpoint=endpoint)
    messages.success(request, _("A new signing secret is active. The previous one keeps signing until it expires."))
    return HttpResponseRedirect(_page_url(access) + f"#endpoint-{mode}")


@merchant_action(Perm.EDIT_WEBHOOK, load=selectors.secret_get)
def secret_expire(request, access, found, mode, secret_id):
    endpoint, _secret = found
    try:
        services.secret_expire(actor=Actor.from_request(request), endpoint=endpoint, secret_id=secret_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The old secret no longer signs."))
    return HttpResponseRedirect(_page_url(access) + f"#endpoint-{mode}")


@merchant_view(Perm.VIEW_INTEGRATION)
def delivery_log(request, access):
    page = selectors.deliveries_page(access=access, page=request.GET.get("page"),
                                     status=request.GET.get("status"), trigger=request.GET.get("trigger"),
                                     mode=request.GET.get("mode"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "webhooks/deliveries.html", {
        "access": access, "nav": "webhooks", "page_obj": page, "filters": request.GET,
        "query": query.urlencode(), "statuses": Delivery.Status.choices,
        "triggers": Delivery.Trigger.choices, "modes": Mode.choices,
    })


@merchant_view(Perm.VIEW_INTEGRATION)
def delivery_detail(request, access, message_id):
    delivery = selectors.delivery_get(access=access, message_id=message_id, with_attempts=True)
    return render(request, "webhooks/delivery.html", {
        "access": access, "nav": "webhooks", "delivery": delivery, "attempts": list(delivery.attempts.all()),
        "can_edit": access.can(Perm.EDIT_WEBHOOK),
    })


@merchant_action(Perm.EDIT_WEBHOOK, load=selectors.delivery_get)
def delivery_resend(request, access, delivery, message_id):
    seen = ascii_int(request.POST.get("attempts") or "", max_digits=5)
    try:
        done = services.delivery_resend(actor=Actor.from_request(request), delivery=delivery, seen_attempts=seen)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        delivery = done.delivery
        if done.outcome is services.ResendOutcome.ATTEMPTED:
            messages.info(request, _("Attempt %(n)s was made after this page was shown, so nothing more was "
                                     "sent: see its result below.") % {"n": delivery.attempt_count})
        elif done.outcome is services.ResendOutcome.ALREADY_QUEUED:
            messages.info(request, _("This delivery is already queued: it goes out in a moment."))
        elif done.outcome is services.ResendOutcome.SENDING:
            messages.info(request, _("This delivery is being sent right now: its result appears below."))
        elif not done.enqueued:
            messages.warning(request, _("The worker queue cannot be reached right now. The resend is saved "
                                        "and will go out as soon as the queue is back."))
        elif delivery.to_notice_url:
            messages.success(request, _("Sent again with the same webhook-id, to the payment's notice_url."))
        else:
            messages.success(request, _("Sent again with the same webhook-id, to the endpoint's URL: "
                                        "%(url)s") % {"url": delivery.endpoint.url})
    return HttpResponseRedirect(reverse("webhooks:delivery", kwargs={
        "merchant_code": access.merchant.code, "message_id": delivery.message_id}))


@merchant_view(Perm.EDIT_WEBHOOK)
def recover(request, access, mode):
    """"Resend failed deliveries since …": GET counts them and asks, POST resends them."""
    endpoint = selectors.endpoint_get(access=access, mode=mode)
    if request.method == "POST" or "since" in request.GET:
        form = RecoverForm(request.POST if request.method == "POST" else request.GET)
    else:  # a day back, to start from
        form = RecoverForm(initial={"since": timezone.localtime() - timedelta(days=1)})
    count = None
    if form.is_bound and form.is_valid():
        since = form.cleaned_data["since"]
        try:
            services.recover_check(endpoint=endpoint)
            if request.method == "POST":
                done = services.deliveries_recover(actor=Actor.from_request(request), endpoint=endpoint,
                                                   since=since)
                _recover_messages(request, done, since)
                return HttpResponseRedirect(
                    reverse("webhooks:deliveries", kwargs={"merchant_code": access.merchant.code})
                    + f"?mode={mode}")
            count = selectors.recoverable_deliveries(endpoint=endpoint, since=since).count()
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(request, "webhooks/recover.html", {
        "access": access, "nav": "webhooks", "endpoint": endpoint, "form": form, "count": count,
        "limit": services.RECOVER_MAX,
    }, status=400 if form.is_bound and form.errors else 200)


def _recover_messages(request, done, since) -> None:
    when = date_format(timezone.localtime(since), "Y-m-d H:i")
    if not done.count:
        messages.info(request, _("No failed delivery since %(when)s is left to resend.") % {"when": when})
        return
    messages.success(request, ngettext(
        "%(count)s failed delivery since %(when)s is being sent again.",
        "%(count)s failed deliveries since %(when)s are being sent again.", done.count,
    ) % {"count": done.count, "when": when})
    if done.left:
        messages.warning(request, ngettext(
            "%(count)s more failed delivery since then was not included (at most %(max)s at a time): "
            "resend again once these are done.",
            "%(count)s more failed deliveries since then were not included (at most %(max)s at a time): "
            "resend again once these are done.", done.left,
        ) % {"count": done.left, "max": services.RECOVER_MAX})
    if not done.enqueued:
        messages.warning(request, _("The worker queue cannot be reached right now. The resends are saved "
                                    "and will go out as soon as the queue is back."))
