"""``django.contrib.admin`` on our site class (named in ``INSTALLED_APPS``); its own module,
light enough to import before the apps are loaded."""

from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    default_site = "accounts.two_factor.admin_site.ConsoleAdminSite"
