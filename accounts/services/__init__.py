"""Writes of the accounts area: merchants and sub-merchants (``merchants``), memberships and
the role rules (``members``), invitations (``invitations``). Each service validates, writes and
records its audit row in one transaction; views, the admin and commands all call these."""

from .members import (
    MAX_ADMINS,
    MAX_DEVELOPERS,
    MEMO_MAX,
    last_owner_check,
    membership_create,
    membership_delete,
    membership_set_memo,
    membership_set_role,
    role_grant_check,
    role_limits_check,
)
from .merchants import (
    MERCHANT_EDITABLE,
    SUB_MERCHANT_PROFILE,
    merchant_create,
    merchant_update,
    sub_merchant_create,
    sub_merchant_delete,
    sub_merchant_update,
    sub_merchant_version,
    two_factor_rule_set,
)

__all__ = [
    "MAX_ADMINS", "MAX_DEVELOPERS", "MEMO_MAX", "MERCHANT_EDITABLE", "SUB_MERCHANT_PROFILE",
    "last_owner_check", "membership_create", "membership_delete", "membership_set_memo",
    "membership_set_role", "merchant_create",
    "merchant_update", "role_grant_check", "role_limits_check", "sub_merchant_create",
    "sub_merchant_delete", "sub_merchant_update", "sub_merchant_version", "two_factor_rule_set",
]
