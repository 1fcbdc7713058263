"""Payment pages of a merchant's console, under ``m/<merchant_code>/`` (config/urls.py)."""

from django.urls import path

from payments.pages import try_views

app_name = "payments"

urlpatterns = [
    path("channels/<str:channel_key>/try/", try_views.try_payment, name="try"),
]
