"""The channels' audit actions: channels, their assignment to sub-merchants, the shared test
credentials.

Registered with the kernel's vocabulary (``console.tenancy.audit_actions``) by
``ChannelsConfig.ready()``. The codes are stored in the rows: a code never changes once used.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CHANNEL_ASSIGN = "channel.assign", _("Channel assigned to a sub-merchant")
    CHANNEL_UNASSIGN = "channel.unassign", _("Channel taken back from a sub-merchant")
    CHANNEL_CREATE = "channel.create", _("Channel added")
    CHANNEL_CREATE_SHARED_TEST = "channel.create_shared_test", _("Shared test channel added")
    CHANNEL_DEFAULT_SET = "channel.default_set", _("Default channel set")
    CHANNEL_DEFAULT_UNSET = "channel.default_unset", _("Channel no longer the default")
    CHANNEL_DELETE = "channel.delete", _("Channel deleted")
    CHANNEL_ENABLE = "channel.enable", _("Channel enabled")
    CHANNEL_DISABLE = "channel.disable", _("Channel disabled")
    CHANNEL_UPDATE = "channel.update", _("Channel changed")
    SHARED_TEST_CREDENTIAL_CREATE = "shared_test_credential.create", _("Shared test credential added")
    SHARED_TEST_CREDENTIAL_UPDATE = "shared_test_credential.update", _("Shared test credential changed")
