import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from console.models import Merchant, Operator
from ops.demo import seed_demo

# The login the kept password is checked against: every demo operator gets the same one.
CHECKED_LOGIN = "owner@demo.test"


def keep_password(path: Path, password: str) -> None:
    """Write the generated password to ``path``, readable and writable by this user only
    (0600 whatever the umask, also when the file was there before)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")


def kept_password_still_works(path: Path) -> bool:
    """Whether the password kept in ``path`` still opens the demo owner's login (a database
    reset, a password changed or another DATABASE_URL make it stale)."""
    try:
        password = path.read_text().strip()
    except OSError:
        return False
    owner = Operator.objects.filter(email=CHECKED_LOGIN).first()
    return bool(password) and owner is not None and owner.check_password(password)


class Command(BaseCommand):
    help = (
        "Create the demo agency, two sub-merchants and one operator per role. "
        "Idempotent. Password: $DEMO_PASSWORD, else generated, printed once and kept in "
        "PGCONSOLE_DEMO_PASSWORD_FILE (var/demo-password, 0600) for `make run` to show again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already holds a merchant.",
        )

    def handle(self, *args, **options):
        kept = settings.PGCONSOLE_DEMO_PASSWORD_FILE
        kept = Path(kept) if kept else None
        if options["if_empty"] and Merchant.objects.exists():
            self.stdout.write("Database already has merchants; demo data not seeded.")
            if kept and kept.exists() and not kept_password_still_works(kept):
                kept.unlink()
                self.stdout.write(f"{kept} no longer opens {CHECKED_LOGIN}: removed it.")
            return
        result = seed_demo(password=os.environ.get("DEMO_PASSWORD") or None)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo agency {result.agency.name} ({result.agency.code}) with sub-merchants "
                + ", ".join(f"{s.name} [{s.tier_code}]" for s in result.sub_merchants)
            )
        )
        self.stdout.write("Demo logins: " + ", ".join(result.logins))
        if result.password and result.created_logins and not os.environ.get("DEMO_PASSWORD"):
            self.stdout.write(
                self.style.WARNING(
                    f"Generated demo password (shown once, for the new logins): {result.password}"
                )
            )
            if kept:
                keep_password(kept, result.password)
                self.stdout.write(f"Kept for `make run` in {kept} (readable by you only).")
        elif os.environ.get("DEMO_PASSWORD"):
            self.stdout.write("Demo password: the value of DEMO_PASSWORD.")
            if kept and kept.exists():
                kept.unlink()  # the logins now take DEMO_PASSWORD: the kept one is stale
        else:
            self.stdout.write("Demo operators already existed; their passwords are unchanged.")
