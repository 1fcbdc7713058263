from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from console.models import Merchant
from webhooks import payloads, services


class Command(BaseCommand):
    help = (
        "Notify a merchant's webhook endpoint of a payment event (retried on failure). "
        "Example: notify_webhook imp12345678 --mode live --imp-uid imp_1 --merchant-uid order_1 --status paid"
    )

    def add_arguments(self, parser):
        parser.add_argument("merchant_code", help="imp + 8 digits (a sub-merchant's code works too)")
        parser.add_argument("--mode", choices=["live", "test"], default="live")
        parser.add_argument("--imp-uid", required=True)
        parser.add_argument("--merchant-uid", required=True)
        parser.add_argument("--status", required=True, choices=sorted(payloads.V2_TYPES))
        parser.add_argument("--cancellation-id", default=None)

    def handle(self, *args, **options):
        merchant = Merchant.objects.filter(code=options["merchant_code"]).first()
        if merchant is None:
            raise CommandError(f"No merchant with code {options['merchant_code']}.")
        try:
            delivery = services.notify_event(
                merchant=merchant, mode=options["mode"], imp_uid=options["imp_uid"],
                merchant_uid=options["merchant_uid"], status=options["status"],
                cancellation_id=options["cancellation_id"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if delivery is None:
            raise CommandError("That merchant has no enabled webhook endpoint for this mode.")
        self.stdout.write(f"Queued {delivery.message_id} to {delivery.url}")
