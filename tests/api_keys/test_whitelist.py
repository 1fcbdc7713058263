import ipaddress

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from api_keys.services.whitelist import whitelist_save
from console.models import AuditEvent, WhitelistRule
from console.rest.whitelist import CompiledWhitelist
from console.tenancy.audit import Actor
from console.tenancy.cidr import CIDRError, parse_cidr
from tests.factories import make_member, make_sub_merchant


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Enter a CIDR block"),
     ("not-an-ip", "is not an IP address or CIDR block"),
     ("1.1.1.1", "write 1.1.1.1/32"),
     ("2001:db8::1", "write 2001:db8::1/128"),
     ("1.1.1.0/33", "from 0 to 32"),
     ("2001:db8::/129", "from 0 to 128"),
     ("1.1.1.0/-1", "from 0 to 32"),
     ("1.1.1.0/x", "from 0 to 32"),
     ("1.1.1.1/24", "did you mean 1.1.1.0/24?"),
     ("2001:db8::1/32", "did you mean 2001:db8::/32?"),
     ("01.1.1.0/24", "is not an IP address"),
     ("fe80::1%eth0/64", "is not an IP address")],
)
def test_bad_blocks_say_what_was_meant(text, message):
    with pytest.raises(CIDRError) as exc:
        parse_cidr(text)
    assert message in str(exc.value)


@pytest.mark.parametrize("text", ["1.1.1.0/24", "1.1.1.1/32", "0.0.0.0/0", "2001:db8::/32", "::/0", " 10.0.0.0/8 "])
def test_good_blocks(text):
    assert parse_cidr(text) == ipaddress.ip_network(text.strip())


@pytest.mark.parametrize(("text", "network"), [("203.0.113.7", "203.0.113.7/32"), (" 2001:db8::1 ", "2001:db8::1/128"),
                                               ("203.0.113.0/24", "203.0.113.0/24")])
def test_the_whitelist_reads_a_bare_address_as_that_one_address(text, network):
    assert parse_cidr(text, bare_address=True) == ipaddress.ip_network(network)
    with pytest.raises(CIDRError):
        parse_cidr("203.0.113.7/24", bare_address=True)  # host bits stay an error


ipv4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
ipv6 = st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n)))


@given(address=st.one_of(ipv4, ipv6), prefix=st.integers(-3, 140))
@hsettings(max_examples=400, deadline=None)
def test_cidr_field_agrees_with_ipaddress(address, prefix):
    """Oracle: ipaddress in strict mode accepts exactly the blocks we accept."""
    text = f"{address}/{prefix}"
    try:
        expected = ipaddress.ip_network(text, strict=True)
    except ValueError:
        expected = None
    try:
        got = parse_cidr(text)
    except CIDRError:
        got = None
    assert got == expected


@given(rules=st.lists(st.tuples(ipv4, st.integers(8, 32)), max_size=40), probe=ipv4)
@hsettings(max_examples=200, deadline=None)
def test_compiled_whitelist_agrees_with_a_linear_scan(rules, probe):
    cidrs = [str(ipaddress.ip_network(f"{a}/{p}", strict=False)) for a, p in rules]
    expected = any(ipaddress.ip_address(probe) in ipaddress.ip_network(c) for c in cidrs)
    assert CompiledWhitelist(cidrs).allows(probe) is expected


def test_compiled_whitelist_v6_and_mapped():
    wl = CompiledWhitelist(["203.0.113.0/24", "2001:db8::/32"])
    assert wl.allows("203.0.113.9") and wl.allows("::ffff:203.0.113.9") and wl.allows("2001:db8::5")
    assert not wl.allows("203.0.114.1") and not wl.allows("2001:db9::1") and not wl.allows("junk")


@pytest.mark.django_db
class TestSave:
    def test_rules_are_replaced_together_and_audited(self, agency):
        whitelist_save(actor=Actor(), merchant=agency, enabled=True,
                       rows=[("203.0.113.0/24", "office"), ("", ""), ("2001:db8::/32", "v6")])
        assert list(agency.whitelist_rules.values_list("cidr", "memo")) == [
            ("203.0.113.0/24", "office"), ("2001:db8::/32", "v6")]
        agency.refresh_from_db()
        assert agency.whitelist_enabled
        event = AuditEvent.objects.get(action="whitelist.update")
        assert event.changed_fields == ["enabled", "rules"]

    def test_one_bad_rule_saves_nothing(self, agency):
        whitelist_save(actor=Actor(), merchant=agency, enabled=False, rows=[("198.51.100.0/24", "")])
        with pytest.raises(ValidationError) as exc:
            whitelist_save(actor=Actor(), merchant=agency, enabled=True,
                           rows=[("203.0.113.0/24", ""), ("1.1.1.1/24", ""), ("203.0.113.0/24", "again")])
        assert "did you mean 1.1.1.0/24?" in exc.value.message_dict["cidr-1"][0]
        assert "already rule 1" in exc.value.message_dict["cidr-2"][0]
        assert list(agency.whitelist_rules.values_list("cidr", flat=True)) == ["198.51.100.0/24"]
        agency.refresh_from_db()
        assert not agency.whitelist_enabled

    def test_at_most_100_rules(self, agency):
        rows = [(f"10.0.{i}.0/24", "") for i in range(101)]
        with pytest.raises(ValidationError) as exc:
            whitelist_save(actor=Actor(), merchant=agency, enabled=False, rows=rows)
        assert "at most 100 rules" in exc.value.message_dict["__all__"][0]
        whitelist_save(actor=Actor(), merchant=agency, enabled=False, rows=rows[:100])
        assert WhitelistRule.objects.filter(merchant=agency).count() == 100

    def test_a_rule_inside_another_is_a_warning(self, agency):
        result = whitelist_save(actor=Actor(), merchant=agency, enabled=False,
                                rows=[("10.0.0.0/8", ""), ("10.1.0.0/16", "")])
        assert result.warnings == ["Rule 2 (10.1.0.0/16) is already inside rule 1 (10.0.0.0/8)."]
        assert agency.whitelist_rules.count() == 2

    def test_a_bare_address_is_saved_as_that_one_address_with_a_note(self, agency):
        result = whitelist_save(actor=Actor(), merchant=agency, enabled=True,
                                rows=[("203.0.113.7", "server"), ("2001:db8::1", "v6"), ("198.51.100.0/24", "")])
        assert list(agency.whitelist_rules.values_list("cidr", flat=True)) == [
            "203.0.113.7/32", "2001:db8::1/128", "198.51.100.0/24"]
        assert result.hints == ["Rule 1: 203.0.113.7 is one address, saved as 203.0.113.7/32.",
                                "Rule 2: 2001:db8::1 is one address, saved as 2001:db8::1/128."]
        # Written both ways, it is one rule twice.
        with pytest.raises(ValidationError) as exc:
            whitelist_save(actor=Actor(), merchant=agency, enabled=True,
                           rows=[("203.0.113.7/32", ""), ("203.0.113.7", "")])
        assert "already rule 1" in exc.value.message_dict["cidr-1"][0]

    @pytest.mark.parametrize("everyone", ["0.0.0.0/0", "::/0"])
    def test_a_rule_for_every_address_needs_confirmation_then_warns(self, agency, everyone):
        whitelist_save(actor=Actor(), merchant=agency, enabled=True, rows=[("203.0.113.0/24", "office")])
        with pytest.raises(ValidationError) as exc:
            whitelist_save(actor=Actor(), merchant=agency, enabled=True,
                           rows=[("203.0.113.0/24", "office"), (everyone, "")])
        assert f"{everyone} allows every address" in exc.value.message_dict["everyone"][0]
        assert list(agency.whitelist_rules.values_list("cidr", flat=True)) == ["203.0.113.0/24"]
        result = whitelist_save(actor=Actor(), merchant=agency, enabled=True, confirm_everyone=True,
                                rows=[("203.0.113.0/24", "office"), (everyone, "")])
        version = 4 if "." in everyone else 6
        assert f"Rule 2 ({everyone}) allows every IPv{version} address" in result.warnings[0]
        # Saved once with a confirmation, it is not asked again, and still warned about.
        again = whitelist_save(actor=Actor(), merchant=agency, enabled=True,
                               rows=[("203.0.113.0/24", "office2"), (everyone, "")])
        assert any("allows every" in w for w in again.warnings)

    def test_enabling_with_no_rule_needs_confirmation(self, agency):
        with pytest.raises(ValidationError) as exc:
            whitelist_save(actor=Actor(), merchant=agency, enabled=True, rows=[])
        assert "every REST API call will be refused" in exc.value.message_dict["enabled"][0]
        whitelist_save(actor=Actor(), merchant=agency, enabled=True, rows=[], confirm_empty=True)
        agency.refresh_from_db()
        assert agency.whitelist_enabled


@pytest.mark.django_db
def test_page_shows_messages_next_to_the_rule_and_keeps_input(client, agency, owner):
    client.force_login(owner)
    url = reverse("console:whitelist", kwargs={"merchant_code": agency.code})
    page = client.get(url).content.decode()
    for words in ("Enable whitelist", "Add rule", "CIDR", "Memo", "Save"):
        assert words in page
    response = client.post(url, {"enabled": "on", "cidr": ["203.0.113.0/24", "1.1.1.1/24"],
                                 "memo": ["office", "vpn"]})
    assert response.status_code == 400
    html = response.content.decode()
    assert "did you mean 1.1.1.0/24?" in html and 'value="1.1.1.1/24"' in html and 'value="office"' in html
    assert not WhitelistRule.objects.exists()
    ok = client.post(url, {"cidr": ["203.0.113.0/24", "203.0.113.128/25"], "memo": ["a", "b"]}, follow=True)
    assert "Whitelist saved." in ok.content.decode() and "already inside rule 1" in ok.content.decode()
    row = client.get(reverse("console:whitelist_row", kwargs={"merchant_code": agency.code}))
    assert 'name="cidr"' in row.content.decode() and "<html" not in row.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_read_only_roles(client, agency, role):
    whitelist_save(actor=Actor(), merchant=agency, enabled=False, rows=[("203.0.113.0/24", "office")])
    client.force_login(make_member(agency, role))
    url = reverse("console:whitelist", kwargs={"merchant_code": agency.code})
    html = client.get(url).content.decode()
    assert "203.0.113.0/24" in html and "Add rule" not in html
    assert client.post(url, {"cidr": ["1.1.1.0/24"], "memo": [""]}).status_code == 403
    assert list(agency.whitelist_rules.values_list("cidr", flat=True)) == ["203.0.113.0/24"]


@pytest.mark.django_db
def test_sub_merchant_page_points_to_the_agency(client, agency, owner):
    sub = make_sub_merchant(agency, "S01")
    client.force_login(owner)
    html = client.get(reverse("console:whitelist", kwargs={"merchant_code": sub.code})).content.decode()
    assert "the whitelist of Acme Agency applies" in html
    assert client.post(reverse("console:whitelist", kwargs={"merchant_code": sub.code}),
                       {"cidr": ["1.1.1.0/24"]}).status_code == 403


@pytest.mark.django_db
def test_whitelist_page_query_count_is_flat(client, agency, owner, django_assert_max_num_queries):
    whitelist_save(actor=Actor(), merchant=agency, enabled=False,
                   rows=[(f"10.{i}.0.0/16", f"rule {i}") for i in range(100)])
    client.force_login(owner)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("console:whitelist", kwargs={"merchant_code": agency.code}))
    assert response.status_code == 200 and response.content.decode().count('name="cidr"') == 100


# --- The compiled whitelist follows the rules, however they change ------------------------


@pytest.fixture
def guarded(client, agency):
    """A token, and the whitelist on with two rules; one call from each rule's block has
    compiled the list in this process."""
    from api_keys.services.api_keys import api_key_create

    issued = api_key_create(actor=Actor(), merchant=agency, name="order server")
    response = client.post("/users/getToken", {"imp_key": issued.api_key.key, "imp_secret": issued.secret},
                           REMOTE_ADDR="203.0.113.9")
    token = response.json()["response"]["access_token"]
    whitelist_save(actor=Actor(), merchant=agency, enabled=True,
                   rows=[("203.0.113.0/24", "office"), ("198.51.100.0/24", "vpn")])
    for address in ("203.0.113.9", "198.51.100.5"):
        assert users_pg(client, token, address) == 200
    return token


def users_pg(client, token, address) -> int:
    return client.get("/users/pg", HTTP_AUTHORIZATION=token, REMOTE_ADDR=address).status_code


@pytest.mark.django_db
def test_a_rule_deleted_with_the_orm_stops_the_next_call(client, agency, guarded):
    WhitelistRule.objects.filter(merchant=agency, cidr="198.51.100.0/24").delete()  # no service
    assert users_pg(client, guarded, "198.51.100.5") == 403
    assert users_pg(client, guarded, "203.0.113.9") == 200


@pytest.mark.django_db
def test_a_rule_deleted_in_sql_stops_the_next_call(client, agency, guarded):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {WhitelistRule._meta.db_table} WHERE cidr = %s", ["198.51.100.0/24"])
    assert users_pg(client, guarded, "198.51.100.5") == 403
    assert users_pg(client, guarded, "203.0.113.9") == 200


@pytest.mark.django_db
def test_every_rule_write_moves_the_merchants_updated_at(agency):
    """What each process keys its compiled copy on; the merchant row is read with the call."""
    from console.models import Merchant

    def stamp():
        return Merchant.objects.values_list("updated_at", flat=True).get(pk=agency.pk)

    seen = [stamp()]
    rule = WhitelistRule.objects.create(merchant=agency, cidr="192.0.2.0/24")
    seen.append(stamp())
    WhitelistRule.objects.filter(pk=rule.pk).update(memo="moved")
    seen.append(stamp())
    WhitelistRule.objects.bulk_create([WhitelistRule(merchant=agency, cidr="198.51.100.0/24")])
    seen.append(stamp())
    WhitelistRule.objects.filter(pk=rule.pk).delete()
    seen.append(stamp())
    assert seen == sorted(seen) and len(set(seen)) == len(seen)  # each write moved it on


@pytest.mark.django_db
def test_a_rule_changed_or_added_with_the_orm_holds_from_the_next_call(client, agency, guarded):
    WhitelistRule.objects.filter(merchant=agency, cidr="198.51.100.0/24").update(cidr="192.0.2.0/24")
    assert users_pg(client, guarded, "198.51.100.5") == 403
    assert users_pg(client, guarded, "192.0.2.7") == 200
    WhitelistRule.objects.create(merchant=agency, cidr="2001:db8::/32", position=9)
    assert users_pg(client, guarded, "2001:db8::7") == 200
    WhitelistRule.objects.filter(merchant=agency).delete()
    assert users_pg(client, guarded, "203.0.113.9") == 403  # on, and no rule: nothing passes


@pytest.mark.django_db
def test_the_compiled_check_costs_no_query(agency, django_assert_num_queries):
    from console.rest.whitelist import whitelist_allows

    whitelist_save(actor=Actor(), merchant=agency, enabled=True,
                   rows=[(f"10.{i}.0.0/16", "") for i in range(100)])
    agency.refresh_from_db()
    assert whitelist_allows(agency, "10.42.1.1")  # compiled once
    with django_assert_num_queries(0):  # the merchant row the call read is the key
        assert whitelist_allows(agency, "10.99.0.1")
        assert not whitelist_allows(agency, "10.100.0.1")
    agency.whitelist_enabled = False
    with django_assert_num_queries(0):
        assert whitelist_allows(agency, "10.100.0.1")


@pytest.mark.django_db
def test_the_list_is_compiled_again_only_when_its_rules_change(agency, monkeypatch):
    from console.rest import whitelist as selectors

    built = []
    real = selectors.CompiledWhitelist
    monkeypatch.setattr(selectors, "CompiledWhitelist", lambda cidrs: built.append(sorted(cidrs)) or real(cidrs))
    whitelist_save(actor=Actor(), merchant=agency, enabled=True, rows=[("203.0.113.0/24", "")])
    agency.refresh_from_db()
    for _ in range(3):
        assert selectors.whitelist_allows(agency, "203.0.113.1")
    WhitelistRule.objects.create(merchant=agency, cidr="198.51.100.0/24", position=1)
    agency.refresh_from_db()  # as each REST call reads it
    for _ in range(3):
        assert selectors.whitelist_allows(agency, "198.51.100.1")
    assert built == [["203.0.113.0/24"], ["198.51.100.0/24", "203.0.113.0/24"]]
