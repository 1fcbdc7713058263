"""What each role may do, written out by hand so the table in console/roles.py is checked, not copied."""

import pytest

from console.tenancy.roles import Perm, Role, role_allows, stronger_role

EXPECTED = {
    #                 overview members integ  edit   apikeys acc_view acc_manage audit
    Role.OWNER:      (True,    True,   True,  True,  True,   True,    True,      True),
    Role.ADMIN:      (True,    True,   True,  True,  True,   True,    True,      True),
    Role.MANAGER:    (True,    True,   True,  False, False,  True,    False,     False),
    Role.DEVELOPER:  (True,    False,  True,  True,  False,  False,   False,     False),
    Role.VIEWER:     (True,    True,   True,  False, False,  False,   False,     False),
}
ORDER = [
    Perm.VIEW_OVERVIEW,
    Perm.VIEW_MEMBERS,
    Perm.VIEW_INTEGRATION,
    Perm.EDIT_INTEGRATION,
    Perm.MANAGE_API_KEYS,
    Perm.VIEW_ACCOUNTS,
    Perm.MANAGE_ACCOUNTS,
    Perm.VIEW_AUDIT,
]


def test_the_table_covers_every_permission():
    assert set(ORDER) == set(Perm)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("perm", ORDER)
def test_role_permissions(role, perm):
    assert role_allows(role, perm) is EXPECTED[role][ORDER.index(perm)]


def test_unknown_role_allows_nothing():
    assert not any(role_allows("superhero", perm) for perm in Perm)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("owner", "viewer", "owner"),
        ("viewer", "owner", "owner"),
        ("manager", "developer", "manager"),
        (None, "viewer", "viewer"),
        ("admin", None, "admin"),
        (None, None, None),
    ],
)
def test_stronger_role_wins(a, b, expected):
    assert stronger_role(a, b) == expected
