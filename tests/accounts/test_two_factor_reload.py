"""Recovery codes are shown once, after a redirect: reloading the page that showed them
shows them no more and makes no new ones (post/redirect/get)."""

import re

import pytest

from accounts.two_factor.views import SHOWN_CODES
from console.models import AuditEvent, TwoFactorDevice
from console.models import two_factor as tfd
from tests.accounts.test_two_factor import (
    ENROL,
    REGENERATE,
    SETTINGS,
    VERIFY,
    code,
    enrol,
    fresh,
    key_bytes,
    location,
    log_in,
)
from tests.factories import make_member

pytestmark = pytest.mark.django_db

CODE_RE = re.compile(r"\b[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}\b")


def shown_codes(response) -> set[str]:
    return set(CODE_RE.findall(response.content.decode()))


def test_a_reload_after_enrolment_shows_the_settings_not_the_codes(client, agency):
    operator = make_member(agency, "admin")
    client.force_login(operator)
    html = client.get(ENROL).content.decode()
    key = key_bytes(re.search(r'id="setup-key" value="([A-Z2-7]+)"', html).group(1))
    posted = client.post(ENROL, {"code": code(key)})
    assert posted.status_code == 302 and location(posted) == SETTINGS and not posted.content
    kept = client.session[SHOWN_CODES]

    page = client.get(SETTINGS)
    codes = shown_codes(page)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"] and len(codes) == 10
    assert not any(c in kept for c in codes)  # the session kept them encrypted
    assert SHOWN_CODES not in client.session  # taken out by the first GET
    device = TwoFactorDevice.objects.get(user=operator, confirmed=True)
    assert tfd.recovery_code_use(device, sorted(codes)[0])  # the codes shown are the ones that work

    reload = client.get(SETTINGS)  # F5 on the page that showed them
    assert reload.status_code == 200 and shown_codes(reload) == set()
    assert "Recovery codes left" in reload.content.decode()
    assert TwoFactorDevice.objects.filter(user=operator).count() == 1
    assert AuditEvent.objects.filter(action="two_factor.enrol").count() == 1
    assert device.recovery_codes.filter(used_at__isnull=True).count() == 9


def test_a_reload_after_regenerating_makes_no_new_codes(client, agency):
    operator = make_member(agency, "manager")
    device, key, _codes = enrol(operator)
    fresh(device)
    log_in(client, operator)
    client.post(VERIFY, {"code": code(key)})
    posted = client.post(REGENERATE, {"code": code(key, 1)})
    assert posted.status_code == 302 and location(posted) == SETTINGS
    codes = shown_codes(client.get(SETTINGS))
    assert len(codes) == 10

    reload = client.get(SETTINGS)
    assert reload.status_code == 200 and shown_codes(reload) == set()
    assert AuditEvent.objects.filter(action="two_factor.recovery_codes").count() == 1
    device.refresh_from_db()
    assert device.recovery_codes.filter(used_at__isnull=True).count() == 10
    assert tfd.recovery_code_use(device, sorted(codes)[0])  # the codes shown are the ones that work


def test_another_login_in_the_same_browser_sees_no_kept_codes(client, agency):
    first = make_member(agency, "manager")
    client.force_login(first)
    html = client.get(ENROL).content.decode()
    key = key_bytes(re.search(r'id="setup-key" value="([A-Z2-7]+)"', html).group(1))
    client.post(ENROL, {"code": code(key)})
    second = make_member(agency, "viewer")
    client.force_login(second)  # the same browser, another login, before the page was seen
    page = client.get(SETTINGS)
    assert page.status_code == 200 and shown_codes(page) == set()
