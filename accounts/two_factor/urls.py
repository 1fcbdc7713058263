"""Two-factor login, under ``accounts/two-factor/`` (namespace ``two_factor``)."""

from django.urls import path

from . import views

app_name = "two_factor"

urlpatterns = [
    path("", views.settings_view, name="settings"),
    path("set-up/", views.enrol_view, name="enrol"),
    path("verify/", views.verify_view, name="verify"),
    path("recover/", views.recover_view, name="recover"),
    path("recovery-codes/", views.recovery_codes_view, name="recovery_codes"),
    path("turn-off/", views.disable_view, name="disable"),
]
