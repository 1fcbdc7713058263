"""Every model of the console app, one module per area; import them from here."""

from .api import ApiKey, ApiToken, WhitelistRule
from .audit import AuditEvent
from .invitations import Invitation
from .merchants import (
    MERCHANT_CODE_RE,
    TIER_CODE_RE,
    Membership,
    Merchant,
    Mode,
    Operator,
    OperatorManager,
    phone_validator,
    tier_code_validator,
)
from .two_factor import RecoveryCode, TwoFactorDevice

__all__ = [
    "MERCHANT_CODE_RE", "TIER_CODE_RE", "ApiKey", "ApiToken", "AuditEvent", "Invitation",
    "Membership", "Merchant", "Mode", "Operator", "OperatorManager", "RecoveryCode",
    "TwoFactorDevice", "WhitelistRule", "phone_validator", "tier_code_validator",
]
