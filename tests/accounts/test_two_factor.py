"""Two-factor login: services, the login step, merchant and staff policy, settings, admin."""

import base64
import re
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP

from accounts.two_factor import middleware as tfm
from accounts.two_factor import policy as tfp
from accounts.two_factor import services as tf
from console.models import AuditEvent, RecoveryCode, TwoFactorDevice
from console.models import two_factor as tfd
from console.tenancy.audit import SYSTEM, Actor
from console.tenancy.crypto import decrypt_text
from tests.factories import TEST_PASSWORD, OperatorFactory, make_member, make_merchant

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ENROL = "/accounts/two-factor/set-up/"
VERIFY = "/accounts/two-factor/verify/"
RECOVER = "/accounts/two-factor/recover/"
SETTINGS = "/accounts/two-factor/"
REGENERATE = "/accounts/two-factor/recovery-codes/"
TURN_OFF = "/accounts/two-factor/turn-off/"
WRONG = "That code is not right"
RECOVERY_CODE_RE = re.compile(r"^[a-z2-7]{4}(-[a-z2-7]{4}){3}$")


# --- helpers -------------------------------------------------------------------------


def key_bytes(key_base32: str) -> bytes:
    return base64.b32decode(key_base32 + "=" * (-len(key_base32) % 8))


def code(key: bytes, steps: int = 0) -> str:
    """The app's code ``steps`` time steps from now."""
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps
    return f"{totp.token():06d}"


def wrong_code(key: bytes) -> str:
    right = {code(key, s) for s in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 7919)) if c not in right)


def enrol(operator, actor=SYSTEM):
    device, key32, _url = tf.enrolment_start(operator)
    key = key_bytes(key32)
    codes = tf.enrolment_confirm(actor=actor, device=device, token=code(key))
    device.refresh_from_db()
    return device, key, codes


def fresh(device):
    """Forget the last step used and any throttling, as if time had passed."""
    TwoFactorDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()


def unthrottle(device):
    TwoFactorDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(days=1)
    )
    device.refresh_from_db()


def log_in(client, operator, next_url=None):
    data = {"username": operator.email, "password": TEST_PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(LOGIN, data)
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def location(response) -> str:
    return response["Location"]


def all_text(model) -> str:
    """Every column of every row of ``model``'s table, as text (raw SQL, no model code)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {model._meta.db_table}")
        return "\n".join(" ".join(str(v) for v in row) for row in cursor.fetchall())


@pytest.fixture
def member(agency):
    return make_member(agency, "manager")


# --- services ---------------------------------------------------------------------------


def test_enrol_with_the_right_code_confirms_and_gives_ten_recovery_codes(member):
    device, key32, url = tf.enrolment_start(member)
    assert not device.confirmed
    assert url.startswith("otpauth://totp/PG%20Console:") and f"secret={key32}" in url
    assert "issuer=PG%20Console" in url and member.email in url
    assert len(key_bytes(key32)) == 20
    codes = tf.enrolment_confirm(actor=SYSTEM, device=device, token=code(key_bytes(key32)))
    device.refresh_from_db()
    assert device.confirmed and device.last_used_at is not None
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(RECOVERY_CODE_RE.match(c) for c in codes)
    assert device.recovery_codes.filter(used_at__isnull=True).count() == 10


def test_a_wrong_code_is_refused_with_a_clear_message(member):
    device, key32, _ = tf.enrolment_start(member)
    with pytest.raises(ValidationError) as caught:
        tf.enrolment_confirm(actor=SYSTEM, device=device, token=wrong_code(key_bytes(key32)))
    assert caught.value.code == "invalid"
    assert WRONG in caught.value.messages[0] and "clock" in caught.value.messages[0]
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 1  # the failure was kept though the call raised
    assert not RecoveryCode.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="two_factor").exists()


def test_codes_of_the_steps_around_now_work_but_never_twice(member):
    device, key, _codes = enrol(member)  # spent the current step
    now_code = code(key)
    assert not tfd.totp_verify(device, now_code)  # replay
    assert not tfd.totp_verify(device, code(key, -1))  # older than the last one used
    unthrottle(device)
    assert tfd.totp_verify(device, code(key, 1))  # the next step is within tolerance
    assert not tfd.totp_verify(device, code(key, 1))  # ... once
    fresh(device)
    assert not tfd.totp_verify(device, code(key, 3))  # too far ahead
    unthrottle(device)
    assert tfd.totp_verify(device, code(key, -1))  # one step behind is tolerated
    assert tfd.totp_verify(device, f"{code(key, 0)[:3]} {code(key, 0)[3:]}")  # spaces are fine


def test_verify_token_is_the_django_otp_entry_point(member):
    device, key, _codes = enrol(member)
    fresh(device)
    assert device.verify_token(code(key))
    assert not device.verify_token(code(key))


def test_failures_throttle_the_device(member):
    device, key, _codes = enrol(member)
    fresh(device)
    with pytest.raises(ValidationError):
        tf.code_check(device=device, token=wrong_code(key))
    # Even the right code waits now.
    with pytest.raises(ValidationError) as caught:
        tf.code_check(device=device, token=code(key))
    assert caught.value.code == "throttled"
    assert re.search(r"Too many attempts\. Wait \d+ seconds? and try again\.", caught.value.messages[0])
    assert not tfd.totp_verify(device, code(key))  # the low-level check refuses too
    # Each failure doubles the wait: 1, 2, 4, 8 ... seconds.
    for _ in range(3):
        unthrottle(device)
        assert not tfd.totp_verify(device, wrong_code(key))
    device.refresh_from_db()
    assert device.throttling_failure_count == 4
    assert 7 <= tf.throttle_wait_seconds(device) <= 8
    unthrottle(device)
    tf.code_check(device=device, token=code(key))
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_malformed_codes_are_refused_without_counting_as_a_guess(member):
    device, key, _codes = enrol(member)
    for token in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "1" * 10_000, None, 12.5, b"123456"):
        assert not tfd.totp_verify(device, token)
        with pytest.raises(ValidationError) as caught:
            tf.code_check(device=device, token=token)
        assert caught.value.code == "format"
        assert "6-digit code" in caught.value.messages[0]
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_recovery_code_works_once(member):
    device, _key, codes = enrol(member)
    assert tfd.recovery_code_use(device, codes[0])
    assert not tfd.recovery_code_use(device, codes[0])
    unthrottle(device)
    # Case, spaces and hyphens do not matter.
    assert tfd.recovery_code_use(device, "  " + codes[1].upper().replace("-", " ") + " ")
    unthrottle(device)
    assert tf.recovery_code_check(device=device, code=codes[2].replace("-", "")) == 7
    assert device.recovery_codes.filter(used_at__isnull=False).count() == 3


def test_recovery_codes_are_throttled_like_codes(member):
    device, _key, codes = enrol(member)
    with pytest.raises(ValidationError) as caught:
        tf.recovery_code_check(device=device, code="aaaa-bbbb-cccc-dddd")
    assert caught.value.code == "invalid" and "used already" in caught.value.messages[0]
    with pytest.raises(ValidationError) as caught:
        tf.recovery_code_check(device=device, code=codes[0])
    assert caught.value.code == "throttled"
    assert not device.recovery_codes.filter(used_at__isnull=False).exists()
    for bad in ("", "abcd", "not a code at all!", "x" * 100_000):
        with pytest.raises(ValidationError) as caught:
            tf.recovery_code_check(device=device, code=bad)
        assert caught.value.code == "format"


def _at_once(*calls):
    """Run the calls at the same moment in separate threads (separate connections)."""
    import threading

    barrier, results = threading.Barrier(len(calls)), []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(results)


@pytest.mark.django_db(transaction=True)
def test_the_same_code_or_recovery_code_spent_twice_at_once_works_once():
    operator = make_member(make_merchant("Race Co"), "owner")
    device, key, codes = enrol(operator)
    fresh(device)
    token = code(key)
    assert _at_once(*[
        (lambda: tfd.totp_verify(TwoFactorDevice.objects.get(pk=device.pk), token)) for _ in range(2)
    ]) == [False, True]
    fresh(device)
    assert _at_once(*[
        (lambda: tfd.recovery_code_use(TwoFactorDevice.objects.get(pk=device.pk), codes[0]))
        for _ in range(2)
    ]) == [False, True]
    assert device.recovery_codes.filter(used_at__isnull=False).count() == 1


def test_an_unconfirmed_device_takes_no_recovery_code(member):
    device, _key32, _ = tf.enrolment_start(member)
    RecoveryCode.objects.create(device=device, code_hash=tfd.recovery_hash("a" * 16))
    assert not tfd.recovery_code_use(device, "a" * 16)


def test_neither_the_key_nor_the_recovery_codes_are_stored_in_clear(member):
    device, key32, _ = tf.enrolment_start(member)
    key = key_bytes(key32)
    codes = tf.enrolment_confirm(actor=Actor(user=member, ip="192.0.2.1"), device=device, token=code(key))
    stored = all_text(TwoFactorDevice) + all_text(RecoveryCode) + all_text(AuditEvent)
    for secret in (key32, key32.lower(), key.hex(), key.hex().upper(), base64.b64encode(key).decode()):
        assert secret not in stored
    for recovery in codes:
        assert recovery not in stored and recovery.replace("-", "") not in stored
    # What is stored is the Fernet token of the key, and SHA-256 hashes of the codes.
    device.refresh_from_db()
    assert bytes.fromhex(decrypt_text(device.key_encrypted)) == key
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in RecoveryCode.objects.values_list("code_hash", flat=True))


def test_a_new_set_up_replaces_an_unfinished_one_and_keeps_the_working_one(member):
    first, _key, old_codes = enrol(member)
    pending, _, _ = tf.enrolment_start(member)
    again, key32, _ = tf.enrolment_start(member)
    assert not TwoFactorDevice.objects.filter(pk=pending.pk).exists()
    assert TwoFactorDevice.objects.filter(pk=first.pk, confirmed=True).exists()  # still in use
    new_codes = tf.enrolment_confirm(actor=SYSTEM, device=again, token=code(key_bytes(key32)))
    assert list(TwoFactorDevice.objects.filter(user=member).values_list("pk", flat=True)) == [again.pk]
    again.refresh_from_db()
    assert not tfd.recovery_code_use(again, old_codes[0])
    unthrottle(again)
    assert tfd.recovery_code_use(again, new_codes[0])


def test_confirming_twice_is_refused(member):
    device, key, _codes = enrol(member)
    with pytest.raises(ValidationError):
        tf.enrolment_confirm(actor=SYSTEM, device=device, token=code(key, 1))


def test_regenerating_recovery_codes_needs_a_current_code(member, agency):
    device, key, old_codes = enrol(member)
    fresh(device)
    with pytest.raises(ValidationError) as caught:
        tf.recovery_codes_regenerate(actor=SYSTEM, device=device, token=wrong_code(key))
    assert caught.value.code == "invalid"
    assert device.recovery_codes.count() == 10
    unthrottle(device)
    new_codes = tf.recovery_codes_regenerate(actor=Actor(user=member), device=device, token=code(key))
    assert set(new_codes).isdisjoint(old_codes)
    assert not tfd.recovery_code_use(device, old_codes[0])
    unthrottle(device)
    assert tfd.recovery_code_use(device, new_codes[0])
    event = AuditEvent.objects.get(action="two_factor.recovery_codes")
    assert (event.merchant, event.actor, event.changed_fields) == (agency, member, ["recovery_codes"])


def test_audit_rows_name_the_operator_once_per_merchant_and_hold_no_secret(agency, other_merchant):
    operator = make_member(agency, "admin")
    make_member(other_merchant, "viewer", operator=operator)
    staff = OperatorFactory(is_staff=True)
    _device, key, codes = enrol(operator, actor=Actor(user=operator, ip="198.51.100.7"))
    assert tf.two_factor_reset(actor=Actor(user=staff, ip="198.51.100.8"), operator=operator)
    assert not TwoFactorDevice.objects.filter(user=operator).exists()
    assert not RecoveryCode.objects.exists()
    events = AuditEvent.objects.filter(action__startswith="two_factor").order_by("action", "merchant__name")
    rows = [(e.action, e.merchant, e.actor, e.target_repr, e.target_type, e.changed_fields) for e in events]
    fields = ["recovery_codes", "two_factor_device"]
    assert rows == [
        ("two_factor.enrol", agency, operator, operator.email, "console.operator", fields),
        ("two_factor.enrol", other_merchant, operator, operator.email, "console.operator", fields),
        ("two_factor.reset", agency, staff, operator.email, "console.operator", fields),
        ("two_factor.reset", other_merchant, staff, operator.email, "console.operator", fields),
    ]
    text = all_text(AuditEvent)
    assert key.hex() not in text and base64.b32encode(key).decode().rstrip("=") not in text
    assert not any(c in text or c.replace("-", "") in text for c in codes)


def test_an_operator_without_merchants_gets_one_row_without_a_merchant():
    staff = OperatorFactory(is_staff=True)
    enrol(staff)
    event = AuditEvent.objects.get(action="two_factor.enrol")
    assert event.merchant is None and event.target_id == str(staff.pk)


def test_resetting_nothing_records_nothing(member):
    assert not tf.two_factor_reset(actor=SYSTEM, operator=member)
    assert not AuditEvent.objects.filter(action="two_factor.reset").exists()


# --- policy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "required"),
    [("owner", True), ("admin", True), ("manager", False), ("developer", False), ("viewer", False)],
)
def test_a_merchant_requires_it_of_owners_and_admins_only(agency, role, required):
    operator = make_member(agency, role)
    assert not tfp.two_factor_required(operator)
    agency.require_two_factor = True
    agency.save(update_fields=["require_two_factor"])
    assert tfp.two_factor_required(operator) is required
    assert bool(tfp.two_factor_required_by(operator)) is required


def test_a_sub_merchant_policy_reaches_its_agencys_owners_and_admins(agency, sub_merchant):
    owner = make_member(agency, "owner")
    sub_manager = make_member(sub_merchant, "manager")
    sub_merchant.require_two_factor = True
    sub_merchant.save(update_fields=["require_two_factor"])
    assert tfp.two_factor_required(owner)
    assert "Acme Seoul" in tfp.two_factor_required_by(owner)
    assert not tfp.two_factor_required(sub_manager)


def test_staff_need_it_only_with_the_setting(settings):
    staff = OperatorFactory(is_staff=True)
    settings.PGCONSOLE_STAFF_REQUIRE_2FA = False
    assert not tfp.two_factor_required(staff)
    settings.PGCONSOLE_STAFF_REQUIRE_2FA = True
    assert tfp.two_factor_required(staff)
    assert not tfp.two_factor_required(OperatorFactory())


@pytest.fixture
def strict_agency(agency):
    agency.require_two_factor = True
    agency.save(update_fields=["require_two_factor"])
    return agency


def test_policy_sends_an_owner_to_set_up_at_next_login_and_nowhere_else(client, strict_agency):
    owner = make_member(strict_agency, "owner")
    overview = reverse("console:overview", kwargs={"merchant_code": strict_agency.code})
    login = log_in(client, owner)
    assert login["Location"] == "/"
    for url in ("/", overview, reverse("channels:list", kwargs={"merchant_code": strict_agency.code}),
                reverse("console:audit_log", kwargs={"merchant_code": strict_agency.code}),
                SETTINGS, TURN_OFF, "/admin/", "/accounts/password_change/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert location(response).startswith(ENROL), url
    assert location(client.get(overview)) == f"{ENROL}?next=%2Fm%2F{strict_agency.code}%2F"
    assert location(client.post(overview)) == ENROL  # no next for a POST
    # What stays reachable: the step itself, the language, health, static files, log out.
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/static/js/console.js").status_code == 200
    assert client.post(reverse("set_language"), {"language": "en", "next": ENROL})["Location"] == ENROL
    # The REST API answers as ever (it knows nothing of sessions).
    rest = client.post("/users/getToken", {"imp_key": "x", "imp_secret": "y"}, content_type="application/json")
    assert rest.status_code == 401
    # The verify page has nothing to ask: it sends them on to set up.
    assert location(client.get(VERIFY)).startswith(ENROL)

    page = client.get(f"{ENROL}?next={overview}")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert "requires two-factor login" in html
    assert 'src="data:image/svg+xml;base64,' in html
    key32 = re.search(r'id="setup-key" value="([A-Z2-7]+)"', html).group(1)
    device = TwoFactorDevice.objects.get(user=owner)
    assert bytes.fromhex(decrypt_text(device.key_encrypted)) == key_bytes(key32)
    session_before = client.session.session_key

    bad = client.post(ENROL, {"code": wrong_code(key_bytes(key32)), "next": overview})
    assert bad.status_code == 400 and WRONG in bad.content.decode()
    assert key32 in bad.content.decode()  # the same key, to try again
    unthrottle(device)

    posted = client.post(ENROL, {"code": code(key_bytes(key32)), "next": overview})
    assert posted.status_code == 302 and location(posted) == SETTINGS  # post/redirect/get
    done = client.get(SETTINGS)
    assert done.status_code == 200 and "no-store" in done["Cache-Control"]
    html = done.content.decode()
    shown = re.findall(r"\b[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}\b", html)
    assert len(set(shown)) == 10
    assert f'href="{overview}"' in html  # "I have saved them — continue"
    assert client.session.session_key != session_before
    assert client.get(overview).status_code == 200
    assert client.get(SETTINGS).status_code == 200


def test_logging_out_is_allowed_while_a_step_is_owed(client, strict_agency):
    owner = make_member(strict_agency, "owner")
    log_in(client, owner)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and location(response) == LOGIN
    assert location(client.get("/")).startswith(LOGIN)


def test_the_policy_waits_for_the_next_login(client, agency):
    owner = make_member(agency, "owner")
    overview = reverse("console:overview", kwargs={"merchant_code": agency.code})
    log_in(client, owner)
    agency.require_two_factor = True
    agency.save(update_fields=["require_two_factor"])
    assert client.get(overview).status_code == 200
    client.post("/accounts/logout/")
    log_in(client, owner)
    assert location(client.get(overview)).startswith(ENROL)


@pytest.mark.parametrize("role", ["manager", "developer", "viewer"])
def test_other_roles_are_not_asked(client, strict_agency, role):
    operator = make_member(strict_agency, role)
    log_in(client, operator)
    overview = reverse("console:overview", kwargs={"merchant_code": strict_agency.code})
    assert location(client.get("/")) == overview
    assert client.get(overview).status_code == 200


def test_a_policy_lifted_after_login_no_longer_holds_the_session(client, strict_agency):
    owner = make_member(strict_agency, "owner")
    log_in(client, owner)
    strict_agency.require_two_factor = False
    strict_agency.save(update_fields=["require_two_factor"])
    overview = reverse("console:overview", kwargs={"merchant_code": strict_agency.code})
    assert location(client.get(overview)).startswith(ENROL)
    page = client.get(location(client.get(overview)))
    assert page.status_code == 200 and "requires two-factor login" not in page.content.decode()
    assert client.get(overview).status_code == 200


def test_enrolling_cannot_skip_the_code_of_an_existing_device(client, member):
    device, key, _codes = enrol(member)
    log_in(client, member)
    response = client.get(ENROL)
    assert location(response).startswith(VERIFY)
    response = client.post(ENROL, {"code": "123456"})
    assert location(response).startswith(VERIFY)
    assert list(TwoFactorDevice.objects.filter(user=member)) == [device]


def test_a_session_owing_nothing_costs_the_middleware_no_query(django_assert_num_queries):
    request = RequestFactory().get("/")
    request.session = {}
    middleware = tfm.TwoFactorMiddleware(lambda r: None)
    with django_assert_num_queries(0):
        assert middleware.process_view(request, None, (), {}) is None


# --- staff ----------------------------------------------------------------------------------


def admin_log_in(client, staff):
    response = client.post("/admin/login/?next=/admin/",
                           {"username": staff.email, "password": TEST_PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    return response


def test_staff_with_the_setting_set_up_two_factor_before_the_admin(client, settings):
    settings.PGCONSOLE_STAFF_REQUIRE_2FA = True
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    admin_log_in(client, staff)
    response = client.get("/admin/")
    assert location(response) == f"{ENROL}?next=%2Fadmin%2F"
    client.get(ENROL)
    key = tfd.device_key(TwoFactorDevice.objects.get(user=staff))
    done = client.post(ENROL, {"code": code(key), "next": "/admin/"}, follow=True)
    assert done.redirect_chain == [(SETTINGS, 302)] and done.status_code == 200
    assert 'href="/admin/"' in done.content.decode()  # "I have saved them — continue"
    assert client.get("/admin/").status_code == 200

    # Next time: the code, then the admin.
    client.post("/accounts/logout/")
    admin_log_in(client, staff)
    assert location(client.get("/admin/")).startswith(VERIFY)
    response = client.post(VERIFY, {"code": code(key, 1), "next": "/admin/"})
    assert location(response) == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_with_the_setting_an_unverified_staff_session_is_not_let_into_the_admin(client, settings):
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)  # logged in before the setting was turned on
    settings.PGCONSOLE_STAFF_REQUIRE_2FA = True
    response = client.get("/admin/")
    assert response.status_code == 302 and location(response).startswith("/admin/login/")


def test_without_the_setting_staff_reach_the_admin_with_a_password(client, settings):
    settings.PGCONSOLE_STAFF_REQUIRE_2FA = False
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    admin_log_in(client, staff)
    assert client.get("/admin/").status_code == 200


def test_staff_reset_an_operators_two_factor_from_the_admin(client, agency):
    operator = make_member(agency, "owner")
    device, key, codes = enrol(operator)
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    change = client.get(reverse("admin:console_operator_change", args=[operator.pk]))
    html = change.content.decode()
    assert "On since" in html and "10 recovery codes left" in html
    assert base64.b32encode(key).decode().rstrip("=") not in html and key.hex() not in html
    response = client.post(
        reverse("admin:console_operator_changelist"),
        {"action": "reset_two_factor", "_selected_action": [operator.pk]},
        follow=True,
    )
    assert "Two-factor login reset for 1 operator." in response.content.decode()
    assert not TwoFactorDevice.objects.filter(user=operator).exists()
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert (event.actor, event.merchant, event.target_id) == (staff, agency, str(operator.pk))
    # Their next login asks for no code (and, with no policy, for no set-up).
    client.post("/accounts/logout/")
    log_in(client, operator)
    assert location(client.get("/")) == reverse("console:overview", kwargs={"merchant_code": agency.code})


# --- the login step ---------------------------------------------------------------------


@pytest.fixture
def enrolled(member):
    device, key, codes = enrol(member)
    fresh(device)
    return member, device, key, codes


def test_with_a_device_every_page_asks_for_the_code_first(client, agency, enrolled):
    operator, device, key, _codes = enrolled
    overview = reverse("console:overview", kwargs={"merchant_code": agency.code})
    log_in(client, operator)
    response = client.get(overview)
    assert location(response) == f"{VERIFY}?next=%2Fm%2F{agency.code}%2F"
    assert location(client.get(SETTINGS)).startswith(VERIFY)
    page = client.get(location(response))
    assert page.status_code == 200 and "Use a recovery code instead" in page.content.decode()

    bad = client.post(VERIFY, {"code": wrong_code(key), "next": overview})
    assert bad.status_code == 400
    assert "That code is not right. Check that your device&#x27;s clock is correct" in bad.content.decode()
    throttled = client.post(VERIFY, {"code": code(key), "next": overview})
    assert throttled.status_code == 429 and "Too many attempts" in throttled.content.decode()
    unthrottle(device)

    session_before = client.session.session_key
    good = client.post(VERIFY, {"code": code(key), "next": overview})
    assert location(good) == overview
    assert client.session.session_key != session_before  # a new session key after the step
    assert client.get(overview).status_code == 200
    assert client.get(VERIFY).status_code == 302  # nothing left to verify


def test_a_recovery_code_logs_in_once(client, agency, enrolled):
    operator, device, _key, codes = enrolled
    log_in(client, operator)
    response = client.post(RECOVER, {"recovery_code": codes[3].upper(), "next": "/"}, follow=True)
    assert response.status_code == 200
    assert "You used a recovery code: 9 are left." in response.content.decode()
    assert response.redirect_chain[-1][0].endswith(f"/m/{agency.code}/")

    client.post("/accounts/logout/")
    unthrottle(device)
    log_in(client, operator)
    again = client.post(RECOVER, {"recovery_code": codes[3], "next": "/"})
    assert again.status_code == 400
    assert "That recovery code is not right, or it has been used already." in again.content.decode()
    assert location(client.get("/")).startswith(VERIFY)


def test_an_unsafe_next_is_ignored(client, enrolled):
    operator, _device, key, _codes = enrolled
    log_in(client, operator)
    response = client.post(VERIFY, {"code": code(key), "next": "https://evil.example/"})
    assert location(response) == "/"


def test_a_fresh_login_must_verify_again_in_the_same_browser(client, agency, enrolled):
    operator, device, key, _codes = enrolled
    log_in(client, operator)
    client.post(VERIFY, {"code": code(key)})
    client.force_login(operator)  # a new login within the same session keeps its data ...
    overview = reverse("console:overview", kwargs={"merchant_code": agency.code})
    assert location(client.get(overview)).startswith(VERIFY)  # ... but not the verification


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in (SETTINGS, ENROL, VERIFY, RECOVER):
        assert location(client.get(url)).startswith(LOGIN)


def test_the_verify_page_without_a_device_goes_home(client, member):
    client.force_login(member)
    assert location(client.get(VERIFY + "?next=/")) == "/"


def test_a_reset_while_owing_the_code_sends_on_or_to_set_up(client, strict_agency):
    owner = make_member(strict_agency, "owner")
    enrol(owner)
    log_in(client, owner)
    tf.two_factor_reset(actor=SYSTEM, operator=owner)
    assert location(client.get(VERIFY)).startswith(ENROL)


# --- the settings page --------------------------------------------------------------------


def test_settings_page_shows_the_status(client, member):
    client.force_login(member)
    html = client.get(SETTINGS).content.decode()
    assert "Off" in html and "Set up two-factor login" in html
    device, key, codes = enrol(member)
    tfd.recovery_code_use(device, codes[0])
    client.force_login(member)
    log_in(client, member)
    fresh(device)
    client.post(VERIFY, {"code": code(key)})
    html = client.get(SETTINGS).content.decode()
    assert "On" in html and re.search(r"Recovery codes left</dt>\s*<dd[^>]*>9", html)
    assert "Turn off two-factor login" in html and "Regenerate recovery codes" in html


def test_settings_page_says_who_requires_it(client, agency):
    owner = make_member(agency, "owner")
    log_in(client, owner)
    agency.require_two_factor = True  # switched on while they were logged in
    agency.save(update_fields=["require_two_factor"])
    html = client.get(SETTINGS).content.decode()
    assert "The merchant Acme Agency requires two-factor login of you: set it up now." in html


def test_console_user_menu_links_to_two_factor(client, agency, owner):
    client.force_login(owner)
    html = client.get(reverse("console:overview", kwargs={"merchant_code": agency.code})).content.decode()
    assert f'href="{SETTINGS}"' in html and "Two-factor login" in html


def test_regenerate_from_the_settings_page(client, enrolled):
    operator, device, key, old_codes = enrolled
    log_in(client, operator)
    client.post(VERIFY, {"code": code(key)})
    bad = client.post(REGENERATE, {"code": "12345"})
    assert bad.status_code == 400 and "6-digit code" in bad.content.decode()
    posted = client.post(REGENERATE, {"code": code(key, 1)})
    assert posted.status_code == 302 and location(posted) == SETTINGS  # post/redirect/get
    response = client.get(SETTINGS)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    shown = re.findall(r"\b[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}\b", response.content.decode())
    assert len(set(shown)) == 10 and set(shown).isdisjoint(old_codes)
    assert AuditEvent.objects.filter(action="two_factor.recovery_codes").count() == 1


def test_turning_off_needs_the_password(client, agency, enrolled):
    operator, device, key, _codes = enrolled
    log_in(client, operator)
    client.post(VERIFY, {"code": code(key)})
    bad = client.post(TURN_OFF, {"password": "not-my-password"})
    assert bad.status_code == 400 and "That password is not right." in bad.content.decode()
    assert TwoFactorDevice.objects.filter(pk=device.pk).exists()
    empty = client.post(TURN_OFF, {})
    assert empty.status_code == 400 and "Enter your current password." in empty.content.decode()
    # Wrong passwords throttle, so this form cannot be used to guess one.
    throttled = client.post(TURN_OFF, {"password": TEST_PASSWORD})
    assert throttled.status_code == 429 and "Too many attempts" in throttled.content.decode()
    assert TwoFactorDevice.objects.filter(pk=device.pk).exists()
    unthrottle(device)
    done = client.post(TURN_OFF, {"password": TEST_PASSWORD}, follow=True)
    assert "Two-factor login is off." in done.content.decode()
    assert not TwoFactorDevice.objects.filter(user=operator).exists()
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert (event.actor, event.merchant) == (operator, agency)
    # Next login: no code asked.
    client.post("/accounts/logout/")
    log_in(client, operator)
    assert not location(client.get("/")).startswith(VERIFY)


def test_turning_off_is_refused_when_a_merchant_requires_it(client, strict_agency):
    owner = make_member(strict_agency, "owner")
    device, key, _codes = enrol(owner)
    fresh(device)
    log_in(client, owner)
    client.post(VERIFY, {"code": code(key)})
    page = client.get(SETTINGS).content.decode()
    assert "You cannot turn two-factor login off: the merchant Acme Agency requires it." in page
    response = client.post(TURN_OFF, {"password": TEST_PASSWORD})
    assert response.status_code == 403
    assert "You cannot turn two-factor login off: the merchant Acme Agency requires it." in response.content.decode()
    assert TwoFactorDevice.objects.filter(pk=device.pk).exists()


def test_turning_off_from_an_unverified_session_asks_for_a_code(client, enrolled):
    operator, device, _key, _codes = enrolled
    client.force_login(operator)
    request_session = client.session
    request_session.pop(tfp.SESSION_OWED, None)  # e.g. a session begun before the set-up
    request_session.save()
    response = client.post(TURN_OFF, {"password": TEST_PASSWORD})
    assert location(response).startswith(VERIFY)
    assert TwoFactorDevice.objects.filter(pk=device.pk).exists()


# --- bad input: always a 4xx with a message, never a 500 ---------------------------------


# A NUL never reaches these pages: console.tenancy.inputs refuses it first (test_faults_unstorable_text).
BAD_CODES = ["", "   ", "abcdef", "12345", "1234567", "12345678901234567890", "١٢٣٤٥٦", "12345x",
             "<script>", "x" * 200_000, "0" * 64, "%00"]


@pytest.mark.parametrize("bad", BAD_CODES, ids=lambda v: repr(v[:12]))
def test_bad_codes_get_a_clear_message_and_a_4xx(client, enrolled, bad):
    operator, device, key, _codes = enrolled
    log_in(client, operator)
    response = client.post(VERIFY, {"code": bad})
    assert response.status_code == 400
    assert "Enter the 6-digit code your authenticator app shows" in response.content.decode()
    response = client.post(RECOVER, {"recovery_code": bad})
    assert response.status_code == 400
    assert "Enter one of your recovery codes" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


@pytest.mark.parametrize("bad", BAD_CODES, ids=lambda v: repr(v[:12]))
def test_bad_codes_at_set_up_and_regenerate_get_a_4xx(client, member, bad):
    client.force_login(member)
    client.get(ENROL)
    response = client.post(ENROL, {"code": bad})
    assert response.status_code == 400 and "6-digit code" in response.content.decode()
    device, key, _codes = enrol(member)
    fresh(device)
    log_in(client, member)
    client.post(VERIFY, {"code": code(key)})
    response = client.post(REGENERATE, {"code": bad})
    assert response.status_code == 400 and "6-digit code" in response.content.decode()


def test_missing_fields_and_wrong_methods_are_4xx(client, enrolled):
    operator, _device, _key, _codes = enrolled
    log_in(client, operator)
    assert client.post(VERIFY, {}).status_code == 400
    assert client.post(RECOVER, {}).status_code == 400
    assert client.put(VERIFY).status_code == 405
    assert client.post(f"{VERIFY}?next=" + "a" * 5000, {"code": "1"}).status_code == 400


def test_post_only_pages_refuse_get(client, member):
    client.force_login(member)
    assert client.get(REGENERATE).status_code == 405
    assert client.get(TURN_OFF).status_code == 405


def test_a_set_up_that_went_away_starts_again(client, member):
    client.force_login(member)
    client.get(ENROL)
    TwoFactorDevice.objects.filter(user=member).delete()
    response = client.post(ENROL, {"code": "123456"})
    assert response.status_code == 400 and "This set-up expired" in response.content.decode()
    assert TwoFactorDevice.objects.filter(user=member, confirmed=False).count() == 1


def test_the_pages_carry_no_inline_script_or_style(client, enrolled):
    operator, _device, key, _codes = enrolled
    log_in(client, operator)
    pages = [client.get(VERIFY), client.get(RECOVER)]
    client.post(VERIFY, {"code": code(key)})
    pages += [client.get(SETTINGS), client.post(REGENERATE, {"code": code(key, 1)}, follow=True), client.get(ENROL)]
    assert "Your recovery codes" in pages[-2].content.decode()
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
            assert "src=" in attrs and not body.strip(), attrs
        assert not re.search(r"\sstyle=", html)
        assert not re.search(r"\son[a-z]+=", html)
