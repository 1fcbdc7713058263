"""The shell's pages of a merchant (under ``m/<merchant_code>/``, namespace ``console``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("audit/", views.audit_log, name="audit_log"),
]
