from django import template

from console.roles import Perm

register = template.Library()


@register.filter
def can(access, perm: str) -> bool:
    """``{% if access|can:"view_audit" %}``: the role check of console/roles.py."""
    return access is not None and access.can(Perm(perm))


@register.filter
def minutes(delta) -> int:
    """A timedelta in whole minutes, rounded up (for the lock-out message)."""
    if delta is None:
        return 0
    return max(1, -(-int(delta.total_seconds()) // 60))
