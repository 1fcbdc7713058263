"""The pages that guard the REST API, of a merchant (under ``m/<merchant_code>/``, namespace
``console``): IDs & API keys, and the IP whitelist."""

from django.urls import path

from . import views

urlpatterns = [
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:key_id>/reissue/", views.api_key_reissue_view, name="api_key_reissue"),
    path("api-keys/<int:key_id>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
    path("whitelist/", views.whitelist, name="whitelist"),
    path("whitelist/row/", views.whitelist_row, name="whitelist_row"),
]
