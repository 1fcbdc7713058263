from django.urls import path

from . import views

app_name = "webhooks"

P = "m/<str:merchant_code>/webhooks/"

urlpatterns = [
    path(P, views.webhook_settings, name="settings"),
    path(P + "own/", views.own_webhook, name="own"),
    path(P + "deliveries/", views.delivery_log, name="deliveries"),
    path(P + "deliveries/<str:message_id>/", views.delivery_detail, name="delivery"),
    path(P + "deliveries/<str:message_id>/result/", views.delivery_result, name="delivery_result"),
    path(P + "deliveries/<str:message_id>/resend/", views.delivery_resend, name="resend"),
    path(P + "<str:mode>/", views.endpoint_save, name="save"),
    path(P + "<str:mode>/test/", views.send_test, name="send_test"),
    path(P + "<str:mode>/secrets/rotate/", views.secret_rotate, name="secret_rotate"),
    path(P + "<str:mode>/secrets/<int:secret_id>/reveal/", views.secret_reveal, name="secret_reveal"),
    path(P + "<str:mode>/secrets/<int:secret_id>/expire/", views.secret_expire, name="secret_expire"),
]
