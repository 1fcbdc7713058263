from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from console import accounts_views, openapi, rest
from console.health import healthz

admin.site.site_header = _("PG Console — platform staff")
admin.site.site_title = _("PG Console admin")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The i'mport-compatible REST API, at the paths client libraries call.
    path("users/getToken", rest.get_token, name="rest_get_token"),
    path("users/pg", rest.users_pg, name="rest_users_pg"),
    path("tiers/<str:tier_code>", rest.tier, name="rest_tier"),
    path("api/openapi.json", openapi.openapi_json, name="openapi"),
    path("accounts/login/", accounts_views.LoginView.as_view(), name="login"),
    path("accounts/invitation/<str:token>/", accounts_views.invitation_accept, name="invitation_accept"),
    path("accounts/two-factor/", include("console.two_factor_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("console.urls")),
    path("", include("channels.urls")),
    path("", include("webhooks.urls")),
]
