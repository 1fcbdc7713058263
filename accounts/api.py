"""The tiers (sub-merchants) of the i'mport-compatible REST API, at /tiers/<code>: GET, POST
(add), PUT (rename), DELETE. The door every endpoint goes through (the envelope, bodies,
tokens, the whitelist, the Tier header) is the kernel's ``console.rest.base.ImportView``.
"""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers

from accounts.services.merchants import (
    SubMerchantGone,
    sub_merchant_create,
    sub_merchant_delete,
    sub_merchant_update,
)
from console.models import TIER_CODE_RE, Merchant
from console.rest.base import CONTROL_CHARACTERS as _CC
from console.rest.base import ImportView, Refusal, envelope, enveloped, responses
from console.tenancy.audit import Actor
from console.tenancy.client_ip import client_ip

TIER_CODE_PATTERN = r"^[A-Z0-9]{3}$"


# --- what it reads and answers (DRF serializers; the answers only describe) ------------------


class StrictCharField(serializers.CharField):
    """A string as sent: a number is not taken for its digits."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


TIER_NAME_MAX = Merchant._meta.get_field("name").max_length


class TierRequest(serializers.Serializer):
    tier_name = StrictCharField(
        max_length=TIER_NAME_MAX, trim_whitespace=False,
        error_messages={"required": "tier_name is required: the sub-merchant's name.",
                        "blank": "tier_name is required: the sub-merchant's name.",
                        "null": "tier_name is required: the sub-merchant's name.",
                        "invalid": "tier_name must be a string: the sub-merchant's name.",
                        "max_length": "tier_name is too long: at most {max_length} characters."},
        validators=[RegexValidator(f"^\\s*[^\\s{_CC}](?:[^{_CC}]*[^\\s{_CC}])?\\s*$",
                                   "tier_name is required: the sub-merchant's name, in visible "
                                   "characters and without control characters.")],
        help_text="The sub-merchant's name: at most 100 characters, no control characters; "
                  "spaces around it are trimmed.")


class Tier(serializers.Serializer):
    tier_code = serializers.CharField()
    tier_name = serializers.CharField()


TierAnswer = enveloped("TierAnswer", Tier(allow_null=True))


# --- Tiers: the same services, rules and audit rows as the Sub-merchants page -----------


def _tier_json(sub: Merchant) -> dict:
    return {"tier_code": sub.tier_code, "tier_name": sub.name}


def _tier_code_problem(tier_code: str) -> str | None:
    if TIER_CODE_RE.fullmatch(tier_code):
        return None
    shown = tier_code[:20]
    if TIER_CODE_RE.fullmatch(tier_code.upper()):
        return _("Tier codes are upper case: use /tiers/%(upper)s, not /tiers/%(shown)s.") % {
            "upper": tier_code.upper(), "shown": shown}
    return _("A tier code is exactly 3 uppercase letters or digits, e.g. A01, not “%(shown)s”.") % {"shown": shown}


def _unknown_tier(tier_code: str) -> Refusal:
    return Refusal(404, _("This merchant has no sub-merchant with the tier code %(tier)s.") % {"tier": tier_code})


def _refusal(exc) -> str:
    """A service's ValidationError as one sentence, fields named as the API names them."""
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    names = {"name": "tier_name", "tier_code": "tier_code", "__all__": None}
    return " ".join(f"{names.get(field, field)}: {message}" if names.get(field, field) else message
                    for field, messages in exc.message_dict.items() for message in messages)


def _tier_operation(operation_id: str, summary: str, description: str, example: str, *statuses: int, body=False):
    """``statuses``: what PortOne's V1 contract documents for the operation (and the door's 403);
    a refusal with another status is answered 200 with its non-zero code (console.rest.base)."""
    tier_code = OpenApiParameter(
        "tier_code", str, OpenApiParameter.PATH, pattern=TIER_CODE_PATTERN,
        examples=[OpenApiExample("tier", value=example)],
        description="Exactly 3 uppercase letters or digits. A lower-case code is a 400 that says "
                    "tier codes are upper case.")
    return extend_schema(operation_id=operation_id, summary=summary, description=description,
                         parameters=[tier_code], request=TierRequest if body else None,
                         responses=responses(TierAnswer, *statuses))


@extend_schema_view(
    get=_tier_operation("getTier", "A sub-merchant (tier) of the caller",
                        "The tier, or 404 if it is not the caller's (a call with the Tier header sees "
                        "only that tier).", "ABC", 401, 403, 404),
    post=_tier_operation("addTier", "Add a sub-merchant (tier) to the agency",
                         "The agency's own key only (with the Tier header: 403). 400 for a missing or "
                         "malformed tier_name, a malformed code or a code the agency already uses. The "
                         "new sub-merchant gets its test channels, as one added in the console does.",
                         "XYZ", 400, 401, 403, body=True),
    put=_tier_operation("updateTier", "Rename a sub-merchant (tier) of the agency",
                        "The agency's own key only (with the Tier header: 403); 404 for a tier that is "
                        "not the agency's.", "ABC", 400, 401, 403, 404, body=True),
    delete=_tier_operation("deleteTier", "Delete a sub-merchant (tier) of the agency",
                           "As the console's Delete: its channels return to the agency, its own members "
                           "lose access, its open invitations are revoked, its tier code is free again. "
                           "Answers the deleted tier. The agency's own key only (with the Tier header: "
                           "403).", "ABC", 401, 403, 404),
)
class TierView(ImportView):
    """GET a tier of the caller; POST, PUT and DELETE only with an agency's own key (no Tier
    header: a call acting for a sub-merchant gets 403). Another agency's tier is a 404."""

    body_hint = "The body must be JSON or a form (application/x-www-form-urlencoded) with tier_name."

    def _sub(self, tier_code: str) -> tuple[Merchant, Merchant | None]:
        problem = _tier_code_problem(tier_code)
        if problem:
            raise Refusal(400, problem)
        agency = self.merchant.parent or self.merchant
        return agency, agency.sub_merchants.filter(tier_code=tier_code).first()

    def _agency_only(self):
        if self.merchant.parent_id:
            raise Refusal(403, _("Only the agency's own calls add, rename or delete its tiers: call "
                                 "without the Tier header."))

    def _name(self, request) -> str:
        return self.valid(TierRequest, self.body(request))["tier_name"]

    def _actor(self, request) -> Actor:
        return Actor(api_key=self.api_key, ip=client_ip(request))

    def get(self, request, tier_code):
        _agency, sub = self._sub(tier_code)
        if sub is None or (self.merchant.parent_id and self.merchant.pk != sub.pk):
            raise _unknown_tier(tier_code)
        return envelope(_tier_json(sub))

    def post(self, request, tier_code):
        agency, _sub = self._sub(tier_code)
        self._agency_only()
        name = self._name(request)
        return envelope(_tier_json(self._saved(tier_code, lambda: sub_merchant_create(
            actor=self._actor(request), agency=agency, name=name, tier_code=tier_code))))

    def put(self, request, tier_code):
        _agency, sub = self._sub(tier_code)
        self._agency_only()
        if sub is None:
            raise _unknown_tier(tier_code)
        name = self._name(request)
        return envelope(_tier_json(self._saved(tier_code, lambda: sub_merchant_update(
            actor=self._actor(request), sub_merchant=sub, name=name))))

    def delete(self, request, tier_code):
        _agency, sub = self._sub(tier_code)
        self._agency_only()
        if sub is None:
            raise _unknown_tier(tier_code)
        self._saved(tier_code, lambda: sub_merchant_delete(actor=self._actor(request), sub_merchant=sub))
        return envelope(_tier_json(sub))

    def _saved(self, tier_code, write):
        """``write()``'s result; a refusal of the service as a 400, a tier gone as a 404."""
        try:
            return write()
        except (SubMerchantGone, Merchant.DoesNotExist):  # deleted by a call running alongside
            raise _unknown_tier(tier_code) from None
        except ValidationError as exc:
            raise Refusal(400, _refusal(exc)) from None


