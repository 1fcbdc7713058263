import re

import pytest
from django.urls import reverse

from accounts import services
from console.models import AuditEvent
from console.tenancy.audit import Actor
from tests.factories import make_member, make_sub_merchant

pytestmark = pytest.mark.django_db


def test_home_redirects_to_the_first_merchant(client, owner, agency):
    client.force_login(owner)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("console:overview", kwargs={"merchant_code": agency.code})


def test_home_without_membership_explains(client, operator_factory):
    client.force_login(operator_factory())
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "not a member of any merchant" in response.content.decode()


def test_overview_shows_code_sub_merchants_and_members(client, agency, owner):
    seoul = make_sub_merchant(agency, "SEL", name="Seoul Store")
    viewer = make_member(agency, "viewer")
    client.force_login(owner)
    html = client.get(reverse("console:overview", kwargs={"merchant_code": agency.code})).content.decode()
    assert agency.code in html
    assert f'data-copy="{agency.code}"' in html
    assert "Seoul Store" in html and "SEL" in html and seoul.code in html
    assert owner.email in html and viewer.email in html
    assert "Owner" in html and "Viewer" in html


def test_developer_sees_the_member_list(client, agency, owner):
    developer = make_member(agency, "developer")
    client.force_login(developer)
    html = client.get(reverse("console:overview", kwargs={"merchant_code": agency.code})).content.decode()
    assert owner.email in html  # the accounts are shown read-only to a developer
    assert agency.code in html


# Each link of the menu: its label, its URL name, and whether it is an agency's page only.
NAV_LINKS = [
    ("Channels", "channels:list", False), ("Webhooks", "webhooks:settings", False),
    ("IDs & API keys", "console:api_keys", False), ("Whitelist", "console:whitelist", False),
    ("Accounts", "console:accounts", False), ("Sub-merchants", "console:sub_merchants", True),
    ("Audit log", "console:audit_log", False),
]


def _nav(html: str) -> str:
    start = html.index('aria-label="Console navigation"')
    return html[start:html.index("</nav>", start)]


@pytest.mark.parametrize(("role", "on_sub"), [
    ("owner", False), ("admin", False), ("manager", False), ("developer", False), ("viewer", False),
    ("manager", True), ("viewer", True),
])
def test_the_menu_links_exactly_the_pages_the_role_opens_and_no_empty_heading(client, agency, role, on_sub):
    sub = make_sub_merchant(agency, "SEL")
    merchant = sub if on_sub else agency
    client.force_login(make_member(merchant, role))
    nav = _nav(client.get(reverse("console:overview", kwargs={"merchant_code": merchant.code})).content.decode())
    for label, name, agency_only in NAV_LINKS:
        url = reverse(name, kwargs={"merchant_code": merchant.code})
        opens = client.get(url).status_code == 200 and not (agency_only and on_sub)
        assert (f'href="{url}"' in nav) is opens, (role, on_sub, label)
    # Every heading has at least one link under it.
    for heading in re.findall(r'fw-semibold px-3 mb-1">([^<]+)</div>\s*<ul[^>]*>(.*?)</ul>', nav, re.S):
        assert "nav-link" in heading[1], heading[0]
    assert nav.count('fw-semibold px-3 mb-1">') == len(re.findall(r'fw-semibold px-3 mb-1">[^<]+</div>\s*<ul', nav))


def test_a_developer_menu_has_the_audit_log(client, agency):
    """PortOne's Dev uses the integration and reads the accounts: it reads their history too
    (issue 22)."""
    client.force_login(make_member(agency, "developer"))
    nav = _nav(client.get(reverse("console:overview", kwargs={"merchant_code": agency.code})).content.decode())
    assert ">Accounts<" in nav and ">IDs & API keys<" in nav and ">Administration<" in nav
    assert ">Audit log<" in nav


def test_navigation_holds_every_area(client, agency, owner):
    client.force_login(owner)
    html = client.get(reverse("console:overview", kwargs={"merchant_code": agency.code})).content.decode()
    for label in ("Channels", "Webhooks", "IDs & API keys", "Whitelist", "Accounts", "Audit log"):
        assert label in html, label


def test_switcher_lists_merchant_and_sub_merchants(client, agency, owner):
    seoul = make_sub_merchant(agency, "SEL", name="Seoul Store")
    client.force_login(owner)
    html = client.get(reverse("console:overview", kwargs={"merchant_code": seoul.code})).content.decode()
    switcher = html[html.index('id="merchant-switcher"'):]
    assert reverse("console:overview", kwargs={"merchant_code": agency.code}) in switcher
    assert reverse("console:overview", kwargs={"merchant_code": seoul.code}) in switcher


def test_overview_query_count_does_not_grow_with_members(client, agency, owner, django_assert_max_num_queries):
    for _ in range(60):
        make_member(agency, "viewer")
    for i in range(30):
        make_sub_merchant(agency, f"S{i:02d}")
    client.force_login(owner)
    url = reverse("console:overview", kwargs={"merchant_code": agency.code})
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


def test_audit_log_lists_changes_newest_first_and_pages(client, agency, owner, django_assert_max_num_queries):
    actor = Actor(user=owner, ip="203.0.113.9")
    for i in range(120):
        services.merchant_update(actor=actor, merchant=agency, name=f"Acme {i}")
    client.force_login(owner)
    url = reverse("console:audit_log", kwargs={"merchant_code": agency.code})
    with django_assert_max_num_queries(10):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "merchant.update" in html and "203.0.113.9" in html and owner.email in html
    assert "Page 1 of 3" in html
    # newest first: page 1 holds the 50 newest renames, in order
    assert html.index("Acme 119") < html.index("Acme 118") < html.index("Acme 70")
    assert "Acme 69<" not in html
    page3 = client.get(url + "?page=3").content.decode()
    assert "Page 3 of 3" in page3
    assert client.get(url + "?page=999").status_code == 200  # last page, not a 500
    assert client.get(url + "?page=abc").status_code == 200


def test_audit_log_of_agency_includes_sub_merchant_events(client, agency, owner):
    seoul = make_sub_merchant(agency, "SEL")
    services.merchant_update(actor=Actor(user=owner), merchant=seoul, name="Seoul renamed")
    client.force_login(owner)
    html = client.get(reverse("console:audit_log", kwargs={"merchant_code": agency.code})).content.decode()
    assert "Seoul renamed" in html


def test_pages_carry_no_inline_script_or_style(client, agency, owner):
    client.force_login(owner)
    for url in (
        reverse("console:overview", kwargs={"merchant_code": agency.code}),
        reverse("console:audit_log", kwargs={"merchant_code": agency.code}),
    ):
        response = client.get(url)
        html = response.content.decode()
        assert "script-src 'self'" in response["Content-Security-Policy"]
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
        assert scripts
        for attrs, body in scripts:
            assert "src=" in attrs and not body.strip(), attrs
        assert not re.search(r"\sstyle=", html)
        assert not re.search(r"\son[a-z]+=", html)


def test_korean_throughout(client, agency, owner):
    client.force_login(owner)
    client.post(reverse("set_language"), {"language": "ko", "next": "/"})
    html = client.get(reverse("console:overview", kwargs={"merchant_code": agency.code})).content.decode()
    assert 'lang="ko"' in html
    for word in ("개요", "가맹점 식별코드", "하위 가맹점", "채널 관리", "웹훅 관리", "감사 로그", "로그아웃"):
        assert word in html, word
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("console:overview", kwargs={"merchant_code": agency.code})).content.decode()
    assert "Overview" in html and "개요" not in html


def test_audit_events_hold_no_values(agency, owner):
    services.merchant_update(actor=Actor(user=owner), merchant=agency, name="Secret-looking name 123")
    event = AuditEvent.objects.filter(action="merchant.update").get()
    assert event.changed_fields == ["name"]
    assert "Secret-looking" in event.target_repr  # the target's name, as shown in the log
