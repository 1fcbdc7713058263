"""The console's own pages of a merchant, namespace ``console``; ``config/urls.py`` mounts
them under ``m/<merchant_code>/`` beside the ``channels`` and ``webhooks`` apps."""

from django.urls import include, path

app_name = "console"

urlpatterns = [
    path("", include("console.shell.urls")),
    path("", include("console.accounts.urls")),
    path("", include("console.api.urls")),
]
