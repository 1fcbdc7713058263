"""Reads of payments, scoped to the merchant that asks: an operator's ``MerchantAccess`` or
the merchant a REST token acts for (its own, or a sub-merchant's through the Tier header)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from channels.models import Channel, Mode
from console.tenancy.dates import day_range
from console.tenancy.selectors import MerchantAccess
from payments.models import Payment, Preparation
from payments.selectors.paging import cursor_of, keyset_page


def payment_for_api(*, merchant_id: int, imp_uid: str) -> Payment | None:
    """One payment of exactly this merchant (another merchant's is unknown here). Its
    cancellations are read by ``payment_annotation`` only when it has any.

    The REST hot path: one plain statement (``imp_uid`` is unique, so no ordering), which the
    ORM would otherwise compile, ordering included, on every call."""
    qn = connection.ops.quote_name
    sql = (f"SELECT * FROM {qn(Payment._meta.db_table)} "
           f"WHERE {qn('merchant_id')} = %s AND {qn('imp_uid')} = %s")
    found = list(Payment.objects.raw(sql, [merchant_id, imp_uid]))
    return found[0] if found else None


def preparation_for_api(*, merchant_id: int, merchant_uid: str) -> Preparation | None:
    return Preparation.objects.filter(merchant_id=merchant_id, merchant_uid=merchant_uid).first()


def test_channel_for_try(*, access: MerchantAccess, channel_key: str) -> Channel:
    """An enabled test channel this merchant may pay with (its own or assigned to it), or 404:
    the demo checkout's channel."""
    channel = (Channel.objects.filter(Q(merchant=access.merchant) | Q(assigned_to=access.merchant))
               .filter(channel_key=channel_key, mode=Mode.TEST, enabled=True).first())
    if channel is None:
        raise Http404
    return channel


SORTING = {"-started": ("-started_at", "-id"), "started": ("started_at", "id"),
           "-paid": ("-paid_at", "-id"), "paid": ("paid_at", "id"),
           "-updated": ("-updated_at", "-id"), "updated": ("updated_at", "id")}


def payments_by_uids(*, merchant_id: int, imp_uids: list[str], merchant_uids: list[str]) -> list[Payment]:
    """``GET /payments``: the merchant's payments among these ``imp_uid``s and ``merchant_uid``s."""
    if not imp_uids and not merchant_uids:
        return []
    return list(Payment.objects.filter(merchant_id=merchant_id)
                .filter(Q(imp_uid__in=imp_uids[:100]) | Q(merchant_uid__in=merchant_uids[:100]))
                .prefetch_related("cancellations").order_by("-started_at", "-id"))


def payments_of_order(*, merchant_id: int, merchant_uid: str, status: str | None, sorting: str):
    """The merchant's payments of one ``merchant_uid`` (a queryset, sorted), of one status or all."""
    found = Payment.objects.filter(merchant_id=merchant_id, merchant_uid=merchant_uid)
    if status:
        found = found.filter(status=status)
    return found.prefetch_related("cancellations").order_by(*SORTING[sorting])


def payments_by_status(*, merchant_id: int, status: str, start, end, sorting: str):
    """``GET /payments/status/{status}``: the merchant's payments started from ``start`` to
    ``end`` (whole seconds, both included: the end second's fractions too)."""
    found = Payment.objects.filter(merchant_id=merchant_id, started_at__gte=start,
                                   started_at__lt=end + timedelta(seconds=1))
    if status != "all":
        found = found.filter(status=status)
    return found.prefetch_related("cancellations").order_by(*SORTING[sorting])


# --- the Payments page (payment activity) ---------------------------------------------

PER_PAGE = 50
CSV_MAX_ROWS = 100_000  # what one CSV export holds at most; narrow the filters for more
# What a list row shows: the wide columns (custom_data, notice URLs, user agent) stay behind.
LIST_FIELDS = ("id", "merchant_id", "imp_uid", "merchant_uid", "status", "pay_method", "channel_key",
               "pg_provider", "pg_id", "name", "amount", "cancel_amount", "currency", "buyer_name",
               "buyer_email", "started_at", "paid_at", "vbank_issued_at", "channel_type", "customer_uid",
               "customer_uid_usage", "billing_key_id")


class SearchBy(models.TextChoices):
    UID = "uid", _("Order or payment ID (exact)")
    BUYER_NAME = "buyer_name", _("Buyer name (starts with)")
    BUYER_EMAIL = "buyer_email", _("Buyer email (starts with)")


@dataclass(frozen=True)
class PaymentFilters:
    status: str = ""
    channel: str = ""  # a channel key
    pay_method: str = ""
    date_from: date | None = None
    date_to: date | None = None
    search_by: str = SearchBy.UID
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.status or self.channel or self.pay_method or self.date_from or self.date_to
                    or self.q)


def payment_channel_choices(*, access: MerchantAccess) -> list[tuple[str, str]]:
    """The channels this merchant pays with (its own and those assigned to it), test first, as
    (channel key, label) for the filter."""
    merchant = access.merchant
    channels = (Channel.objects.filter(Q(merchant=merchant) | Q(assigned_to=merchant))
                .only("channel_key", "name", "provider", "pg_provider", "mid", "module", "mode")
                .order_by("-mode", "name", "pg_provider", "mid", "id"))
    return [(c.channel_key, f"{c.name or c.pg_string} · {c.module_label} · {c.get_mode_display()}")
            for c in channels]


def _filtered(access: MerchantAccess, filters: PaymentFilters) -> QuerySet[Payment]:
    """This merchant's payments only (an agency's page lists the agency's own, a sub-merchant's
    its own), narrowed by ``filters``: every condition sits beside ``merchant`` so the indexes
    (merchant, -started_at) and (merchant, status, -started_at) serve it."""
    payments = Payment.objects.filter(merchant=access.merchant)
    if filters.status:
        payments = payments.filter(status=filters.status)
    if filters.channel:
        payments = payments.filter(channel_key=filters.channel)
    if filters.pay_method:
        payments = payments.filter(pay_method=filters.pay_method)
    payments = payments.filter(day_range("started_at", filters.date_from, filters.date_to))
    q = filters.q.strip()
    if q:
        if filters.search_by == SearchBy.BUYER_NAME:
            payments = payments.filter(buyer_name__istartswith=q)
        elif filters.search_by == SearchBy.BUYER_EMAIL:
            payments = payments.filter(buyer_email__istartswith=q)
        else:  # both exact, both indexed: imp_uid is unique, (merchant, merchant_uid) has its own
            payments = payments.filter(Q(imp_uid=q) | Q(merchant_uid=q))
    return payments


@dataclass
class PaymentsPage:
    payments: list[Payment]
    next_cursor: str | None  # ?after=
    previous_cursor: str | None  # ?before=

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


def _cursor_of(payment: Payment) -> str:
    return cursor_of(payment, "started_at")


def payments_page(*, access: MerchantAccess, filters: PaymentFilters, after: str | None = None,
                  before: str | None = None, per_page: int = PER_PAGE) -> PaymentsPage:
    """One page of this merchant's payments, newest first, in one query (two when a
    Previous link leads back past the first page, which is then shown whole): keyset paging
    on (started_at, id), ``payments.selectors.paging``."""
    # The channel (its module tells key-in from billing key, ``Payment.kind``) comes in a
    # second query for the page's rows, not a join in the one that pages 200,000.
    rows = (_filtered(access, filters).only(*LIST_FIELDS, "channel")
            .prefetch_related(models.Prefetch("channel", queryset=Channel.objects.only("id", "module"))))
    page = keyset_page(rows, field="started_at", after=after, before=before, per_page=per_page)
    return PaymentsPage(page.rows, next_cursor=page.next_cursor, previous_cursor=page.previous_cursor)


def payments_for_export(*, access: MerchantAccess, filters: PaymentFilters, limit: int = CSV_MAX_ROWS):
    """What the filters show, newest first, for the CSV: at most ``limit`` + 1 rows (the extra
    one tells the export that it was cut), read in chunks from a server-side cursor."""
    return (_filtered(access, filters).defer("custom_data", "notice_urls", "user_agent")
            .order_by("-started_at", "-id")[:limit + 1].iterator(chunk_size=2000))


def payment_get(*, access: MerchantAccess, imp_uid: str) -> Payment:
    """One payment of exactly this merchant, with its cancellations, or 404 (another merchant's,
    its agency's and its sub-merchants' are not found)."""
    payment = (Payment.objects.filter(merchant=access.merchant, imp_uid=imp_uid)
               .select_related("merchant", "channel").defer("channel__credentials_encrypted")
               .prefetch_related("cancellations").first())
    if payment is None:
        raise Http404
    return payment
