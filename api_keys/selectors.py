"""Reads of the IDs & API keys page. (Whether an address is on a merchant's whitelist is the
REST door's read: ``console.rest.whitelist.whitelist_allows``.)"""

from django.http import Http404

from console.models import ApiKey


def api_key_of(*, access, key_id: int) -> ApiKey:
    """One of the merchant's API keys, or 404 (a sub-merchant holds none)."""
    api_key = ApiKey.objects.filter(pk=key_id, merchant=access.merchant).first()
    if api_key is None:
        raise Http404
    return api_key
