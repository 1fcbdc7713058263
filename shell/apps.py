from django.apps import AppConfig


class ShellConfig(AppConfig):
    """The shell around the pages: home, the merchant's overview, the audit log, the merchant
    switcher, and the audit trail in the admin."""

    name = "shell"
