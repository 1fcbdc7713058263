"""Reads for the Webhooks pages, scoped through the merchant's MerchantAccess."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone

from console.tenancy.selectors import MerchantAccess

from .models import Delivery, Mode, WebhookEndpoint, WebhookSecret

DELIVERIES_PER_PAGE = 25


@dataclass
class EndpointView:
    mode: str
    endpoint: WebhookEndpoint | None
    secrets: list[WebhookSecret]


def _active_secrets_prefetch():
    now = timezone.now()
    return Prefetch(
        "secrets",
        queryset=WebhookSecret.objects.active(now)
        .defer("secret_encrypted").order_by("-created_at", "-id"),
        to_attr="active_secret_list",
    )


def endpoints_page(*, access: MerchantAccess) -> dict:
    """Both modes' endpoints of this merchant, and for a sub-merchant its agency's too."""
    owners = [access.merchant.pk] + ([access.merchant.parent_id] if access.merchant.parent_id else [])
    endpoints = list(
        WebhookEndpoint.objects.filter(merchant_id__in=owners).prefetch_related(_active_secrets_prefetch())
    )
    own = {e.mode: e for e in endpoints if e.merchant_id == access.merchant.pk}
    agency = {e.mode: e for e in endpoints if e.merchant_id != access.merchant.pk}
    views = [EndpointView(mode=m, endpoint=own.get(m), secrets=getattr(own.get(m), "active_secret_list", []))
             for m in (Mode.LIVE, Mode.TEST)]
    return {"endpoints": views, "agency_endpoints": agency, "recent": recent_deliveries(access=access)}


RECENT_SHOWN = 5


def recent_deliveries(*, access: MerchantAccess) -> list[Delivery]:
    """The newest deliveries of the Webhooks page ("Recent deliveries")."""
    return list(_deliveries(access).defer("body").order_by("-created_at", "-id")[:RECENT_SHOWN])


def recoverable_deliveries(*, endpoint: WebhookEndpoint, since):
    """The failed payment notifications of ``endpoint`` made since ``since``, which a recover
    resends: not tests (sent once by design), not those to a payment's notice_url (their own
    URL, resent one by one)."""
    return Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.FAILED,
                                   trigger=Delivery.Trigger.EVENT, to_notice_url=False,
                                   created_at__gte=since)


def endpoint_get(*, access: MerchantAccess, mode: str) -> WebhookEndpoint:
    if mode not in Mode.values:
        raise Http404
    endpoint = WebhookEndpoint.objects.filter(merchant=access.merchant, mode=mode).first()
    if endpoint is None:
        raise Http404
    return endpoint


def _deliveries(access: MerchantAccess):
    merchant = access.merchant
    scope = Q(merchant=merchant)
    if not merchant.is_sub_merchant:
        scope |= Q(endpoint__merchant=merchant)
    return Delivery.objects.filter(scope)


def deliveries_page(*, access: MerchantAccess, page, status=None, trigger=None, mode=None) -> Page:
    qs = _deliveries(access).select_related("merchant").defer("body")
    if status in Delivery.Status.values:
        qs = qs.filter(status=status)
    if trigger in Delivery.Trigger.values:
        qs = qs.filter(trigger=trigger)
    if mode in Mode.values:
        qs = qs.filter(mode=mode)
    return Paginator(qs.order_by("-created_at", "-id"), DELIVERIES_PER_PAGE).get_page(page)


def delivery_get(*, access: MerchantAccess, message_id: str, with_attempts: bool = False) -> Delivery:
    qs = _deliveries(access).select_related("endpoint", "merchant")
    if with_attempts:
        qs = qs.prefetch_related("attempts")
    delivery = qs.filter(message_id=message_id).first()
    if delivery is None:
        raise Http404
    return delivery


def secret_get(*, access: MerchantAccess, mode: str, secret_id: int) -> tuple[WebhookEndpoint, WebhookSecret]:
    """One signing secret of this merchant's endpoint, or 404 (another merchant's is never found)."""
    endpoint = endpoint_get(access=access, mode=mode)
    secret = endpoint.secrets.defer("secret_encrypted").filter(pk=secret_id).first()
    if secret is None:
        raise Http404
    return endpoint, secret


PAYMENT_DELIVERIES_SHOWN = 50


def deliveries_for_payment(*, merchant, imp_uid: str, limit: int = PAYMENT_DELIVERIES_SHOWN) -> list[Delivery]:
    """The notifications one payment of ``merchant`` caused (their body names its ``imp_uid``:
    V1's ``imp_uid``, V2's ``transactionId``, JSON or form alike), newest first. Only this
    merchant's deliveries are searched (index ``delivery_merchant_time``), whichever endpoint
    (its own or its agency's) they went to; the bodies themselves are not loaded."""
    if not imp_uid:
        return []
    return list(Delivery.objects.filter(merchant=merchant, body__contains=imp_uid)
                .defer("body").order_by("-created_at", "-id")[:limit])
