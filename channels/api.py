"""``GET /users/pg`` of the i'mport-compatible REST API: the caller's enabled PG channels, never
a credential. Through the kernel's door (``console.rest.base.ImportView``).
"""

from rest_framework import serializers

from channels import selectors as channel_selectors
from console.rest.base import ImportView, envelope, enveloped, operation, responses


class PgChannel(serializers.Serializer):
    pg_provider = serializers.CharField(max_length=16)
    pg_id = serializers.CharField(max_length=80)
    sandbox = serializers.BooleanField()
    type = serializers.ChoiceField(choices=["payment", "api_payment", "certification"])
    channel_name = serializers.CharField()
    channel_key = serializers.CharField()


ChannelsAnswer = enveloped("ChannelsAnswer", PgChannel(many=True, allow_null=True))


@operation("get", operation_id="getPgSettings",
               summary="The caller's enabled PG channels (test ones with sandbox: true); never credentials",
               description="Channels the caller owns or that its agency assigned to it. A disabled "
                           "channel is left out: a merchant's server is never offered one.",
               responses=responses(ChannelsAnswer, 401, 403))  # PortOne: 200 only
class UsersPg(ImportView):
    def get(self, request):
        return envelope(channel_selectors.channels_for_api(merchant_id=self.merchant.pk))
