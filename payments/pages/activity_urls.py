"""The Payments page (payment activity) of a merchant, under ``m/<merchant_code>/payments/``
(config/urls.py), namespace ``payment_activity``."""

from django.urls import path

from payments.pages import activity_views as views

app_name = "payment_activity"

urlpatterns = [
    path("", views.payment_list, name="list"),
    path("export.csv", views.payment_export, name="export"),
    path("totals/", views.payment_totals, name="totals"),
    path("<str:imp_uid>/", views.payment_detail, name="detail"),
    path("<str:imp_uid>/cancel/", views.payment_cancel, name="cancel"),
    path("<str:imp_uid>/deposit/", views.payment_deposit, name="deposit"),
]
