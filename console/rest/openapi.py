"""GET /api/openapi.json: the OpenAPI 3 description of the REST API, generated from the views
and serializers by drf-spectacular (settings: ``SPECTACULAR_SETTINGS``, whose hooks are the
apps' own, e.g. ``payments.v1.rest.openapi``), built once per process. drf-spectacular walks the
URLconf, so the kernel imports none of the apps. tests/console/test_openapi.py runs schemathesis
against the app with it, so it stays true.
"""

import re
from functools import cache

from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .base import ImportView


@cache
def description() -> dict:
    with translation.override("en"):  # the same description whoever asks first
        return SchemaGenerator().get_schema(request=None, public=True)


@cache
def documented(route: str, method: str) -> frozenset[int] | None:
    """The statuses the description documents for ``method`` on the URL pattern ``route``
    (``payments/<str:imp_uid>``), or None for an operation it leaves out."""
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    operation = description()["paths"].get(path, {}).get("head" if method == "HEAD" else method.lower())
    if operation is None and method == "HEAD":
        operation = description()["paths"].get(path, {}).get("get")
    if operation is None:
        return None
    return frozenset(int(status) for status in operation["responses"])


@extend_schema(exclude=True)
class OpenApiJson(ImportView):
    requires_token = False
    renderer_classes = (JSONRenderer,)

    def get(self, request):
        return Response(description())
