"""Every URL, each app through its own ``urls.py``. A merchant's pages live under
``m/<merchant_code>/``: the one door (``console.tenancy.access.merchant_view``) reads the code.

The shell's, accounts' and API keys' merchant pages share the namespace ``console``
(``console:overview``, ``console:accounts``, ``console:api_keys``…), built here from their
pattern lists. The REST API's routes are each app's own (``api_urls``), in i'mport's order,
with the kernel's last: the OpenAPI description and the envelope's 404 for any other path."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import api_urls as accounts_api_urls
from accounts import urls as accounts_urls
from api_keys import api_urls as api_keys_api_urls
from api_keys import urls as api_keys_urls
from channels import api_urls as channels_api_urls
from console.rest import urls as rest_urls
from payments.v1.rest import urls as payments_api_urls
from shell import urls as shell_urls

console_pages = [*shell_urls.urlpatterns, *accounts_urls.urlpatterns, *api_keys_urls.urlpatterns]

rest_api = [
    *api_keys_api_urls.urlpatterns,  # POST /users/getToken
    *channels_api_urls.urlpatterns,  # GET /users/pg
    *accounts_api_urls.urlpatterns,  # /tiers/<code>
    *payments_api_urls.urlpatterns,  # /payments…, /subscribe…, /vbanks…
    *rest_urls.urlpatterns,  # /api/openapi.json, then the envelope's 404: last
]

merchant_pages = [
    # overview, audit log, accounts, sub-merchants, API keys, whitelist
    path("", include((console_pages, "console"))),
    path("channels/", include("channels.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("payments/", include("payments.pages.activity_urls")),  # the Payments page (payment activity)
    path("billing-keys/", include("payments.pages.billing_urls")),  # the Billing keys page
    path("schedules/", include("payments.pages.schedule_urls")),  # the Schedules page (scheduled payments)
    path("", include("payments.pages.try_urls")),  # channels/<key>/try/ (the demo checkout)
]

urlpatterns = [
    path("", include("ops.urls")),  # /healthz
    path("", include(rest_api)),  # the REST API at i'mport's paths
    path("", include("shell.site_urls")),  # / (home)
    path("", include("payments.v1.sdk_urls")),  # /js/iamport.payment-1.2.0.js, /sandbox/pay/ (the browser SDK's window)
    path("accounts/", include("accounts.site_urls")),  # login, invitation links
    path("accounts/two-factor/", include("accounts.two_factor.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("m/<str:merchant_code>/", include(merchant_pages)),
]

# A developer's machine only (local settings): the mail kept in var/mail/, at /local/outbox/.
if settings.PGCONSOLE_LOCAL_OUTBOX:
    urlpatterns.append(path("local/", include("ops.local_urls")))
