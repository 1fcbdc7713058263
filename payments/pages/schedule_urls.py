"""The Schedules page (scheduled payments) of a merchant, under ``m/<merchant_code>/schedules/``
(config/urls.py), namespace ``schedules``. Schedules are addressed by id (``merchant_uid`` is
the merchant's text)."""

from django.urls import path

from payments.pages import schedule_views as views

app_name = "schedules"

urlpatterns = [
    path("", views.schedule_list, name="list"),
    path("<int:schedule_id>/cancel/", views.schedule_cancel, name="cancel"),
]
