from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Operator


class OperatorLoginForm(AuthenticationForm):
    """Email + password. The error never says whether the account exists."""

    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("The email address or password is incorrect."),
        "inactive": _("The email address or password is incorrect."),
    }


class LoginView(auth_views.LoginView):
    form_class = OperatorLoginForm
    redirect_authenticated_user = True


# --- Accounts page: members, invitations, the two-factor policy ------------------
# Thin views: forms collect, services in console.services / console.invitations decide.

from dataclasses import dataclass  # noqa: E402

from django.contrib import messages  # noqa: E402
from django.contrib.auth import login as auth_login  # noqa: E402
from django.core.exceptions import PermissionDenied, ValidationError  # noqa: E402
from django.http import HttpResponseNotAllowed, HttpResponseRedirect  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.translation import gettext  # noqa: E402
from django.views.decorators.cache import never_cache  # noqa: E402

from . import invitations, services  # noqa: E402
from .access import merchant_view  # noqa: E402
from .audit import Actor  # noqa: E402
from .forms import InvitationAcceptForm, InviteForm, MemberRoleForm, TwoFactorPolicyForm  # noqa: E402
from .net import client_ip  # noqa: E402
from .roles import Perm, Role  # noqa: E402
from .selectors import (  # noqa: E402
    invitation_of,
    members_of,
    membership_of,
    open_invitations_of,
)


@dataclass(frozen=True)
class MemberLine:
    """A row of the members table, with what the viewer may do to it."""

    membership: object
    inherited: bool
    two_factor: bool
    manageable: bool
    role_choices: list


def _origin(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _accounts_url(access) -> str:
    return reverse("console:accounts", kwargs={"merchant_code": access.merchant.code})


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _accounts_page(request, access, *, invite_form=None, status=200):
    can_manage = access.can(Perm.MANAGE_ACCOUNTS)
    roles = services.assignable_roles(actor_role=access.role, merchant=access.merchant)
    rows = []
    for row in members_of(access=access):
        membership = row.membership
        choices = [(r.value, r.label) for r in roles]
        if membership.role not in roles:
            choices.append((membership.role, membership.get_role_display()))
        rows.append(MemberLine(
            membership=membership, inherited=row.inherited, two_factor=row.two_factor,
            role_choices=choices,
            manageable=can_manage and not row.inherited and services.may_manage_member(
                actor_role=access.role, actor=request.user, membership=membership),
        ))
    context = {
        "access": access, "nav": "accounts", "members": rows, "can_manage": can_manage,
        "invitations": list(open_invitations_of(access=access)),
        "invite_form": invite_form or InviteForm(roles=roles),
        "roles": roles, "max_developers": services.MAX_DEVELOPERS,
        "policy_form": TwoFactorPolicyForm(initial={
            "require_two_factor": access.merchant.require_two_factor}),
    }
    return render(request, "console/accounts.html", context, status=status)


@merchant_view(Perm.VIEW_ACCOUNTS)
def accounts(request, access):
    if request.method != "POST":
        return _accounts_page(request, access)
    if not access.can(Perm.MANAGE_ACCOUNTS):
        raise PermissionDenied
    roles = services.assignable_roles(actor_role=access.role, merchant=access.merchant)
    form = InviteForm(request.POST, roles=roles)
    if form.is_valid():
        try:
            invitation = invitations.invitation_create(
                actor=Actor.from_request(request), merchant=access.merchant,
                email=form.cleaned_data["email"], role=form.cleaned_data["role"],
                actor_role=access.role, origin=_origin(request),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, gettext(
                "Invitation sent to %(email)s. The link works once, for %(days)d days."
            ) % {"email": invitation.email, "days": invitations.lifetime().days})
            return HttpResponseRedirect(_accounts_url(access))
    return _accounts_page(request, access, invite_form=form, status=400)


def _post_only(view):
    def wrapped(request, access, *args, **kwargs):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, access, *args, **kwargs)
    return wrapped


def _perform(request, access, change, success: str, *, then: str | None = None):
    """Run a service call for an Accounts action: on refusal, the page again with the reason
    (400); otherwise the success message and back to the page (or ``then``)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        change()
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return _accounts_page(request, access, status=400)
    messages.success(request, success)
    return HttpResponseRedirect(then or _accounts_url(access))


@merchant_view(Perm.MANAGE_ACCOUNTS)
def member_role(request, access, member_id):
    membership = membership_of(access=access, membership_id=member_id)
    form = MemberRoleForm(request.POST or None, roles=list(Role))  # the service decides who may give what

    def change():
        if not form.is_valid():
            raise ValidationError(gettext("Choose a role from the list."))
        services.membership_set_role(actor=Actor.from_request(request), membership=membership,
                                     role=form.cleaned_data["role"], actor_role=access.role)

    role = Role(request.POST["role"]).label if request.POST.get("role") in Role.values else ""
    return _perform(request, access, change, gettext(
        "%(email)s is now %(role)s. It takes effect at their next click."
    ) % {"email": membership.operator.email, "role": role})


@merchant_view(Perm.MANAGE_ACCOUNTS)
def member_remove(request, access, member_id):
    membership = membership_of(access=access, membership_id=member_id)
    leaving = membership.operator_id == request.user.pk
    return _perform(
        request, access,
        lambda: services.membership_delete(actor=Actor.from_request(request), membership=membership,
                                           actor_role=access.role),
        gettext("You left %(merchant)s.") % {"merchant": access.merchant.name} if leaving else
        gettext("%(email)s was removed from %(merchant)s.")
        % {"email": membership.operator.email, "merchant": access.merchant.name},
        then=reverse("console:home") if leaving else None,
    )


@merchant_view(Perm.MANAGE_ACCOUNTS)
def invitation_resend(request, access, invitation_id):
    invitation = invitation_of(access=access, invitation_id=invitation_id)
    return _perform(
        request, access,
        lambda: invitations.invitation_resend(actor=Actor.from_request(request), invitation=invitation,
                                              origin=_origin(request)),
        gettext("Invitation sent again to %(email)s. Earlier links no longer work.")
        % {"email": invitation.email},
    )


@merchant_view(Perm.MANAGE_ACCOUNTS)
def invitation_revoke(request, access, invitation_id):
    invitation = invitation_of(access=access, invitation_id=invitation_id)
    return _perform(
        request, access,
        lambda: invitations.invitation_revoke(actor=Actor.from_request(request), invitation=invitation),
        gettext("Invitation to %(email)s withdrawn: its link no longer works.") % {"email": invitation.email},
    )


@merchant_view(Perm.MANAGE_ACCOUNTS)
@_post_only
def two_factor_policy(request, access):
    if access.merchant.is_sub_merchant:
        messages.error(request, gettext("The two-factor rule is set on the agency: it covers its "
                                        "owners and admins everywhere."))
        return _accounts_page(request, access, status=400)
    form = TwoFactorPolicyForm(request.POST)
    form.is_valid()  # a checkbox: always valid
    required = form.cleaned_data.get("require_two_factor", False)
    services.merchant_update(actor=Actor.from_request(request), merchant=access.merchant,
                             require_two_factor=required)
    messages.success(request, gettext(
        "Owners and admins must now use two-factor login: each is asked to set it up at their "
        "next login.") if required else gettext("Two-factor login is no longer required here."))
    return HttpResponseRedirect(_accounts_url(access))


# --- Accepting an invitation (no merchant in the URL: the link is the credential) --


@never_cache
def invitation_accept(request, token):
    try:
        invitation = invitations.invitation_from_token(token)
    except invitations.InvitationInvalid as exc:
        return render(request, "console/invitation_invalid.html", {"message": exc.message},
                      status=exc.status)
    user = request.user if request.user.is_authenticated else None
    existing = user is None and Operator.objects.filter(email__iexact=invitation.email).exists()
    context = {"invitation": invitation, "existing": existing, "token": token,
               "login_url": f"{reverse('login')}?next={request.path}"}
    if user is not None and user.email.lower() != invitation.email.lower():
        context["wrong_account"] = True
        return render(request, "console/invitation_accept.html", context, status=403)
    form = InvitationAcceptForm(request.POST or None) if user is None and not existing else None
    context["form"] = form
    if request.method != "POST" or existing:
        return render(request, "console/invitation_accept.html", context)
    if form is not None and not form.is_valid():
        return render(request, "console/invitation_accept.html", context, status=400)
    try:
        accepted = invitations.invitation_accept(
            invitation=invitation, operator=user,
            password=form.cleaned_data["password1"] if form else "",
            full_name=form.cleaned_data["full_name"] if form else "", ip=client_ip(request),
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
        if form is None:
            context["error"] = _error_text(exc)
        for field, field_messages in errors.items():
            field = "password1" if field == "password" else field
            for message in field_messages if form is not None else ():
                form.add_error(field if field in form.fields else None, message)
        return render(request, "console/invitation_accept.html", context, status=400)
    if accepted.created_account:
        auth_login(request, accepted.operator, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, gettext("Welcome to %(merchant)s. Your role: %(role)s.")
                     % {"merchant": invitation.merchant.name, "role": invitation.get_role_display()})
    return HttpResponseRedirect(reverse("console:overview",
                                        kwargs={"merchant_code": invitation.merchant.code}))
