"""The Billing keys page of a merchant, under ``m/<merchant_code>/billing-keys/``
(config/urls.py), namespace ``billing_keys``. Keys are addressed by id (``customer_uid`` is
the merchant's text, and names a new key after a delete)."""

from django.urls import path

from payments.pages import billing_views as views

app_name = "billing_keys"

urlpatterns = [
    path("", views.billing_key_list, name="list"),
    path("<int:billing_key_id>/", views.billing_key_detail, name="detail"),
    path("<int:billing_key_id>/delete/", views.billing_key_delete, name="delete"),
]
