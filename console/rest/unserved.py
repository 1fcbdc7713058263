"""The operations of PortOne's V1 contract that the sandbox does not simulate (Naver Pay,
certifications, cash receipts, escrow shipping, Benepia, convenience stores…). Each still answers
as an i'mport endpoint does: the envelope, a wrong method a 405, no token a 401, and then a refusal
with a status the operation documents: a 404 where it looks up something the sandbox never holds
(a certification, a receipt, a Naver Pay order), a 501 where it documents "not supported", and
otherwise i'mport's business refusal, HTTP 200 with a non-zero code.

``tests/console/test_v1_routes.py`` reads PortOne's contract: every operation in it is served by an
app or listed here, and each status here is one the operation documents. Paths outside the contract
under the API's prefixes get the envelope's 404 (``base.not_found``)."""

from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema

from .base import ImportView, Refusal

CERTIFICATION = gettext_lazy("No certification has this imp_uid.")

# (path, {method: status}, what the sandbox does not offer). Path parameters are ``<str:…>``.
UNSERVED: list[tuple[str, dict[str, int], str]] = [
    ("benepia/point", {"post": 200}, gettext_lazy("Benepia points")),
    ("benepia/payment", {"post": 200}, gettext_lazy("Benepia points")),
    ("certifications/<str:imp_uid>", {"get": 404, "delete": 404}, CERTIFICATION),
    ("certifications/otp/request", {"post": 400}, gettext_lazy("certifications")),
    ("certifications/otp/confirm/<str:imp_uid>", {"post": 404}, CERTIFICATION),
    ("cvs", {"post": 200}, gettext_lazy("convenience store payments")),
    ("cvs/<str:imp_uid>", {"delete": 200}, gettext_lazy("convenience store payments")),
    ("escrows/logis/<str:imp_uid>", {"get": 404, "put": 404, "post": 404}, gettext_lazy("escrow shipping")),
    ("kcpquick/members/<str:member_id>", {"delete": 404}, gettext_lazy("KCP Quick Pay members")),
    *((f"payments/<str:imp_uid>/naver/{action}", {"post": 404}, gettext_lazy("Naver Pay orders"))
      for action in ("cancel", "approve-cancel", "ship", "ship-exchanged", "collect-exchanged", "place",
                     "request-return", "approve-return", "reject-return", "withhold-return", "resolve-return",
                     "point", "confirm")),
    ("payments/<str:imp_uid>/naver/product-orders", {"get": 404}, gettext_lazy("Naver Pay orders")),
    ("payments/<str:imp_uid>/naver/cash-amount", {"get": 400}, gettext_lazy("Naver Pay orders")),
    ("naver/product-orders/<str:product_order_id>", {"get": 404}, gettext_lazy("Naver Pay orders")),
    ("naver/reviews", {"get": 400}, gettext_lazy("Naver Pay reviews")),
    ("partners/receipts/<str:imp_uid>", {"post": 501}, gettext_lazy("partner receipts")),
    ("payco/orders/status/<str:imp_uid>", {"post": 200}, gettext_lazy("PAYCO order status")),
    ("payments/<str:imp_uid>/balance", {"get": 404}, gettext_lazy("payment balances")),
    ("paymentwall/delivery", {"post": 200}, gettext_lazy("Paymentwall deliveries")),
    ("receipts/<str:imp_uid>", {"get": 404, "post": 501, "delete": 501}, gettext_lazy("cash receipts")),
    ("receipts/external/<str:merchant_uid>", {"get": 404, "post": 501, "delete": 404},
     gettext_lazy("cash receipts")),
    ("cards", {"get": 404}, gettext_lazy("card codes")),
    ("cards/<str:card_standard_code>", {"get": 404}, gettext_lazy("card codes")),
    ("banks", {"get": 404}, gettext_lazy("bank codes")),
    ("banks/<str:bank_standard_code>", {"get": 404}, gettext_lazy("bank codes")),
]


class Unserved(ImportView):
    """One operation the sandbox does not simulate: authenticated like any other, then refused."""

    statuses: dict[str, int] = {}
    what = ""

    def refuse(self, request, *args, **kwargs):
        if self.what is CERTIFICATION:
            message = str(CERTIFICATION)
        else:
            message = _("The sandbox does not offer this API (%(what)s): %(method)s %(path)s.") % {
                "what": self.what, "method": request.method, "path": request.path}
        raise Refusal(self.statuses[request.method.lower()], message)


def unserved_view(statuses: dict[str, int], what):
    """A view for one unserved operation (an app mounts one where its own routes would take the
    path first, e.g. ``GET /vbanks/holder`` before ``/vbanks/{imp_uid}``)."""
    handlers = {method: Unserved.refuse for method in statuses}
    if "get" in statuses:
        handlers["head"] = Unserved.refuse
    cls = type("Unserved", (Unserved,), {"statuses": {**statuses, "head": statuses.get("get")}, "what": what,
                                         "http_method_names": [*handlers, "options"], **handlers})
    return extend_schema(exclude=True)(cls).as_view()  # not the sandbox's to describe


urlpatterns = [path(route, unserved_view(statuses, what), name=f"rest_unserved_{index}")
               for index, (route, statuses, what) in enumerate(UNSERVED)]
