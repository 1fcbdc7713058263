from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "pgchannels"  # the app label stays clear of the unrelated PyPI "channels"
    verbose_name = _("PG channels")
