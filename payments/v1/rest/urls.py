"""The payments of the i'mport-compatible REST API, at the paths client libraries call:
``/payments…``, ``/subscribe…`` and ``/vbanks…``. ``config/urls.py`` mounts them with the
other apps' REST routes, in i'mport's order."""

from django.urls import path
from django.utils.translation import gettext_lazy

from console.rest.unserved import unserved_view

from . import rest_payments
from . import rest_subscribe as sub

urlpatterns = [
    path("payments/prepare", rest_payments.Prepare.as_view(), name="rest_payments_prepare"),
    path("payments/prepare/<str:merchant_uid>", rest_payments.Prepared.as_view(), name="rest_payments_prepared"),
    path("payments", rest_payments.Payments.as_view(), name="rest_payments"),
    path("payments/cancel", rest_payments.Cancel.as_view(), name="rest_payments_cancel"),
    # find and findAll also answer without a status, or with an empty one, as clients send them
    # (left out of the description: openapi.SKIP).
    path("payments/find/<str:merchant_uid>", rest_payments.Find.as_view(), name="rest_payments_find"),
    path("payments/find/<str:merchant_uid>/", rest_payments.Find.as_view()),
    path("payments/find/<str:merchant_uid>/<str:payment_status>", rest_payments.Find.as_view(),
         name="rest_payments_find_status"),
    path("payments/findAll/<str:merchant_uid>", rest_payments.FindAll.as_view(), name="rest_payments_find_all"),
    path("payments/findAll/<str:merchant_uid>/", rest_payments.FindAll.as_view()),
    path("payments/findAll/<str:merchant_uid>/<str:payment_status>", rest_payments.FindAll.as_view(),
         name="rest_payments_find_all_status"),
    path("payments/status/<str:payment_status>", rest_payments.ByStatus.as_view(), name="rest_payments_status"),
    path("payments/<str:imp_uid>", rest_payments.PaymentView.as_view(), name="rest_payment"),
    path("subscribe/payments/onetime", sub.Onetime.as_view(), name="rest_subscribe_onetime"),
    path("subscribe/payments/again", sub.Again.as_view(), name="rest_subscribe_again"),
    path("subscribe/payments/foreign", sub.Foreign.as_view(), name="rest_subscribe_foreign"),
    path("subscribe/payments/schedule", sub.Schedule.as_view(), name="rest_subscribe_schedule"),
    path("subscribe/payments/unschedule", sub.Unschedule.as_view(), name="rest_subscribe_unschedule"),
    path("subscribe/payments/schedule/customers/<str:customer_uid>", sub.CustomerSchedules.as_view(),
         name="rest_subscribe_schedules_of_customer_alias"),
    path("subscribe/payments/schedule/<str:merchant_uid>", sub.ScheduleOfOrder.as_view(),
         name="rest_subscribe_schedule_of_order"),
    path("subscribe/payments/schedule/<str:merchant_uid>/reschedule", sub.Reschedule.as_view(),
         name="rest_subscribe_reschedule"),
    path("subscribe/payments/schedule/<str:merchant_uid>/retry", sub.Retry.as_view(), name="rest_subscribe_retry"),
    path("subscribe/customers", sub.Customers.as_view(), name="rest_subscribe_customers"),
    path("subscribe/customers/<str:customer_uid>", sub.Customer.as_view(), name="rest_subscribe_customer"),
    path("subscribe/customers/<str:customer_uid>/payments", sub.CustomerPayments.as_view(),
         name="rest_subscribe_customer_payments"),
    path("subscribe/customers/<str:customer_uid>/schedules", sub.CustomerSchedules.as_view(),
         name="rest_subscribe_customer_schedules"),
    path("vbanks", sub.Vbanks.as_view(), name="rest_vbanks"),
    # PortOne's bank account holder lookup, which the sandbox cannot do: refused in the envelope
    # (404, "lookup failed", as documented), not taken for an imp_uid.
    path("vbanks/holder", unserved_view({"get": 404}, gettext_lazy("bank account holders")),
         name="rest_unserved_vbank_holder"),
    path("vbanks/<str:imp_uid>", sub.Vbank.as_view(), name="rest_vbank"),
]
