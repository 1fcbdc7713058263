"""What each role may do, written out by hand so the tables in console/tenancy/roles.py are
checked, not copied."""

from types import SimpleNamespace

import pytest

from console.tenancy.roles import (
    AccessRole,
    Perm,
    Role,
    access_role,
    assignable_roles,
    may_manage_member,
    perms_of,
    role_allows,
    stronger_role,
)

T, F = True, False
ORDER = [
    Perm.VIEW_OVERVIEW,
    Perm.VIEW_MEMBERS,
    Perm.VIEW_INTEGRATION,
    Perm.EDIT_INTEGRATION,
    Perm.EDIT_WEBHOOK,
    Perm.MANAGE_API_KEYS,
    Perm.VIEW_ACCOUNTS,
    Perm.INVITE_MEMBERS,
    Perm.MANAGE_ACCOUNTS,
    Perm.MANAGE_TWO_FACTOR_RULE,
    Perm.MANAGE_SUB_MERCHANTS,
    Perm.MANAGE_PAYMENTS,
    Perm.VIEW_AUDIT,
]
EXPECTED = {
    #                       overview members integ edit_int webhook apikeys acc_view invite acc_manage 2fa  subs pay audit
    AccessRole.OWNER:       (T,       T,      T,    T,       T,      T,      T,       T,     T,         T,   T,   T,  T),
    AccessRole.ADMIN:       (T,       T,      T,    T,       T,      T,      T,       T,     T,         T,   T,   T,  T),
    AccessRole.MANAGER:     (T,       T,      T,    F,       F,      F,      T,       T,     F,         F,   F,   T,  T),
    AccessRole.DEVELOPER:   (T,       T,      T,    T,       T,      F,      T,       F,     F,         F,   F,   T,  T),
    AccessRole.VIEWER:      (T,       T,      T,    F,       F,      F,      T,       F,     F,         F,   F,   F,  T),
    AccessRole.SUB_MANAGER: (T,       T,      T,    F,       T,      F,      T,       T,     T,         F,   F,   T,  T),
    AccessRole.SUB_VIEWER:  (T,       T,      T,    F,       F,      F,      T,       F,     F,         F,   F,   F,  T),
}


def test_the_table_covers_every_permission_and_role():
    assert set(ORDER) == set(Perm) and len(ORDER) == len(Perm)
    assert set(EXPECTED) == set(AccessRole)


@pytest.mark.parametrize("role", list(AccessRole))
@pytest.mark.parametrize("perm", ORDER)
def test_role_permissions(role, perm):
    assert role_allows(role, perm) is EXPECTED[role][ORDER.index(perm)]


def test_unknown_role_allows_nothing():
    assert not any(role_allows("superhero", perm) for perm in Perm)
    assert not any(role_allows(None, perm) for perm in Perm)


@pytest.mark.parametrize(("role", "on_sub", "expected"), [
    ("owner", False, AccessRole.OWNER), ("admin", False, AccessRole.ADMIN),
    ("manager", False, AccessRole.MANAGER), ("developer", False, AccessRole.DEVELOPER),
    ("viewer", False, AccessRole.VIEWER),
    ("manager", True, AccessRole.SUB_MANAGER), ("viewer", True, AccessRole.SUB_VIEWER),
    # never valid on a sub-merchant (Membership.clean): it counts for the least
    ("owner", True, AccessRole.SUB_VIEWER), ("developer", True, AccessRole.SUB_VIEWER),
])
def test_a_sub_merchants_own_members_act_as_sub_merchant_roles(role, on_sub, expected):
    assert access_role(role, on_sub_merchant=on_sub) == expected


def test_two_roles_on_one_merchant_allow_what_both_allow():
    both = perms_of([AccessRole.DEVELOPER, AccessRole.SUB_MANAGER])
    assert {Perm.EDIT_INTEGRATION, Perm.EDIT_WEBHOOK, Perm.MANAGE_ACCOUNTS, Perm.VIEW_AUDIT} <= both
    assert Perm.MANAGE_API_KEYS not in both
    assert perms_of([AccessRole.VIEWER]) == {p for p, ok in zip(ORDER, EXPECTED[AccessRole.VIEWER], strict=True) if ok}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("owner", "viewer", "owner"),
        ("viewer", "owner", "owner"),
        ("manager", "developer", "manager"),
        ("sub_manager", "manager", "sub_manager"),
        ("developer", "sub_manager", "sub_manager"),
        ("admin", "sub_manager", "admin"),
        ("sub_viewer", "viewer", "viewer"),
        ("developer", "sub_viewer", "developer"),
        (None, "viewer", "viewer"),
        ("admin", None, "admin"),
        (None, None, None),
    ],
)
def test_stronger_role_wins(a, b, expected):
    assert stronger_role(a, b) == expected


AGENCY = SimpleNamespace(parent_id=None)
SUB = SimpleNamespace(parent_id=1)
OWN, ADM, MGR, DEV, VIEW = Role.OWNER, Role.ADMIN, Role.MANAGER, Role.DEVELOPER, Role.VIEWER
# Who may give which role, on an agency and on a sub-merchant (PortOne's last column; an admin
# holds the one admin seat, so Admin is not offered to it either).
GIVES = {
    #                        agency                      sub-merchant
    AccessRole.OWNER:       ([OWN, ADM, MGR, DEV, VIEW], [MGR, VIEW]),
    AccessRole.ADMIN:       ([MGR, DEV, VIEW],           [MGR, VIEW]),
    AccessRole.MANAGER:     ([VIEW],                     [VIEW]),
    AccessRole.DEVELOPER:   ([],                         []),
    AccessRole.VIEWER:      ([],                         []),
    AccessRole.SUB_MANAGER: ([],                         [MGR, VIEW]),
    AccessRole.SUB_VIEWER:  ([],                         []),
}


@pytest.mark.parametrize("role", list(AccessRole))
def test_who_gives_which_role(role):
    on_agency, on_sub = GIVES[role]
    assert assignable_roles(actor_role=role, merchant=AGENCY) == on_agency
    assert assignable_roles(actor_role=role, merchant=SUB) == on_sub
    assert bool(on_agency or on_sub) is role_allows(role, Perm.INVITE_MEMBERS)


def test_an_unknown_role_gives_nothing():
    assert assignable_roles(actor_role="root", merchant=AGENCY) == []
    assert assignable_roles(actor_role=None, merchant=SUB) == []


def _membership(role, *, on_sub=False, operator_id=99):
    return SimpleNamespace(role=role, operator_id=operator_id, merchant=SUB if on_sub else AGENCY)


@pytest.mark.parametrize(("actor_role", "target", "on_sub", "expected"), [
    ("owner", "owner", False, True), ("owner", "manager", True, True),
    ("admin", "owner", False, False), ("admin", "admin", False, False), ("admin", "developer", False, True),
    ("admin", "viewer", True, True),
    ("manager", "viewer", False, False), ("developer", "viewer", False, False), ("viewer", "viewer", False, False),
    ("sub_manager", "manager", True, True), ("sub_manager", "viewer", True, True),
    ("sub_manager", "viewer", False, False),  # never an agency's member
    ("sub_viewer", "viewer", True, False),
])
def test_who_manages_whom(actor_role, target, on_sub, expected):
    actor = SimpleNamespace(pk=1)
    assert may_manage_member(actor_role=actor_role, actor=actor, membership=_membership(target, on_sub=on_sub)) \
        is expected


@pytest.mark.parametrize("actor_role", list(AccessRole))
def test_anyone_may_manage_their_own_membership(actor_role):
    actor = SimpleNamespace(pk=7)
    assert may_manage_member(actor_role=actor_role, actor=actor, membership=_membership("viewer", operator_id=7))
