"""The Webhooks page (웹훅 관리), Send test with live results, and the delivery log."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from console.tenancy.access import merchant_action, merchant_view
from console.tenancy.audit import Actor
from console.tenancy.roles import Perm
from console.tenancy.stale import FIELD as STALE_FIELD

from . import selectors, services
from .forms import EndpointForm
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
        return render(request, "webhooks/_delivery_result.html",
                      {"access": access, "delivery": delivery, "attempt": None, "broker_down": not enqueued})
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
    return render(request, "webhooks/_delivery_result.html", {
        "access": access, "delivery": delivery, "attempt": attempts[-1] if attempts else None,
        "broker_down": False,
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
    try:
        delivery, enqueued = services.delivery_resend(actor=Actor.from_request(request), delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if enqueued:
            messages.success(request, _("Sent again with the same webhook-id."))
        else:
            messages.warning(request, _("The worker queue cannot be reached right now. The resend is saved "
                                        "and will go out as soon as the queue is back."))
    return HttpResponseRedirect(reverse("webhooks:delivery", kwargs={
        "merchant_code": access.merchant.code, "message_id": delivery.message_id}))
