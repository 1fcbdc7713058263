import re

import pytest
from django.urls import reverse

from channels.models import Channel, SharedTestCredential
from channels.services import channel_credentials
from console.models import AuditEvent
from tests.factories import (
    OperatorFactory,
    make_channel,
    make_member,
    make_merchant,
    make_sub_merchant,
)

pytestmark = pytest.mark.django_db

SECRET = "kcp-site-key-NEVER-SHOWN-4321"


def url(name, merchant, **kw):
    return reverse(f"channels:{name}", kwargs={"merchant_code": merchant.code, **kw})


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def new_kcp(client, merchant, **overrides):
    data = {"mode": "live", "provider": "kcp", "module": "window_general", "pg_provider": "kcp",
            "name": "KCP card", "mid": "A52Q7", "tax_type": "unset", "cred_site_key": SECRET}
    data.update(overrides)
    return client.post(url("new", merchant), data)


def test_test_integration_has_a_card_for_every_provider(owner_client, agency):
    html = owner_client.get(url("list", agency)).content.decode()
    assert html.count('aria-label="Test integration: ') == 27
    assert "kcp.T0000" in html and "html5_inicis.INIpayTest" in html
    assert "Naver Pay gives no shared test MID" in html
    assert "No shared test MID yet: platform staff have not entered one" in html  # e.g. Paymentwall
    assert "Live integration" in html and "Add channel" in html
    assert "No live channel yet." in html


def test_add_channel_steps_update_in_place(owner_client, agency):
    base = url("new", agency)
    step1 = owner_client.get(base, HTTP_HX_REQUEST="true")
    assert step1.status_code == 200
    assert "<html" not in step1.content.decode()  # a fragment for htmx
    assert "Choose the PG whose MID you received." in step1.content.decode()
    step2 = owner_client.get(base + "?mode=live&provider=html5_inicis", HTTP_HX_REQUEST="true").content.decode()
    assert "Payment window · subscription" in step2 and "Identity verification" in step2
    step3 = owner_client.get(base + "?mode=live&provider=html5_inicis&module=window_subscription",
                             HTTP_HX_REQUEST="true").content.decode()
    assert "Sign key" in step3 and "INILite key" in step3 and "INIAPI key" in step3
    assert "<html" not in step3
    full = owner_client.get(base + "?mode=live&provider=kcp&module=window_general").content.decode()
    assert "<html" in full and "Site code *" in full and "Site key *" in full
    assert "Subscription group ID" not in full  # only for subscription modules
    bogus = owner_client.get(base + "?mode=x&provider=nope&module=zzz")
    assert bogus.status_code == 200  # unknown choices read as not chosen yet


def _wrapper_of(html, name):
    """The opening tag of the element wrapping the credential input ``name`` (data-pg-codes)."""
    found = re.search(r'(<div[^>]*>)\s*<div id="div_id_' + name + '"', html)
    assert found, name
    return found.group(1)


def test_kcp_shows_the_partner_fields_only_for_kcp_quick_and_no_stray_next(owner_client, agency):
    """Issue 22: with pg code kcp, kcp_quick's partner fields are not shown as required; the
    step form loses its Next button once the channel's own form is there."""
    html = owner_client.get(url("new", agency) + "?mode=live&provider=kcp&module=window_general").content.decode()
    assert re.search(r'<select name="pg_provider"[^>]*data-pg-code-select', html)
    for name in ("cred_partner_type", "cred_partner_subtype", "cred_partner_name"):
        assert _wrapper_of(html, name) == '<div data-pg-codes="kcp_quick" hidden>', name
    assert _wrapper_of(html, "cred_site_key") == '<div data-pg-codes="kcp kcp_quick">'  # both codes': shown
    assert ">Next</button>" not in html
    # kcp_quick chosen (the page drawn again with it, after an error): its fields show.
    quick = owner_client.post(url("new", agency), {
        "mode": "live", "provider": "kcp", "module": "window_general", "pg_provider": "kcp_quick",
        "mid": "A52Q7", "tax_type": "unset"})
    assert quick.status_code == 400
    assert _wrapper_of(quick.content.decode(), "cred_partner_type") == '<div data-pg-codes="kcp_quick">'
    # Without a form yet, Next is there for a browser without scripts.
    assert ">Next</button>" in owner_client.get(url("new", agency) + "?mode=live&provider=kcp").content.decode()
    # A kcp channel saves without the partner fields.
    assert new_kcp(owner_client, agency).status_code == 302


def test_the_successor_list_tells_channels_of_one_mid_apart_by_module(owner_client, agency):
    default = make_channel(agency, name="Main")
    from channels import services
    from console.tenancy.audit import SYSTEM

    services.channel_make_default(actor=SYSTEM, channel=default)
    for module in ("window_general", "api_keyin"):
        make_channel(agency, provider="ksnet", module=module, mid="2999199990",
                     credentials={"api_key": "ksnet-api-key-secret-0001"})
    html = owner_client.get(url("disable", agency, channel_key=default.channel_key)).content.decode()
    assert "KSNET · Payment window · general · Live · ksnet.2999199990" in html
    assert "KSNET · API · key-in · Live · ksnet.2999199990" in html


def test_add_edit_and_the_secret_never_comes_back(owner_client, agency):
    response = new_kcp(owner_client, agency)
    assert response.status_code == 302
    channel = Channel.objects.get(merchant=agency, mid="A52Q7")
    assert response["Location"].endswith(f"#{channel.channel_key}")

    pages = [url("list", agency), url("edit", agency, channel_key=channel.channel_key),
             url("delete", agency, channel_key=channel.channel_key),
             reverse("console:audit_log", kwargs={"merchant_code": agency.code})]
    for page in pages:
        html = owner_client.get(page).content.decode()
        assert SECRET not in html, page
    edit = owner_client.get(pages[1]).content.decode()
    assert 'placeholder="•••• 4321"' in edit
    assert "kcp.A52Q7" in owner_client.get(pages[0]).content.decode()

    # Save with the secret left blank: the stored one stays.
    saved = owner_client.post(pages[1], {"pg_provider": "kcp", "name": "KCP renamed", "mid": "A52Q7",
                                         "tax_type": "taxable", "cred_site_key": ""})
    assert saved.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "KCP renamed" and channel.tax_type == "taxable"
    assert channel_credentials(channel) == {"site_key": SECRET}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"mid": ""}, "Site code is required."),
     ({"cred_site_key": ""}, "Site key is required."),
     ({"mid": "TOOLONG"}, "at most 5 characters"),
     ({"mid": "A-B_C"}, "exactly 5 letters or digits"),
     ({"module": "window_simple"}, "Choose the module this MID was issued for."),
     ({"provider": "nopay"}, "Choose the PG whose MID you received."),
     ({"pg_provider": "kcp_billing"}, "Select a valid choice"),
     ({"tax_type": "maybe"}, "Select a valid choice"),
     ({"name": "x" * 61}, "at most 60 characters")],
)
def test_bad_input_on_the_form_is_a_400_with_a_message_and_nothing_saved(owner_client, agency, overrides, message):
    before = (Channel.objects.count(), AuditEvent.objects.count())
    response = new_kcp(owner_client, agency, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert SECRET not in response.content.decode()  # a refused form does not echo the secret
    assert (Channel.objects.count(), AuditEvent.objects.count()) == before


def test_duplicate_on_the_form(owner_client, agency):
    assert new_kcp(owner_client, agency).status_code == 302
    again = new_kcp(owner_client, agency, name="again")
    assert again.status_code == 400
    assert "already has a live channel for NHN KCP" in again.content.decode()
    assert Channel.objects.filter(mid="A52Q7").count() == 1


def test_card_actions(owner_client, agency):
    sub = make_sub_merchant(agency, "A01", name="Seoul")
    channel = make_channel(agency)
    key = channel.channel_key
    assert owner_client.get(url("set_enabled", agency, channel_key=key)).status_code == 405
    owner_client.post(url("set_enabled", agency, channel_key=key), {"enabled": "0"})
    owner_client.post(url("assign", agency, channel_key=key), {"assigned_to": sub.code})
    channel.refresh_from_db()
    assert (channel.enabled, channel.is_default, channel.assigned_to) == (False, False, sub)
    html = owner_client.get(url("list", agency)).content.decode()
    assert "Disabled" in html and "Seoul (A01)" in html
    # Neither disabled nor a sub-merchant's channel can be the default (tests/channels/test_default_channel.py).
    refused = owner_client.post(url("make_default", agency, channel_key=key), follow=True)
    assert "A disabled channel cannot be the default." in refused.content.decode()

    other = make_sub_merchant(make_merchant("Other"), "Z01")
    response = owner_client.post(url("assign", agency, channel_key=key), {"assigned_to": other.code},
                                 follow=True)
    assert "Choose one of this merchant&#x27;s sub-merchants." in response.content.decode()
    channel.refresh_from_db()
    assert channel.assigned_to == sub

    confirm = owner_client.get(url("delete", agency, channel_key=key))
    assert "This cannot be undone." in confirm.content.decode()
    assert Channel.objects.filter(pk=channel.pk).exists()
    owner_client.post(url("delete", agency, channel_key=key))
    assert not Channel.objects.filter(pk=channel.pk).exists()


def test_shared_test_channel_is_not_editable(owner_client, agency):
    shared = Channel.objects.filter(merchant=agency, shared_credential__isnull=False).first()
    page = owner_client.get(url("edit", agency, channel_key=shared.channel_key))
    assert "shared test credentials" in page.content.decode()
    post = owner_client.post(url("edit", agency, channel_key=shared.channel_key), {"mid": "x"})
    assert post.status_code == 409


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_read_only_roles_see_no_edit_actions(client, agency, role):
    make_channel(agency)
    client.force_login(make_member(agency, role))
    html = client.get(url("list", agency)).content.decode()
    assert "kcp." in html
    for label in ("Add channel", "Edit information", "Make default", "Delete", "Disable"):
        assert f">{label}<" not in html, label


def test_sub_merchant_sees_only_its_channels(client, agency):
    seoul, busan = make_sub_merchant(agency, "SEL"), make_sub_merchant(agency, "BSN")
    to_seoul = make_channel(agency, name="for seoul")
    to_busan = make_channel(agency, name="for busan")
    unassigned = make_channel(agency, name="agency only")
    from channels.services import channel_assign
    from console.tenancy.audit import SYSTEM
    channel_assign(actor=SYSTEM, channel=to_seoul, sub_merchant=seoul)
    channel_assign(actor=SYSTEM, channel=to_busan, sub_merchant=busan)
    client.force_login(make_member(seoul, "manager"))
    html = client.get(url("list", seoul)).content.decode()
    assert to_seoul.pg_string in html and "Assigned by Acme Agency" in html
    assert to_busan.pg_string not in html and unassigned.pg_string not in html
    # its own shared test channels are there
    assert "kcp.T0000" in html
    # an assigned channel is changed by its owner only, even by the agency's owner through the sub-merchant
    client.force_login(make_member(agency, "owner"))
    assert client.get(url("edit", seoul, channel_key=to_seoul.channel_key)).status_code == 404


def test_list_query_count_is_flat_with_200_channels(owner_client, agency, django_assert_max_num_queries):
    for sub_i in range(5):
        make_sub_merchant(agency, f"S{sub_i:02d}")
    for i in range(200):
        make_channel(agency, mid=f"{i:05d}", name=f"channel {i}")
    with django_assert_max_num_queries(12):
        response = owner_client.get(url("list", agency))
    assert response.status_code == 200
    assert "Page 1 of 17" in response.content.decode()
    with django_assert_max_num_queries(12):
        assert owner_client.get(url("list", agency) + "?page=17&provider=kcp&q=channel").status_code == 200
    assert owner_client.get(url("list", agency) + "?page=zzz").status_code == 200


def test_list_filters(owner_client, agency):
    make_channel(agency, mid="AAAAA", name="alpha")
    make_channel(agency, provider="kakaopay", module="window_simple", mid="CALPHA0001", name="beta")
    html = owner_client.get(url("list", agency) + "?provider=kakaopay").content.decode()
    assert "kakaopay.CALPHA0001" in html and "kcp.AAAAA" not in html
    html = owner_client.get(url("list", agency) + "?q=alph").content.decode()
    assert "kcp.AAAAA" in html and "kakaopay.CALPHA0001" in html  # MID matches too
    html = owner_client.get(url("list", agency) + "?q=nothing-like-this").content.decode()
    assert "No live channel matches this filter." in html


def test_naverpay_test_card_leads_to_a_test_channel_form(owner_client, agency):
    page = owner_client.get(url("new", agency) + "?mode=test&provider=naverpay&module=window_simple")
    html = page.content.decode()
    assert "Partner ID *" in html and "Client secret *" in html
    response = owner_client.post(url("new", agency), {
        "mode": "test", "provider": "naverpay", "module": "window_simple", "pg_provider": "naverpay",
        "mid": "np_partner_test", "tax_type": "unset", "cred_client_id": "cid", "cred_client_secret": "csecret-value",
    })
    assert response.status_code == 302
    html = owner_client.get(url("list", agency)).content.decode()
    assert "naverpay.np_partner_test" in html and "csecret-value" not in html


def test_admin_never_shows_or_accepts_credentials(client, agency):
    channel = make_channel(agency, credentials={"site_key": SECRET})
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    for page in (reverse("admin:pgchannels_channel_changelist"),
                 reverse("admin:pgchannels_channel_changelist") + f"?q={channel.mid}&provider=kcp&mode=live",
                 reverse("admin:pgchannels_channel_change", args=[channel.pk])):
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert SECRET not in html and channel.credentials_encrypted not in html
    assert client.get(reverse("admin:pgchannels_channel_add")).status_code == 403
    post = client.post(reverse("admin:pgchannels_channel_change", args=[channel.pk]),
                       {"credentials_encrypted": "x", "mid": "ZZZZZ"})
    assert post.status_code == 403
    channel.refresh_from_db()
    assert channel.mid != "ZZZZZ"


def test_admin_shared_credentials_are_write_only_and_reach_merchants(client, agency):
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.post(reverse("admin:pgchannels_sharedtestcredential_add"), {
        "provider": "eximbay", "module": "window_general", "pg_provider": "eximbay", "mid": "EXTEST01",
        "note": "from Eximbay", "credentials": "secret_key=eximbay-shared-secret",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    cred = SharedTestCredential.objects.get(mid="EXTEST01")
    assert Channel.objects.filter(merchant=agency, shared_credential=cred).exists()
    html = client.get(reverse("admin:pgchannels_sharedtestcredential_change", args=[cred.pk])).content.decode()
    assert "eximbay-shared-secret" not in html and "secret_key" in html
    bad = client.post(reverse("admin:pgchannels_sharedtestcredential_add"), {
        "provider": "eximbay", "module": "window_general", "mid": "EXTEST02", "credentials": "no equals sign",
    })
    assert bad.status_code == 200 and "is not key=value" in bad.content.decode()


def test_pages_have_no_inline_script(owner_client, agency):
    make_channel(agency)
    for page in (url("list", agency), url("new", agency) + "?mode=live&provider=kcp&module=window_general"):
        html = owner_client.get(page).content.decode()
        for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
            assert "src=" in attrs and not body.strip()
        assert not re.search(r"\sstyle=", html)


def test_no_secret_in_any_console_page_after_saving(owner_client, agency):
    """Walk every console URL (as the tenancy walk finds them) and the admin after saving."""
    from tests.console.test_tenancy_walk import PARAMETERS, ROUTES, VALUES

    assert new_kcp(owner_client, agency).status_code == 302
    channel = Channel.objects.get(mid="A52Q7")
    sub = make_sub_merchant(agency, "A01")
    owner_client.post(url("assign", agency, channel_key=channel.channel_key), {"assigned_to": sub.code})
    seen = 0
    for name, params, _callback in ROUTES:
        paths = set()
        for merchant in (agency, sub):
            kwargs = {p: {**PARAMETERS, **VALUES}[p](merchant) for p in params if p != "merchant_code"}
            if "channel_key" in params and merchant == agency:
                kwargs["channel_key"] = channel.channel_key
            if "merchant_code" in params:
                kwargs["merchant_code"] = merchant.code
            paths.add(reverse(name, kwargs=kwargs))
        for path in paths:
            response = owner_client.get(path, follow=True)
            body = (b"".join(response.streaming_content) if response.streaming  # the CSV export
                    else response.content).decode()
            assert SECRET not in body, path
            seen += 1
    assert seen >= 10
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    owner_client.force_login(staff)
    for path in (reverse("admin:pgchannels_channel_change", args=[channel.pk]),
                 reverse("admin:console_auditevent_changelist")):
        assert SECRET not in owner_client.get(path).content.decode()
