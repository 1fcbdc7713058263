"""Every URL, each area through its own ``urls.py``. A merchant's pages live under
``m/<merchant_code>/``: the one door (``console.tenancy.access.merchant_view``) reads the code."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

merchant_pages = [
    path("", include("console.urls")),  # overview, audit log, accounts, sub-merchants, API keys, whitelist
    path("channels/", include("channels.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("payments/", include("payments.activity_urls")),  # the Payments page (payment activity)
    path("billing-keys/", include("payments.billing_urls")),  # the Billing keys page
    path("schedules/", include("payments.schedule_urls")),  # the Schedules page (scheduled payments)
    path("", include("payments.console_urls")),  # channels/<key>/try/ (the demo checkout)
]

urlpatterns = [
    path("", include("console.ops.urls")),  # /healthz
    path("", include("console.api.rest_urls")),  # the REST API at i'mport's paths
    path("", include("console.shell.site_urls")),  # / (home)
    path("", include("payments.urls")),  # /js/iamport.payment-1.2.0.js, /sandbox/pay/ (the browser SDK's window)
    path("accounts/", include("console.accounts.site_urls")),  # login, invitation links
    path("accounts/two-factor/", include("console.two_factor.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("m/<str:merchant_code>/", include(merchant_pages)),
]

# A developer's machine only (local settings): the mail kept in var/mail/, at /local/outbox/.
if settings.PGCONSOLE_LOCAL_OUTBOX:
    urlpatterns.append(path("local/", include("console.ops.local_urls")))
