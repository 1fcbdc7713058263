import os

from django.core.management.base import BaseCommand

from console.models import Merchant
from ops.demo import seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo agency, two sub-merchants and one operator per role. "
        "Idempotent. Password: $DEMO_PASSWORD, else generated and printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already holds a merchant.",
        )

    def handle(self, *args, **options):
        if options["if_empty"] and Merchant.objects.exists():
            self.stdout.write("Database already has merchants; demo data not seeded.")
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
        elif os.environ.get("DEMO_PASSWORD"):
            self.stdout.write("Demo password: the value of DEMO_PASSWORD.")
        else:
            self.stdout.write("Demo operators already existed; their passwords are unchanged.")
