"""The kernel's REST routes: the OpenAPI description, and the envelope's 404 for any other path
under the API's prefixes. ``config/urls.py`` mounts these after every app's REST routes: the
catch-all comes last."""

from django.urls import path, re_path

from . import base, openapi

urlpatterns = [
    path("api/openapi.json", openapi.OpenApiJson.as_view(), name="openapi"),
    # Anything else under the API's prefixes is a 404 in the envelope, not an HTML page.
    re_path(r"^(?P<path>(?:users|tiers|payments|subscribe|vbanks|certifications|escrows|receipts"
            r"|banks|cards|api)(?:/.*)?)$", base.not_found, name="rest_not_found"),
]
