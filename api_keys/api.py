"""``POST /users/getToken`` of the i'mport-compatible REST API: a 30-minute access token for an
API key and its secret (the same token again while it lives). Through the kernel's door
(``console.rest.base.ImportView``), without a token of course.
"""

from django.core.cache import cache
from django.utils.translation import gettext as _
from rest_framework import serializers

from api_keys.services.api_keys import api_key_check, token_issue
from console.rest.base import NO_NUL as _NO_NUL
from console.rest.base import (
    ImportView,
    Refusal,
    envelope,
    enveloped,
    operation,
    refuse_unlisted_address,
    responses,
)
from console.rest.tokens import touch_last_used
from console.tenancy.client_ip import client_ip

FAILED_TOKEN_LIMIT = 10  # failed getToken calls per client address per minute


class TokenRequest(serializers.Serializer):
    # Missing, null or blank is i'mport's one refusal (the view's), not a field error.
    imp_key = serializers.CharField(required=False, allow_null=True, allow_blank=True, validators=[_NO_NUL],
                                    help_text="REST API key")
    imp_secret = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False,
                                       validators=[_NO_NUL], help_text="REST API secret")


class Token(serializers.Serializer):
    access_token = serializers.CharField()
    now = serializers.IntegerField()
    expired_at = serializers.IntegerField()


TokenAnswer = enveloped("TokenAnswer", Token(allow_null=True))


@operation("post", operation_id="getToken", request=TokenRequest,
               summary="Issue a 30-minute access token (the same one again while it lives)",
               responses=responses(TokenAnswer, 401, 403, 429))  # PortOne: 200 and 401
class GetToken(ImportView):
    requires_token = False
    body_hint = "The body must be JSON or a form with imp_key and imp_secret."

    def post(self, request):
        address = client_ip(request) or "unknown"
        failures_key = f"rest:getToken:failures:{address}"
        if (cache.get(failures_key) or 0) >= FAILED_TOKEN_LIMIT:
            raise Refusal(429, _("Too many failed token requests from this address. Try again in a minute."))
        data = self.valid(TokenRequest, self.body(request))
        if not data.get("imp_key") or not data.get("imp_secret"):  # i'mport's refusal, answered 200
            raise Refusal(400, _("imp_key and imp_secret are missing."))
        api_key = api_key_check(data["imp_key"], data["imp_secret"])
        if api_key is None:
            if cache.add(failures_key, 1, timeout=60) is False:
                try:
                    cache.incr(failures_key)
                except ValueError:
                    cache.set(failures_key, 1, timeout=60)
            raise Refusal(401, _("The REST API key or secret is wrong, expired or revoked."))
        refuse_unlisted_address(api_key.merchant, request)
        issued = token_issue(api_key)
        touch_last_used(api_key)
        return envelope({"access_token": issued.token, "now": int(issued.now.timestamp()),
                         "expired_at": int(issued.expires_at.timestamp())})
