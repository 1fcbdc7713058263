import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from accounts.selectors import members_of
from console.tenancy.selectors import merchant_access_get, operator_merchants
from tests.factories import OperatorFactory, make_member, make_merchant, make_sub_merchant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(agency):
    return {
        "agency": agency,
        "seoul": make_sub_merchant(agency, "SEL"),
        "busan": make_sub_merchant(agency, "BSN"),
        "other": make_merchant("Other"),
    }


def test_agency_membership_reaches_its_sub_merchants(tree):
    op = make_member(tree["agency"], "developer")
    for key in ("agency", "seoul", "busan"):
        access = merchant_access_get(operator=op, code=tree[key].code)
        assert access.role == "developer"
    with pytest.raises(Http404):
        merchant_access_get(operator=op, code=tree["other"].code)


def test_sub_merchant_membership_reaches_only_that_sub_merchant(tree):
    op = make_member(tree["seoul"], "manager")
    assert merchant_access_get(operator=op, code=tree["seoul"].code).role == "sub_manager"
    for key in ("agency", "busan", "other"):
        with pytest.raises(Http404):
            merchant_access_get(operator=op, code=tree[key].code)


def test_stronger_of_two_memberships_counts(tree):
    op = make_member(tree["agency"], "viewer")
    make_member(tree["seoul"], "manager", operator=op)
    assert merchant_access_get(operator=op, code=tree["seoul"].code).role == "sub_manager"
    assert merchant_access_get(operator=op, code=tree["busan"].code).role == "viewer"
    assert merchant_access_get(operator=op, code=tree["agency"].code).role == "viewer"


def test_unknown_code_inactive_and_anonymous_are_404(tree):
    op = make_member(tree["agency"], "owner")
    with pytest.raises(Http404):
        merchant_access_get(operator=op, code="imp00000000")
    with pytest.raises(Http404):
        merchant_access_get(operator=AnonymousUser(), code=tree["agency"].code)
    op.is_active = False
    op.save()
    with pytest.raises(Http404):
        merchant_access_get(operator=op, code=tree["agency"].code)


def test_operator_of_several_merchants_sees_each_tree(tree):
    op = make_member(tree["agency"], "viewer")
    make_member(tree["other"], "owner", operator=op)
    entries = operator_merchants(operator=op)
    names = [(e.merchant.name, e.role, e.is_sub_merchant) for e in entries]
    assert names == [
        ("Acme Agency", "viewer", False),
        (tree["busan"].name, "viewer", True),
        (tree["seoul"].name, "viewer", True),
        ("Other", "owner", False),
    ]


def test_switcher_for_a_sub_merchant_operator_lists_only_it(tree):
    op = make_member(tree["seoul"], "manager")
    assert [e.merchant for e in operator_merchants(operator=op)] == [tree["seoul"]]


def test_operator_with_no_membership_sees_nothing(db):
    assert operator_merchants(operator=OperatorFactory()) == []


def test_members_of_sub_merchant_include_agency_members(tree):
    agency_owner = make_member(tree["agency"], "owner")
    tier_manager = make_member(tree["seoul"], "manager")
    access = merchant_access_get(operator=agency_owner, code=tree["seoul"].code)
    rows = members_of(access=access)
    # the sub-merchant's own members first, then those who reach it through the agency
    assert [(r.membership.operator, r.inherited) for r in rows] == [
        (tier_manager, False),
        (agency_owner, True),
    ]
    busan_access = merchant_access_get(operator=agency_owner, code=tree["busan"].code)
    assert tier_manager not in [r.membership.operator for r in members_of(access=busan_access)]


def test_two_memberships_on_one_merchant_allow_what_both_allow(tree):
    from console.tenancy.roles import Perm

    op = make_member(tree["agency"], "developer")
    make_member(tree["seoul"], "manager", operator=op)
    seoul = merchant_access_get(operator=op, code=tree["seoul"].code)
    assert seoul.role == "sub_manager" and seoul.role_label == "Sub-merchant Manager"
    assert seoul.can(Perm.EDIT_INTEGRATION)  # the agency's Developer
    assert seoul.can(Perm.MANAGE_ACCOUNTS) and seoul.can(Perm.VIEW_AUDIT)  # the sub-merchant's Manager
    assert not seoul.can(Perm.MANAGE_API_KEYS)
    busan = merchant_access_get(operator=op, code=tree["busan"].code)
    assert busan.role == "developer" and not busan.can(Perm.MANAGE_ACCOUNTS)
    assert busan.can(Perm.VIEW_AUDIT)  # a Developer reads the trail of what it may change (issue 22)


def test_the_switcher_and_the_door_agree_on_every_role(tree):
    from accounts.services.members import sender_role

    op = make_member(tree["agency"], "viewer")
    make_member(tree["seoul"], "manager", operator=op)
    entries = operator_merchants(operator=op)
    assert {e.merchant: e.role for e in entries} == {
        tree["agency"]: "viewer", tree["seoul"]: "sub_manager", tree["busan"]: "viewer"}
    for entry in entries:
        assert merchant_access_get(operator=op, code=entry.merchant.code).role == entry.role
        assert sender_role(op, entry.merchant) == entry.role  # the authority an invitation carries


def test_payment_reads_are_scoped_to_exactly_the_merchant(tree):
    """The Payments page's selectors: an agency reads its own payments (not its
    sub-merchants'), a sub-merchant its own; everything else is not found."""
    from payments.models import Payment
    from payments.selectors import payments as selectors
    from webhooks.selectors import deliveries_for_payment

    def pay(merchant, n):
        return Payment.objects.create(merchant=merchant, merchant_uid=f"scope_{n}", amount=1000,
                                      pg_provider="kcp", pg_id="T0000")

    made = {key: pay(tree[key], n) for n, key in enumerate(("agency", "seoul", "busan", "other"))}
    op = make_member(tree["agency"], "owner")
    for key in ("agency", "seoul", "busan"):
        access = merchant_access_get(operator=op, code=tree[key].code)
        page = selectors.payments_page(access=access, filters=selectors.PaymentFilters())
        assert [p.imp_uid for p in page.payments] == [made[key].imp_uid]
        exported = selectors.payments_for_export(access=access, filters=selectors.PaymentFilters())
        assert [p.imp_uid for p in exported] == [made[key].imp_uid]
        assert selectors.payment_get(access=access, imp_uid=made[key].imp_uid) == made[key]
        for other in set(made) - {key}:
            with pytest.raises(Http404):
                selectors.payment_get(access=access, imp_uid=made[other].imp_uid)
            assert deliveries_for_payment(merchant=access.merchant, imp_uid=made[other].imp_uid) == []
