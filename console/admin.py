"""Django admin for platform staff: each area registers its own models (``<area>/admin.py``);
this module, which Django's admin discovers, loads them. Writes made there go through the
same services as the console, so every change is validated the same way and is audited."""

from console.accounts import admin as _accounts  # noqa: F401  operators, merchants, memberships, invitations
from console.api import admin as _api  # noqa: F401  whitelist rules
from console.shell import admin as _shell  # noqa: F401  the audit trail
