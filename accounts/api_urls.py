"""The tiers' REST route, at i'mport's path (mounted by ``config/urls.py``)."""

from django.urls import path

from . import api

urlpatterns = [
    path("tiers/<str:tier_code>", api.TierView.as_view(), name="rest_tier"),
]
