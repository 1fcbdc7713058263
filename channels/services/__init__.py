"""Writes to PG channels and shared test credentials (``validation``, ``channels``,
``assignment``, ``shared_test``; the public names are re-exported here).

Every write validates against the PG catalog, encrypts credentials, and records its
audit event in the same transaction. The console views, the Django admin and
``seed_demo`` all come through here.
"""

from .assignment import channel_assign, channels_assign_set
from .channels import (
    UNSET,
    channel_create,
    channel_credentials,
    channel_delete,
    channel_make_default,
    channel_set_enabled,
    channel_update,
    channel_version,
)
from .shared_test import shared_test_credential_save, test_channels_provision
from .validation import CREDENTIAL_PREFIX, EDITABLE, IDENTITY, NAME_MAX_LENGTH, ChannelInput

__all__ = [
    "UNSET",    "CREDENTIAL_PREFIX", "EDITABLE", "IDENTITY", "NAME_MAX_LENGTH", "ChannelInput", "channel_assign",
    "channel_create", "channel_credentials", "channel_delete", "channel_make_default",
    "channel_set_enabled", "channel_update", "channel_version", "channels_assign_set", "shared_test_credential_save",
    "test_channels_provision",
]
