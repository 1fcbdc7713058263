"""The channels' REST route, at i'mport's path (mounted by ``config/urls.py``)."""

from django.urls import path

from . import api

urlpatterns = [
    path("users/pg", api.UsersPg.as_view(), name="rest_users_pg"),
]
