"""The demo checkout ("Try a test payment"): a console page that pays on one of the merchant's
test channels through the browser SDK, exactly as a merchant's own page would."""

from django.shortcuts import render

from console.tenancy.access import merchant_view
from console.tenancy.roles import Perm
from payments.models import NAME_MAX, PayMethod
from payments.selectors import payments as selectors

# What a redirect back (m_redirect_url) carries, as PortOne sends it.
REDIRECT_KEYS = ("imp_uid", "merchant_uid", "imp_success", "error_code", "error_msg")


@merchant_view(Perm.VIEW_INTEGRATION)
def try_payment(request, access, channel_key):
    channel = selectors.test_channel_for_try(access=access, channel_key=channel_key)
    merchant = access.merchant
    returned = [(key, request.GET[key][:300]) for key in REDIRECT_KEYS if key in request.GET]
    return render(request, "payments/try.html", {
        "access": access, "nav": "channels", "channel": channel,
        "imp_code": merchant.parent.code if merchant.is_sub_merchant else merchant.code,
        "tier": merchant.tier_code if merchant.is_sub_merchant else "",
        "pay_methods": [(PayMethod.CARD, PayMethod.CARD.label), (PayMethod.VBANK, PayMethod.VBANK.label)],
        "name_max": NAME_MAX, "returned": returned,
    })
