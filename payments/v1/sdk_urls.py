"""Public pages a merchant's shop uses: the browser SDK and the sandbox payment window."""

from django.urls import path

from payments.v1 import sdk as sdk_views

app_name = "sandbox"

urlpatterns = [
    path("js/iamport.payment-1.2.0.js", sdk_views.sdk, name="sdk"),
    path("js/iamport.js", sdk_views.sdk, name="sdk_latest"),
    path("sandbox/pay/", sdk_views.window_open, name="window"),
    path("sandbox/pay/<str:imp_uid>/", sdk_views.window_action, name="window_action"),
]
