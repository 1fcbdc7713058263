"""GET /api/openapi.json: the OpenAPI 3 description of the REST API, generated from the views
and serializers by drf-spectacular (settings: ``SPECTACULAR_SETTINGS``), built once per
process. tests/test_openapi.py runs schemathesis against the app with it, so it stays true.
"""

from functools import cache

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .rest_base import ImportView

# Paths that answer but are left out of the description: find and findAll without a status.
SKIP = ("/payments/find/{merchant_uid}", "/payments/find/{merchant_uid}/",
        "/payments/findAll/{merchant_uid}", "/payments/findAll/{merchant_uid}/", "/api/openapi.json",
        "/subscribe/payments/schedule/customers/{customer_uid}")  # the same as .../customers/{}/schedules


def only_described_paths(endpoints, **kwargs):
    """drf-spectacular's preprocessing hook: every endpoint but those in ``SKIP``."""
    return [endpoint for endpoint in endpoints if endpoint[0] not in SKIP]


def add_constraints(result, **kwargs):
    """drf-spectacular's postprocessing hook: ``serializers.CONSTRAINTS`` into the components,
    and a body required where one is (``serializers.REQUIRED_BODIES``)."""
    from .serializers import CONSTRAINTS, REQUIRED_BODIES

    for name, extra in CONSTRAINTS.items():
        result["components"]["schemas"][name].update(extra)
    for path, method in REQUIRED_BODIES:
        result["paths"][path][method]["requestBody"]["required"] = True
    return result


@cache
def description() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@extend_schema(exclude=True)
class OpenApiJson(ImportView):
    requires_token = False
    renderer_classes = (JSONRenderer,)

    def get(self, request):
        return Response(description())
