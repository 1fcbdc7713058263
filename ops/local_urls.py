"""Pages for a developer's machine only, under ``local/`` (namespace ``local``): included by
``config/urls.py`` when ``PGCONSOLE_LOCAL_OUTBOX`` is on (the local settings), never otherwise."""

from django.urls import path

from .outbox import outbox

app_name = "local"

urlpatterns = [
    path("outbox/", outbox, name="outbox"),
]
