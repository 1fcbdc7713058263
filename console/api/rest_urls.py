"""The i'mport-compatible REST API, at the paths client libraries call, and its OpenAPI
description."""

from django.urls import path, re_path

from . import openapi, rest, rest_payments

urlpatterns = [
    path("users/getToken", rest.get_token, name="rest_get_token"),
    path("users/pg", rest.users_pg, name="rest_users_pg"),
    path("tiers/<str:tier_code>", rest.tier, name="rest_tier"),
    path("payments/prepare", rest_payments.prepare, name="rest_payments_prepare"),
    path("payments/prepare/<str:merchant_uid>", rest_payments.prepared, name="rest_payments_prepared"),
    path("payments", rest_payments.payments, name="rest_payments"),
    path("payments/cancel", rest_payments.cancel, name="rest_payments_cancel"),
    path("payments/find/<str:merchant_uid>", rest_payments.find, name="rest_payments_find"),
    path("payments/find/<str:merchant_uid>/", rest_payments.find),  # an empty status, as clients send it
    path("payments/find/<str:merchant_uid>/<str:payment_status>", rest_payments.find,
         name="rest_payments_find_status"),
    path("payments/findAll/<str:merchant_uid>", rest_payments.find_all, name="rest_payments_find_all"),
    path("payments/findAll/<str:merchant_uid>/", rest_payments.find_all),
    path("payments/findAll/<str:merchant_uid>/<str:payment_status>", rest_payments.find_all,
         name="rest_payments_find_all_status"),
    path("payments/status/<str:payment_status>", rest_payments.by_status, name="rest_payments_status"),
    path("payments/<str:imp_uid>", rest_payments.payment, name="rest_payment"),
    path("api/openapi.json", openapi.openapi_json, name="openapi"),
    # Anything else under the API's prefixes is a 404 in the envelope, not an HTML page.
    re_path(r"^(?P<path>(?:users|tiers|payments|subscribe|vbanks|certifications|escrows|receipts"
            r"|banks|cards|api)(?:/.*)?)$", rest.not_found, name="rest_not_found"),
]
