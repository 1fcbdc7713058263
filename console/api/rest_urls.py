"""The i'mport-compatible REST API, at the paths client libraries call, and its OpenAPI
description."""

from django.urls import path, re_path

from . import openapi, rest

urlpatterns = [
    path("users/getToken", rest.get_token, name="rest_get_token"),
    path("users/pg", rest.users_pg, name="rest_users_pg"),
    path("tiers/<str:tier_code>", rest.tier, name="rest_tier"),
    path("api/openapi.json", openapi.openapi_json, name="openapi"),
    # Anything else under the API's prefixes is a 404 in the envelope, not an HTML page.
    re_path(r"^(?P<path>(?:users|tiers|payments|subscribe|vbanks|certifications|escrows|receipts"
            r"|banks|cards|api)(?:/.*)?)$", rest.not_found, name="rest_not_found"),
]
