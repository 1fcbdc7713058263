from django.urls import path, register_converter

from console.tenancy.converters import ModeConverter

from . import views

app_name = "webhooks"

register_converter(ModeConverter, "mode")

urlpatterns = [
    path("", views.webhook_settings, name="settings"),
    path("own/", views.own_webhook, name="own"),
    path("deliveries/", views.delivery_log, name="deliveries"),
    path("deliveries/<str:message_id>/", views.delivery_detail, name="delivery"),
    path("deliveries/<str:message_id>/result/", views.delivery_result, name="delivery_result"),
    path("deliveries/<str:message_id>/resend/", views.delivery_resend, name="resend"),
    path("<mode:mode>/", views.endpoint_save, name="save"),
    path("<mode:mode>/test/", views.send_test, name="send_test"),
    path("<mode:mode>/recover/", views.recover, name="recover"),
    path("<mode:mode>/secrets/rotate/", views.secret_rotate, name="secret_rotate"),
    path("<mode:mode>/secrets/<int:secret_id>/reveal/", views.secret_reveal, name="secret_reveal"),
    path("<mode:mode>/secrets/<int:secret_id>/expire/", views.secret_expire, name="secret_expire"),
]
