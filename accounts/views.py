"""Login, the Accounts page (members, invitations, the two-factor rule) and accepting an
invitation. Thin views: forms collect; ``console.services`` and ``console.invitations`` decide."""

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache

from accounts import services
from accounts.forms import (
    InvitationAcceptForm,
    InviteForm,
    MemberMemoForm,
    MemberRoleForm,
    OperatorLoginForm,
    ThrottledPasswordResetForm,
    TwoFactorPolicyForm,
)
from accounts.selectors import invitation_of, members_of, membership_of, open_invitations_of
from accounts.services import acceptance, invitations
from console.tenancy.access import merchant_action, merchant_view
from console.tenancy.audit import Actor
from console.tenancy.client_ip import client_ip
from console.tenancy.roles import Perm, Role, assignable_roles


class LoginView(auth_views.LoginView):
    form_class = OperatorLoginForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with mail limited per client address and per email (the form's ``save``)."""

    form_class = ThrottledPasswordResetForm


# --- Accounts page ----------------------------------------------------------------


def _origin(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _accounts_url(access) -> str:
    return reverse("console:accounts", kwargs={"merchant_code": access.merchant.code})


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _invite_form(access, data=None) -> InviteForm:
    return InviteForm(data, roles=assignable_roles(actor_role=access.role, merchant=access.merchant))


def _accounts_page(request, access, *, invite_form=None, status=200):
    invite_form = invite_form or _invite_form(access)
    context = {
        "access": access, "nav": "accounts", "can_manage": access.can(Perm.MANAGE_ACCOUNTS),
        "can_invite": access.can(Perm.INVITE_MEMBERS) and bool(invite_form.fields["role"].choices),
        "can_set_two_factor": access.can(Perm.MANAGE_TWO_FACTOR_RULE),
        "members": members_of(access=access, viewer=request.user),
        "invitations": list(open_invitations_of(access=access)),
        "invite_form": invite_form, "max_developers": services.MAX_DEVELOPERS,
        "memo_max": services.MEMO_MAX,
    }
    return render(request, "console/accounts.html", context, status=status)


@merchant_view(Perm.VIEW_ACCOUNTS, post_perm=Perm.INVITE_MEMBERS)
def accounts(request, access):
    if request.method != "POST":
        return _accounts_page(request, access)
    form = _invite_form(access, request.POST)
    if form.is_valid():
        try:
            invitation = invitations.invitation_create(
                actor=Actor.from_request(request), merchant=access.merchant,
                email=form.cleaned_data["email"], role=form.cleaned_data["role"],
                memo=form.cleaned_data["memo"], actor_role=access.role, origin=_origin(request),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if invitation.mail_queued is False:
                messages.warning(request, _mail_queued_text(invitation))
            else:
                messages.success(request, gettext(
                    "Invitation sent to %(email)s. The link works once, for %(days)d days."
                ) % {"email": invitation.email, "days": invitations.lifetime().days})
            return HttpResponseRedirect(_accounts_url(access))
    return _accounts_page(request, access, invite_form=form, status=400)


def _mail_queued_text(invitation) -> str:
    return gettext(
        "The invitation to %(email)s is saved, but the worker queue cannot be reached right "
        "now. The mail is queued and goes out as soon as the queue is back."
    ) % {"email": invitation.email}


def _perform(request, access, change, success, *, then: str | None = None):
    """A POST-only Accounts action: run the service call; on refusal, the page again with the
    reason (400); otherwise ``success`` (a message, or a function making it) and a redirect.
    The views are ``merchant_action``s: only a POST reaches here."""
    try:
        change()
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return _accounts_page(request, access, status=400)
    messages.success(request, success() if callable(success) else success)
    return HttpResponseRedirect(then or _accounts_url(access))


def _member(*, access, member_id):
    return membership_of(access=access, membership_id=member_id)


@merchant_action(Perm.MANAGE_ACCOUNTS, load=_member)
def member_role(request, access, membership, member_id):
    form = MemberRoleForm(request.POST or None)  # the service decides who may give what

    def change():
        if not form.is_valid():
            raise ValidationError(gettext("Choose a role from the list."))
        services.membership_set_role(actor=Actor.from_request(request), membership=membership,
                                     role=form.cleaned_data["role"], actor_role=access.role)

    return _perform(request, access, change, lambda: gettext(
        "%(email)s is now %(role)s. It takes effect at their next click."
    ) % {"email": membership.operator.email, "role": Role(form.cleaned_data["role"]).label})


@merchant_action(Perm.MANAGE_ACCOUNTS, load=_member)
def member_memo(request, access, membership, member_id):
    form = MemberMemoForm(request.POST or None)

    def change():
        form.is_valid()  # a text field: always valid; the service checks the memo
        services.membership_set_memo(actor=Actor.from_request(request), membership=membership,
                                     memo=form.cleaned_data.get("memo", ""), actor_role=access.role)

    return _perform(request, access, change,
                    gettext("Memo of %(email)s saved.") % {"email": membership.operator.email})


@merchant_action(Perm.MANAGE_ACCOUNTS, load=_member)
def member_remove(request, access, membership, member_id):
    leaving = membership.operator_id == request.user.pk
    return _perform(
        request, access,
        lambda: services.membership_delete(actor=Actor.from_request(request), membership=membership,
                                           actor_role=access.role),
        gettext("You left %(merchant)s.") % {"merchant": access.merchant.name} if leaving else
        gettext("%(email)s was removed from %(merchant)s.")
        % {"email": membership.operator.email, "merchant": access.merchant.name},
        then=reverse("home") if leaving else None,
    )


@merchant_action(Perm.MANAGE_ACCOUNTS, load=invitation_of)
def invitation_resend(request, access, invitation, invitation_id):
    done = {}

    def resend():
        done["invitation"] = invitations.invitation_resend(
            actor=Actor.from_request(request), invitation=invitation, origin=_origin(request))

    def message():
        if done["invitation"].mail_queued is False:
            return _mail_queued_text(invitation)
        return gettext("Invitation sent again to %(email)s. Earlier links no longer work.") % {
            "email": invitation.email}

    return _perform(request, access, resend, message)


@merchant_action(Perm.MANAGE_ACCOUNTS, load=invitation_of)
def invitation_revoke(request, access, invitation, invitation_id):
    return _perform(
        request, access,
        lambda: invitations.invitation_revoke(actor=Actor.from_request(request), invitation=invitation),
        gettext("Invitation to %(email)s withdrawn: its link no longer works.") % {"email": invitation.email},
    )


@merchant_action(Perm.MANAGE_TWO_FACTOR_RULE)
def two_factor_policy(request, access):
    form = TwoFactorPolicyForm(request.POST or None)
    required = form.is_valid() and form.cleaned_data["require_two_factor"]  # a checkbox
    return _perform(
        request, access,
        lambda: services.two_factor_rule_set(actor=Actor.from_request(request),
                                             merchant=access.merchant, required=required),
        gettext("Owners and admins must now use two-factor login: each is asked to set it up at "
                "their next login.") if required else
        gettext("Two-factor login is no longer required here."),
    )


# --- Accepting an invitation (no merchant in the URL: the link is the credential) --


def _accept_page(request, context, status=200):
    return render(request, "console/invitation_accept.html", context, status=status)


def _invalid_page(request, exc: acceptance.InvitationInvalid):
    return render(request, "console/invitation_invalid.html", {"message": exc.message},
                  status=exc.status)


@never_cache
def invitation_open(request, token):
    """The emailed link: hand the invitation to this browser's session and go on at a URL
    without the token (as Django's password reset does)."""
    try:
        acceptance.invitation_hand_off(request.session, token)
    except acceptance.InvitationInvalid as exc:
        return _invalid_page(request, exc)
    return HttpResponseRedirect(reverse("invitation_accept_step"))


@never_cache
def invitation_accept(request):
    """The invitation this session was handed: join, create the account, or log in first
    (the login page comes back here: the session keeps the invitation)."""
    try:
        invitation = acceptance.invitation_from_session(request.session)
    except acceptance.InvitationInvalid as exc:
        return _invalid_page(request, exc)
    user = request.user if request.user.is_authenticated else None
    step = acceptance.acceptance_step(invitation, user)
    form = InvitationAcceptForm(request.POST or None) if step == acceptance.CREATE_ACCOUNT else None
    context = {
        "invitation": invitation, "form": form,
        "existing": step == acceptance.LOG_IN, "wrong_account": step == acceptance.WRONG_ACCOUNT,
        "login_url": f"{reverse('login')}?{urlencode({'next': request.path})}",
    }
    if step == acceptance.WRONG_ACCOUNT:
        return _accept_page(request, context, status=403)
    if request.method != "POST" or step == acceptance.LOG_IN:
        return _accept_page(request, context)
    if form is not None and not form.is_valid():
        return _accept_page(request, context, status=400)
    try:
        accepted = acceptance.invitation_accept(
            invitation=invitation, operator=user,
            password=form.cleaned_data["password1"] if form else "",
            full_name=form.cleaned_data["full_name"] if form else "", ip=client_ip(request),
        )
    except ValidationError as exc:
        if form is None:
            context["error"] = _error_text(exc)
        else:
            form.add_service_errors(exc)
        return _accept_page(request, context, status=400)
    if accepted.created_account:
        auth_login(request, accepted.operator, backend="django.contrib.auth.backends.ModelBackend")
    acceptance.invitation_hand_off_end(request.session)
    messages.success(request, gettext("Welcome to %(merchant)s. Your role: %(role)s.")
                     % {"merchant": invitation.merchant.name, "role": invitation.get_role_display()})
    return HttpResponseRedirect(reverse("console:overview",
                                        kwargs={"merchant_code": invitation.merchant.code}))


# --- Sub-merchants page: accounts/sub_merchant_views.py ----------------------
