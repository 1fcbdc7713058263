from django.urls import path

from . import api_key_views, views, whitelist_views

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
]
