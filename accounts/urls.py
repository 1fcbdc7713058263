"""The Accounts and Sub-merchants pages of a merchant (under ``m/<merchant_code>/``,
namespace ``console``)."""

from django.urls import path

from . import sub_merchant_views, views

urlpatterns = [
    # Accounts page: members, invitations, the two-factor rule.
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/two-factor/", views.two_factor_policy, name="two_factor_policy"),
    path("accounts/members/<int:member_id>/role/", views.member_role, name="member_role"),
    path("accounts/members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("accounts/members/<int:member_id>/memo/", views.member_memo, name="member_memo"),
    path("accounts/invitations/<int:invitation_id>/resend/", views.invitation_resend,
         name="invitation_resend"),
    path("accounts/invitations/<int:invitation_id>/revoke/", views.invitation_revoke,
         name="invitation_revoke"),
    # Sub-merchants page.
    path("sub-merchants/", sub_merchant_views.sub_merchants, name="sub_merchants"),
    path("sub-merchants/<int:sub_merchant_id>/", sub_merchant_views.sub_merchant_edit,
         name="sub_merchant_edit"),
    path("sub-merchants/<int:sub_merchant_id>/delete/", sub_merchant_views.sub_merchant_delete,
         name="sub_merchant_delete"),
]
