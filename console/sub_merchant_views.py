"""Sub-merchants page: the agency's sub-merchants (tiers), added and edited by its owner and admin."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from . import services
from .access import merchant_view
from .audit import Actor
from .forms import SubMerchantForm
from .roles import Perm
from .selectors import sub_merchant_of, sub_merchants_of


def _list_url(access) -> str:
    return reverse("console:sub_merchants", kwargs={"merchant_code": access.merchant.code})


def _list_page(request, access, *, form=None, status=200):
    can_manage = access.can(Perm.MANAGE_ACCOUNTS) and not access.merchant.is_sub_merchant
    return render(request, "console/sub_merchants.html", {
        "access": access, "nav": "sub_merchants",
        "sub_merchants": sub_merchants_of(access=access),
        "can_manage": can_manage,
        "form": form or SubMerchantForm(initial={"webhook_same_as_agency": True}),
    }, status=status)


@merchant_view(Perm.VIEW_ACCOUNTS)
def sub_merchants(request, access):
    if request.method != "POST":
        return _list_page(request, access)
    if not access.can(Perm.MANAGE_ACCOUNTS):
        raise PermissionDenied
    form = SubMerchantForm(request.POST)
    if access.merchant.is_sub_merchant:
        form.add_error(None, _("A sub-merchant cannot have sub-merchants of its own."))
    elif form.is_valid():
        try:
            sub = services.sub_merchant_create(actor=Actor.from_request(request), agency=access.merchant,
                                               **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Sub-merchant %(name)s (tier code %(tier)s) added. "
                                        "Its test channels are ready.")
                             % {"name": sub.name, "tier": sub.tier_code})
            return HttpResponseRedirect(_list_url(access))
    return _list_page(request, access, form=form, status=400)


@merchant_view(Perm.VIEW_ACCOUNTS)
def sub_merchant_edit(request, access, tier_code):
    sub = sub_merchant_of(access=access, tier_code=tier_code)
    can_manage = access.can(Perm.MANAGE_ACCOUNTS)
    form = SubMerchantForm.for_merchant(sub)
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = SubMerchantForm(request.POST, initial=form.initial)
        if form.is_valid():
            try:
                sub = services.merchant_update(actor=Actor.from_request(request), merchant=sub,
                                               **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Sub-merchant %(name)s saved.") % {"name": sub.name}
                                 if form.has_changed() else _("Nothing changed."))
                return HttpResponseRedirect(_list_url(access))
        status = 400
    if not can_manage:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "console/sub_merchant_edit.html", {
        "access": access, "nav": "sub_merchants", "sub": sub, "form": form, "can_manage": can_manage,
    }, status=status)
