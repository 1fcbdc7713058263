"""The Sub-merchants page: the agency's tiers, searched and paged, added, edited (profile and
payment channels) and deleted by its owner and admin. Thin views: the form collects;
``accounts.services`` and ``channels.services`` decide.

A sub-merchant is addressed by its id, never its tier code (which can change under an open tab).
Kept apart from ``views.py`` (the Accounts page and logging in) so neither grows past a
readable size; it becomes ``views/sub_merchants.py`` if ``views`` turns into a package.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from channels.selectors import channels_assignable
from console.models import Merchant
from console.tenancy.access import merchant_view
from console.tenancy.audit import Actor
from console.tenancy.roles import Perm
from console.tenancy.stale import FIELD as STALE_FIELD

from . import services
from .forms import SubMerchantForm
from .selectors import (
    sub_merchant_deletion_of,
    sub_merchant_deletion_preview,
    sub_merchant_of,
    sub_merchants_page,
)
from .services.merchants import SubMerchantGone

MANAGE = Perm.MANAGE_SUB_MERCHANTS  # add, edit, delete: the agency's owner and admin


def _list_url(access) -> str:
    return reverse("console:sub_merchants", kwargs={"merchant_code": access.merchant.code})


def _can_manage(access) -> bool:
    return access.can(MANAGE) and not access.merchant.is_sub_merchant


def _list_page(request, access, *, form=None, status=200):
    can_manage = _can_manage(access)
    q = request.GET.get("q", "")
    page_obj, rows = sub_merchants_page(access=access, q=q, page=request.GET.get("page"))
    if form is None and can_manage:
        form = SubMerchantForm(initial={"webhook_same_as_agency": True},
                               channels=channels_assignable(access=access))
    return render(request, "console/sub_merchants.html", {
        "access": access, "nav": "sub_merchants", "page_obj": page_obj, "rows": rows,
        "q": q.strip(), "can_manage": can_manage, "form": form,
    }, status=status)


@merchant_view(Perm.VIEW_ACCOUNTS, post_perm=MANAGE)
def sub_merchants(request, access):
    if request.method != "POST":
        return _list_page(request, access)
    form = SubMerchantForm(request.POST, channels=channels_assignable(access=access))
    if access.merchant.is_sub_merchant:
        form.add_error(None, _("A sub-merchant cannot have sub-merchants of its own."))
    elif form.is_valid():
        try:
            sub = services.sub_merchant_create(actor=Actor.from_request(request), agency=access.merchant,
                                               **form.service_values())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Sub-merchant %(name)s (tier code %(tier)s) added. "
                                        "Its test channels are ready.")
                             % {"name": sub.name, "tier": sub.tier_code})
            return HttpResponseRedirect(_list_url(access))
    return _list_page(request, access, form=form, status=400)


def _gone_page(request, access, sub_merchant_id: int):
    """A sub-merchant this agency deleted (an old tab, a second click): say so, as a 404.
    Anything else (never there, another agency's) is the plain 404."""
    event = sub_merchant_deletion_of(access=access, sub_merchant_id=sub_merchant_id)
    if event is None:
        raise Http404
    return render(request, "console/sub_merchant_gone.html", {
        "access": access, "nav": "sub_merchants", "event": event,
        "name": (event.changes.get("name") or {}).get("old", ""),
        "tier_code": (event.changes.get("tier_code") or {}).get("old", ""),
    }, status=404)


def _sub_merchant(access, sub_merchant_id: int):
    try:
        return sub_merchant_of(access=access, sub_merchant_id=sub_merchant_id)
    except Http404:
        return None


@merchant_view(Perm.VIEW_ACCOUNTS)
def sub_merchant_edit(request, access, sub_merchant_id):
    sub = _sub_merchant(access, sub_merchant_id)
    if sub is None:
        return _gone_page(request, access, sub_merchant_id)
    can_manage = _can_manage(access)
    channels = channels_assignable(access=access, sub_merchant=sub)
    form = SubMerchantForm.for_merchant(sub, channels=channels)
    form.initial[STALE_FIELD] = services.sub_merchant_version(sub)
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = SubMerchantForm(request.POST, initial=form.initial, channels=channels)
        if form.is_valid():
            try:
                sub = services.sub_merchant_update(actor=Actor.from_request(request), sub_merchant=sub,
                                                   expected_version=form.expected_version,
                                                   **form.service_values())
            except Merchant.DoesNotExist:  # deleted while the form was open
                return _gone_page(request, access, sub_merchant_id)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Sub-merchant %(name)s saved.") % {"name": sub.name}
                                 if form.has_changed() else _("Nothing changed."))
                return HttpResponseRedirect(_list_url(access))
        status = 409 if form.stale else 400
    if not can_manage:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "console/sub_merchant_edit.html", {
        "access": access, "nav": "sub_merchants", "sub": sub, "form": form, "can_manage": can_manage,
    }, status=status)


@merchant_view(MANAGE)
def sub_merchant_delete(request, access, sub_merchant_id):
    """GET: what deleting it does, and a button; POST: delete it."""
    sub = _sub_merchant(access, sub_merchant_id)
    if sub is None:
        return _gone_page(request, access, sub_merchant_id)
    if request.method == "POST":
        try:
            done = services.sub_merchant_delete(actor=Actor.from_request(request), sub_merchant=sub)
        except SubMerchantGone:  # another request deleted it first
            return _gone_page(request, access, sub_merchant_id)
        messages.success(request, _(
            "Sub-merchant %(name)s deleted. Channels back with this agency: %(channels)d. Members "
            "who lost access: %(members)d. Invitations revoked: %(invitations)d. The tier code "
            "%(tier)s is free again."
        ) % {"name": done.name, "tier": done.tier_code, "channels": done.channels_returned,
             "members": done.members_removed, "invitations": done.invitations_revoked})
        return HttpResponseRedirect(_list_url(access))
    return render(request, "console/sub_merchant_delete.html", {
        "access": access, "nav": "sub_merchants", "sub": sub,
        "deletion": sub_merchant_deletion_preview(access=access, sub=sub),
    })
