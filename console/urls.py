from django.urls import path

from . import accounts_views, api_key_views, sub_merchant_views, views, whitelist_views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("m/<str:merchant_code>/", views.overview, name="overview"),
    path("m/<str:merchant_code>/audit/", views.audit_log, name="audit_log"),
    path("m/<str:merchant_code>/whitelist/", whitelist_views.whitelist, name="whitelist"),
    path("m/<str:merchant_code>/api-keys/", api_key_views.api_keys, name="api_keys"),
    path("m/<str:merchant_code>/api-keys/<int:key_id>/reissue/", api_key_views.api_key_reissue_view,
         name="api_key_reissue"),
    path("m/<str:merchant_code>/api-keys/<int:key_id>/revoke/", api_key_views.api_key_revoke_view,
         name="api_key_revoke"),
    path("m/<str:merchant_code>/whitelist/row/", whitelist_views.whitelist_row, name="whitelist_row"),
    # Accounts page: members, invitations, the two-factor rule.
    path("m/<str:merchant_code>/accounts/", accounts_views.accounts, name="accounts"),
    path("m/<str:merchant_code>/accounts/two-factor/", accounts_views.two_factor_policy,
         name="two_factor_policy"),
    path("m/<str:merchant_code>/accounts/members/<int:member_id>/role/", accounts_views.member_role,
         name="member_role"),
    path("m/<str:merchant_code>/accounts/members/<int:member_id>/remove/", accounts_views.member_remove,
         name="member_remove"),
    path("m/<str:merchant_code>/accounts/invitations/<int:invitation_id>/resend/",
         accounts_views.invitation_resend, name="invitation_resend"),
    path("m/<str:merchant_code>/accounts/invitations/<int:invitation_id>/revoke/",
         accounts_views.invitation_revoke, name="invitation_revoke"),
    # Sub-merchants page.
    path("m/<str:merchant_code>/sub-merchants/", sub_merchant_views.sub_merchants, name="sub_merchants"),
    path("m/<str:merchant_code>/sub-merchants/<str:tier_code>/", sub_merchant_views.sub_merchant_edit,
         name="sub_merchant_edit"),
]
