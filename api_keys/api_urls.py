"""The API keys' REST route, at i'mport's path (mounted by ``config/urls.py``)."""

from django.urls import path

from . import api

urlpatterns = [
    path("users/getToken", api.GetToken.as_view(), name="rest_get_token"),
]
