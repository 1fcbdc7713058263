"""The kernel's REST routes: the OpenAPI description, the operations of PortOne's V1 contract the
sandbox does not simulate (``unserved``), and the envelope's 404 for any other path under the API's
prefixes. ``config/urls.py`` mounts these after every app's REST routes: the catch-all comes last."""

from django.urls import path, re_path

from . import base, openapi, unserved

# The first segment of every path of PortOne's V1 contract (tests/console/test_v1_routes.py checks
# it against the contract), and ``api`` for the description.
API_PREFIXES = ("users", "tiers", "payments", "subscribe", "vbanks", "certifications", "escrows", "receipts",
                "banks", "cards", "benepia", "cvs", "kcpquick", "naver", "partners", "payco", "paymentwall",
                "api")

urlpatterns = [
    path("api/openapi.json", openapi.OpenApiJson.as_view(), name="openapi"),
    *unserved.urlpatterns,
    # Anything else under the API's prefixes is a 404 in the envelope, not an HTML page.
    re_path(rf"^(?P<path>(?:{'|'.join(API_PREFIXES)})(?:/.*)?)$", base.not_found, name="rest_not_found"),
]
