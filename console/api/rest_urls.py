"""The i'mport-compatible REST API, at the paths client libraries call, and its OpenAPI
description."""

from django.urls import path

from . import openapi, rest

urlpatterns = [
    path("users/getToken", rest.get_token, name="rest_get_token"),
    path("users/pg", rest.users_pg, name="rest_users_pg"),
    path("tiers/<str:tier_code>", rest.tier, name="rest_tier"),
    path("api/openapi.json", openapi.openapi_json, name="openapi"),
]
