"""The Channels page (채널 관리) and its card actions. Thin: forms collect, services decide.

Card actions look the channel up before checking the method, so another
merchant's channel is a 404 whatever the method.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from console.tenancy.access import merchant_action, merchant_view
from console.tenancy.audit import Actor
from console.tenancy.roles import Perm
from console.tenancy.stale import FIELD as STALE_FIELD

from . import catalog, selectors, services
from .forms import ChannelForm, ChannelStartForm, SuccessorForm

# The words on every card, translated once per page instead of once per card.
CARD_WORDS = {
    "no_name": gettext_lazy("(no name)"), "enabled": gettext_lazy("Enabled"),
    "disabled": gettext_lazy("Disabled"), "default": gettext_lazy("Default"),
    "tax_type": gettext_lazy("Tax type"), "payment_methods": gettext_lazy("Payment methods"),
    "sub_merchant": gettext_lazy("Sub-merchant"), "owner": gettext_lazy("Owner"),
    "assigned_by": gettext_lazy("Assigned by"), "copy": gettext_lazy("Copy"),
    "channel_key": gettext_lazy("Channel key"), "edit": gettext_lazy("Edit information"),
    "disable": gettext_lazy("Disable"), "enable": gettext_lazy("Enable"),
    "make_default": gettext_lazy("Make default"), "assign_to": gettext_lazy("Assign to a sub-merchant"),
    "not_assigned": gettext_lazy("Not assigned"), "assign": gettext_lazy("Assign"),
    "delete": gettext_lazy("Delete"), "test_integration": gettext_lazy("Test integration"),
    "guide": gettext_lazy("Guide"), "shared_test_mid": gettext_lazy("Shared test MID"),
    "no_shared_yet": gettext_lazy(
        "No shared test MID yet: platform staff have not entered one for this PG."),
    "no_test_channel": gettext_lazy("No test channel."),
    "try_payment": gettext_lazy("Try a test payment"),
}


def _list_url(access, channel=None) -> str:
    url = reverse("channels:list", kwargs={"merchant_code": access.merchant.code})
    return f"{url}#{channel.channel_key}" if channel is not None else url


@merchant_view(Perm.VIEW_INTEGRATION)
def channel_list(request, access):
    data = selectors.channels_page(
        access=access, page=request.GET.get("page"), provider=request.GET.get("provider"),
        q=request.GET.get("q"),
    )
    return render(request, "channels/list.html", {
        "access": access, "nav": "channels", "data": data, "t": {key: str(word) for key, word in CARD_WORDS.items()},
        "base_url": reverse("channels:list", kwargs={"merchant_code": access.merchant.code}),
        "can_edit": access.can(Perm.EDIT_INTEGRATION),
        "filter_provider": request.GET.get("provider", ""), "q": request.GET.get("q", ""),
    })


@merchant_view(Perm.EDIT_INTEGRATION)
def channel_new(request, access):
    """Add channel: mode, PG, module, then that PG's own form. The steps update in place (htmx)."""
    source = request.POST if request.method == "POST" else request.GET
    start = ChannelStartForm(source)
    mode, provider, module = start.selection()
    form = None
    status = 200
    if provider and module:
        form = ChannelForm(request.POST or None, provider=provider, module=module, mode=mode)
        if request.method == "POST" and form.is_valid():
            try:
                channel = services.channel_create(
                    actor=Actor.from_request(request), merchant=access.merchant, data=form.to_input()
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Channel added: %(pg)s") % {"pg": channel.pg_string})
                return HttpResponseRedirect(_list_url(access, channel))
        if request.method == "POST":
            status = 400
    elif request.method == "POST":
        status = 400
    template = "channels/_new_steps.html" if request.htmx and request.method == "GET" else "channels/new.html"
    return render(request, template, {
        "access": access, "nav": "channels", "start": start, "form": form,
        "mode": mode, "provider": provider, "module": module,
    }, status=status)


@merchant_view(Perm.EDIT_INTEGRATION)
def channel_edit(request, access, channel_key):
    """Edit information: the stored secrets are shown masked and kept when left blank. A save
    from a form older than the channel (another tab saved since) is refused, saying what
    changed: ``console.tenancy.stale``."""
    channel = selectors.channel_get_for_edit(access=access, channel_key=channel_key)
    provider = catalog.get(channel.provider)
    if channel.is_shared_test or provider is None:
        status = 409 if request.method == "POST" else 200
        return render(request, "channels/shared_readonly.html",
                      {"access": access, "nav": "channels", "channel": channel}, status=status)
    stored = services.channel_credentials(channel)
    initial = {"pg_provider": channel.pg_provider, "name": channel.name, "mid": channel.mid,
               "tax_type": channel.tax_type, "payment_methods": channel.payment_methods,
               STALE_FIELD: services.channel_version(channel, stored)}
    form = ChannelForm(request.POST or None, initial=initial, provider=provider,
                       module=channel.module, mode=channel.mode, stored=stored)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.channel_update(actor=Actor.from_request(request), channel=channel,
                                        data=form.to_input(), expected_version=form.expected_version)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Channel saved."))
                return HttpResponseRedirect(_list_url(access, channel))
        status = 409 if form.stale else 400
    del stored  # the page renders masks, never the values
    return render(request, "channels/edit.html", {
        "access": access, "nav": "channels", "form": form, "channel": channel, "provider": provider,
    }, status=status)


@merchant_action(Perm.EDIT_INTEGRATION, load=selectors.channel_get)
def channel_set_enabled(request, access, channel, channel_key):
    enabled = request.POST.get("enabled") == "1"
    try:
        services.channel_set_enabled(actor=Actor.from_request(request), channel=channel, enabled=enabled)
    except ValidationError:  # it became the default since the page was drawn: ask
        return HttpResponseRedirect(reverse("channels:disable", kwargs={
            "merchant_code": access.merchant.code, "channel_key": channel.channel_key}))
    messages.success(request, _("Channel enabled.") if enabled else _("Channel disabled."))
    return HttpResponseRedirect(_list_url(access, channel))


def _successor_form(request, channel):
    """For the default channel, the question which channel becomes the default (or none)."""
    if not channel.is_default:
        return None
    return SuccessorForm(request.POST if request.method == "POST" else None,
                         candidates=selectors.default_candidates(channel))


def _act_with_successor(request, form, act, channel) -> bool:
    """Run ``act`` (disable or delete) with the operator's choice of default; False when the
    form or the service refused, the errors then on the form."""
    if form is not None and not form.is_valid():
        return False
    try:
        act(actor=Actor.from_request(request), channel=channel,
            successor=form.successor_channel() if form is not None else services.UNSET)
    except ValidationError as exc:
        if form is None:  # it became the default since the page was drawn: ask, with the choice
            raise _Reask from exc
        form.add_error("successor", exc.message_dict.get("successor", exc.messages)
                       if hasattr(exc, "error_dict") else exc.messages)
        return False
    return True


class _Reask(Exception):
    pass


def _default_news(channel, form) -> str:
    if form is None:
        return ""
    new = form.successor_channel()
    if new is None:
        return " " + _("This merchant has no default channel now.")
    return " " + _("The default channel is now: %(pg)s") % {"pg": f"{new.pg_string} ({new.module_label})"}


@merchant_view(Perm.EDIT_INTEGRATION)
def channel_disable(request, access, channel_key):
    """Disable, asking first when it is the default (GET asks; POST disables)."""
    channel = selectors.channel_get(access=access, channel_key=channel_key)
    if not channel.enabled:
        return HttpResponseRedirect(_list_url(access, channel))
    form = _successor_form(request, channel)
    if request.method == "POST":
        try:
            done = _act_with_successor(
                request, form, lambda **kw: services.channel_set_enabled(enabled=False, **kw), channel)
        except _Reask:
            return HttpResponseRedirect(request.path)
        if done:
            messages.success(request, _("Channel disabled.") + _default_news(channel, form))
            return HttpResponseRedirect(_list_url(access, channel))
    return render(request, "channels/disable_confirm.html",
                  {"access": access, "nav": "channels", "channel": channel, "form": form},
                  status=400 if request.method == "POST" else 200)


@merchant_action(Perm.EDIT_INTEGRATION, load=selectors.channel_get)
def channel_make_default(request, access, channel, channel_key):
    try:
        services.channel_make_default(actor=Actor.from_request(request), channel=channel)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(pg)s is now the default channel.") % {"pg": channel.pg_string})
    return HttpResponseRedirect(_list_url(access, channel))


@merchant_action(Perm.EDIT_INTEGRATION, load=selectors.channel_get)
def channel_assign(request, access, channel, channel_key):
    code = (request.POST.get("assigned_to") or "").strip()
    sub = access.merchant.sub_merchants.filter(code=code).first() if code else None
    if code and sub is None:
        messages.error(request, _("Choose one of this merchant's sub-merchants."))
        return HttpResponseRedirect(_list_url(access, channel))
    try:
        services.channel_assign(actor=Actor.from_request(request), channel=channel, sub_merchant=sub)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if sub:
            messages.success(request, _("Assigned to %(sub)s.") % {"sub": sub})
        else:
            messages.success(request, _("The channel is no longer assigned to a sub-merchant."))
    return HttpResponseRedirect(_list_url(access, channel))


@merchant_view(Perm.EDIT_INTEGRATION)
def channel_delete(request, access, channel_key):
    """GET asks for confirmation (and, for the default, which channel takes over); POST deletes."""
    channel = selectors.channel_get(access=access, channel_key=channel_key)
    form = _successor_form(request, channel)
    if request.method == "POST":
        try:
            done = _act_with_successor(request, form, services.channel_delete, channel)
        except _Reask:
            return HttpResponseRedirect(request.path)
        if done:
            messages.success(request, _("Channel deleted: %(pg)s") % {"pg": channel.pg_string}
                             + _default_news(channel, form))
            return HttpResponseRedirect(_list_url(access))
    return render(request, "channels/delete_confirm.html",
                  {"access": access, "nav": "channels", "channel": channel, "form": form},
                  status=400 if request.method == "POST" else 200)
