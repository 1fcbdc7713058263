import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import TEST_PASSWORD, OperatorFactory, make_member

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
BAD_LOGIN = "The email address or password is incorrect."
LOCKED = "Too many failed logins"


def post_login(client, email, password, ip="198.51.100.10"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_login_page_is_at_accounts_login(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert 'type="email"' in response.content.decode()


def test_good_login_goes_to_the_console(client, agency):
    user = make_member(agency, "owner")
    response = post_login(client, user.email, TEST_PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_email_is_case_insensitive(client, agency):
    user = make_member(agency, "owner")
    assert post_login(client, user.email.upper(), TEST_PASSWORD).status_code == 302


def test_wrong_password_and_unknown_account_read_the_same(client, agency):
    user = make_member(agency, "owner")
    wrong = post_login(client, user.email, "not-the-password")
    unknown = post_login(client, "nobody@example.test", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert BAD_LOGIN in wrong.content.decode()
    assert BAD_LOGIN in unknown.content.decode()


def test_inactive_account_reads_like_a_wrong_password(client):
    user = OperatorFactory(is_active=False)
    response = post_login(client, user.email, TEST_PASSWORD)
    assert BAD_LOGIN in response.content.decode()


def test_lockout_per_account_across_addresses(client, settings, agency):
    user = make_member(agency, "owner")
    for i in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, user.email, "wrong", ip=f"198.51.100.{i + 1}")
    # Even the right password, from a fresh address, is refused for now.
    response = post_login(client, user.email, TEST_PASSWORD, ip="203.0.113.77")
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED in html and "15 minutes" in html
    # Another account from that fresh address is unaffected.
    other = make_member(agency, "viewer")
    assert post_login(client, other.email, TEST_PASSWORD, ip="203.0.113.77").status_code == 302


def test_lockout_per_address_across_accounts(client, settings, agency):
    for i in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, f"guess{i}@example.test", "wrong", ip="192.0.2.66")
    user = make_member(agency, "owner")
    locked = post_login(client, user.email, TEST_PASSWORD, ip="192.0.2.66")
    assert locked.status_code == 429
    assert post_login(client, user.email, TEST_PASSWORD, ip="192.0.2.67").status_code == 302


def test_lockout_does_not_reveal_whether_the_account_exists(client, settings, agency):
    user = make_member(agency, "owner")
    for i in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, user.email, "wrong", ip=f"198.51.100.{i + 1}")
        post_login(client, "ghost@example.test", "wrong", ip=f"198.51.100.{i + 101}")
    real = post_login(client, user.email, "wrong", ip="203.0.113.1")
    ghost = post_login(client, "ghost@example.test", "wrong", ip="203.0.113.2")
    assert real.status_code == ghost.status_code == 429
    assert _normalise(real.content.decode()) == _normalise(ghost.content.decode())


def _normalise(html: str) -> str:
    """Drop what differs per response anyway: CSRF tokens and CSP nonces."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return re.sub(r'nonce="[^"]+"', "", html)


def test_logout_is_a_post(client, agency):
    user = make_member(agency, "owner")
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(LOGIN)


def test_change_password(client, agency):
    user = make_member(agency, "owner")
    client.force_login(user)
    bad = client.post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert bad.status_code == 200
    assert "Your old password was entered incorrectly" in bad.content.decode()
    good = client.post(
        "/accounts/password_change/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a-much-better-passphrase",
            "new_password2": "a-much-better-passphrase",
        },
    )
    assert good.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-much-better-passphrase")


def test_password_reset_by_email(client, agency):
    user = make_member(agency, "owner")
    response = client.post("/accounts/password_reset/", {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/accounts/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    confirm = client.get("/" + path, follow=True)
    assert confirm.status_code == 200
    set_url = confirm.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "fresh-passphrase-42", "new_password2": "fresh-passphrase-42"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("fresh-passphrase-42")


def test_password_reset_for_unknown_email_looks_the_same(client):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


# --- One account, one lock-out, whatever the casing of its email ------------------------


def _casings(email: str) -> list[str]:
    local, domain = email.split("@")
    return [email, email.upper(), f"{local.capitalize()}@{domain.upper()}",
            f"  {local.swapcase()}@{domain}  ", "".join(
                c.upper() if i % 2 else c for i, c in enumerate(email))]


def test_failures_with_one_casing_lock_every_casing(client, settings, agency):
    user = make_member(agency, "owner")
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [post_login(client, user.email, "wrong", ip=f"198.51.100.{i + 1}").status_code
                for i in range(limit)]
    assert statuses == [200] * (limit - 1) + [429]  # the last failure locks
    for j, casing in enumerate(_casings(user.email)):
        # The right password, each from a fresh address: the account itself is locked.
        response = post_login(client, casing, TEST_PASSWORD, ip=f"203.0.113.{j + 1}")
        assert response.status_code == 429, casing
        assert LOCKED in response.content.decode()


def test_failures_with_different_casings_count_together(client, settings, agency):
    user = make_member(agency, "owner")
    casings, limit = _casings(user.email), settings.AXES_FAILURE_LIMIT
    assert len(casings) >= limit
    statuses = [post_login(client, casings[i], "wrong", ip=f"198.51.100.{i + 1}").status_code
                for i in range(limit)]
    assert statuses == [200] * (limit - 1) + [429]
    assert post_login(client, user.email, TEST_PASSWORD, ip="203.0.113.50").status_code == 429


def test_admin_login_failures_count_under_the_normalised_email(client, settings):
    """The admin's login form does not normalise: django-axes does (AXES_USERNAME_CALLABLE)."""
    staff = OperatorFactory(is_staff=True, is_superuser=True)
    casings, limit = _casings(staff.email), settings.AXES_FAILURE_LIMIT
    statuses = [client.post("/admin/login/", {"username": casings[i], "password": "wrong"},
                            REMOTE_ADDR=f"198.51.100.{i + 1}").status_code for i in range(limit)]
    assert statuses == [200] * (limit - 1) + [429]
    response = client.post("/admin/login/", {"username": staff.email.upper(), "password": TEST_PASSWORD},
                           REMOTE_ADDR="203.0.113.51")
    assert response.status_code == 429


# --- Password reset mail: limited per client address and per email ----------------------

RESET = "/accounts/password_reset/"
RESET_DONE = "/accounts/password_reset/done/"


def post_reset(client, email, ip):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip)


def test_password_reset_mail_is_limited_per_client_address(client, settings, caplog):
    caplog.set_level("WARNING", logger="accounts.forms")
    limit = settings.PGCONSOLE_PASSWORD_RESET_ADDRESS_LIMIT
    users = [OperatorFactory() for _ in range(30)]
    responses = [post_reset(client, user.email, "192.0.2.150") for user in users]
    # Every answer is the usual one: nothing tells the sender it was held back.
    assert {(r.status_code, r["Location"]) for r in responses} == {(302, RESET_DONE)}
    assert len(mail.outbox) == limit
    assert [m.to for m in mail.outbox] == [[u.email] for u in users[:limit]]
    assert f"more than {limit} requests from this address" in caplog.text
    # Another address is not held back by this one.
    other = OperatorFactory()
    assert post_reset(client, other.email, "192.0.2.151")["Location"] == RESET_DONE
    assert len(mail.outbox) == limit + 1 and mail.outbox[-1].to == [other.email]


def test_password_reset_mail_for_one_email_goes_out_once(client, caplog):
    caplog.set_level("WARNING", logger="accounts.forms")
    user = OperatorFactory()
    casings = _casings(user.email)
    for i in range(10):  # from ten addresses, in several casings
        response = post_reset(client, casings[i % len(casings)].strip(), f"198.51.100.{200 + i}")
        assert response.status_code == 302 and response["Location"] == RESET_DONE
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    assert caplog.text.count("the same email address was asked for less than") == 9
