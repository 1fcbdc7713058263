from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from console import accounts_views
from console.health import healthz

admin.site.site_header = _("PG Console — platform staff")
admin.site.site_title = _("PG Console admin")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", accounts_views.LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("console.urls")),
    path("", include("channels.urls")),
    path("", include("webhooks.urls")),
]
