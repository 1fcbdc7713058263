"""GET /api/openapi.json: the OpenAPI 3 description of the REST API, generated from the views
and serializers by drf-spectacular (settings: ``SPECTACULAR_SETTINGS``, whose hooks are the
apps' own, e.g. ``payments.v1.rest.openapi``), built once per process. drf-spectacular walks the
URLconf, so the kernel imports none of the apps. tests/console/test_openapi.py runs schemathesis
against the app with it, so it stays true.
"""

from functools import cache

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .base import ImportView


@cache
def description() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@extend_schema(exclude=True)
class OpenApiJson(ImportView):
    requires_token = False
    renderer_classes = (JSONRenderer,)

    def get(self, request):
        return Response(description())
