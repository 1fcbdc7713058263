import pytest
from django.core.management import call_command

from console.models import AuditEvent, Membership, Merchant, Operator

pytestmark = pytest.mark.django_db

LOGINS = {
    "owner@demo.test": "owner",
    "admin@demo.test": "admin",
    "manager@demo.test": "manager",
    "developer@demo.test": "developer",
    "viewer@demo.test": "viewer",
}


def counts():
    return (Merchant.objects.count(), Operator.objects.count(), Membership.objects.count(),
            AuditEvent.objects.count())


def test_seed_creates_the_demo_and_is_idempotent(capsys, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-passphrase-1")
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first

    agency = Merchant.objects.get(name="Demo Agency", parent=None)
    subs = list(agency.sub_merchants.order_by("id"))
    assert len(subs) == 2
    for email, role in LOGINS.items():
        user = Operator.objects.get(email=email)
        assert user.check_password("demo-passphrase-1")
        assert Membership.objects.get(operator=user).merchant == agency
        assert Membership.objects.get(operator=user).role == role
    tier_manager = Membership.objects.get(operator__email="tier-manager@demo.test")
    assert (tier_manager.merchant, tier_manager.role) == (subs[0], "manager")
    staff = Operator.objects.get(email="staff@demo.test")
    assert staff.is_staff and staff.is_superuser and not staff.memberships.exists()
    out = capsys.readouterr().out
    assert "demo-passphrase-1" not in out


def test_generated_password_is_printed_once(capsys, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("seed_demo")
    out = capsys.readouterr().out
    line = next(li for li in out.splitlines() if "Generated demo password" in li)
    password = line.rsplit(" ", 1)[1]
    assert Operator.objects.get(email="owner@demo.test").check_password(password)
    call_command("seed_demo")
    again = capsys.readouterr().out
    assert password not in again
    assert "passwords are unchanged" in again
    assert Operator.objects.get(email="owner@demo.test").check_password(password)


def test_if_empty_leaves_an_existing_database_alone(capsys, agency):
    call_command("seed_demo", "--if-empty")
    assert not Merchant.objects.filter(name="Demo Agency").exists()
    assert "not seeded" in capsys.readouterr().out


def test_seed_adds_live_channels_some_assigned(monkeypatch):
    from channels.models import Channel

    monkeypatch.setenv("DEMO_PASSWORD", "demo-passphrase-1")
    call_command("seed_demo")
    agency = Merchant.objects.get(name="Demo Agency", parent=None)
    live = Channel.objects.filter(merchant=agency, mode="live")
    assert live.values("provider").distinct().count() >= 4
    assert live.filter(assigned_to__isnull=False).exists()
    assert live.filter(is_default=True).count() == 1
    count = live.count()
    call_command("seed_demo")
    assert live.count() == count


def test_the_generated_password_is_kept_for_make_run_in_a_file_only_its_user_reads(
        capsys, monkeypatch, settings, tmp_path):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    kept = tmp_path / "var" / "demo-password"
    settings.PGCONSOLE_DEMO_PASSWORD_FILE = kept
    call_command("seed_demo", "--if-empty")
    out = capsys.readouterr().out
    password = next(li for li in out.splitlines() if "Generated demo password" in li).rsplit(" ", 1)[1]
    assert kept.read_text() == password + "\n" and (kept.stat().st_mode & 0o777) == 0o600
    assert Operator.objects.get(email="owner@demo.test").check_password(password)

    # The next start leaves the database and the file alone while the password still works...
    call_command("seed_demo", "--if-empty")
    assert "not seeded" in capsys.readouterr().out and kept.exists()
    # ... and removes the file once it no longer opens the demo owner (a password changed).
    owner = Operator.objects.get(email="owner@demo.test")
    owner.set_password("changed-by-the-operator")
    owner.save()
    call_command("seed_demo", "--if-empty")
    assert "removed it" in capsys.readouterr().out and not kept.exists()


def test_demo_password_from_the_environment_is_never_kept(monkeypatch, settings, tmp_path):
    kept = tmp_path / "demo-password"
    kept.write_text("an-old-generated-one\n")
    settings.PGCONSOLE_DEMO_PASSWORD_FILE = kept
    monkeypatch.setenv("DEMO_PASSWORD", "demo-passphrase-2")
    call_command("seed_demo")
    assert not kept.exists()  # the logins take DEMO_PASSWORD now: the old file would mislead
    assert Operator.objects.get(email="owner@demo.test").check_password("demo-passphrase-2")
