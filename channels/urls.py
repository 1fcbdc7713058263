from django.urls import path

from . import views

app_name = "channels"

urlpatterns = [
    path("", views.channel_list, name="list"),
    path("new/", views.channel_new, name="new"),
    path("<str:channel_key>/edit/", views.channel_edit, name="edit"),
    path("<str:channel_key>/enabled/", views.channel_set_enabled,
         name="set_enabled"),
    path("<str:channel_key>/disable/", views.channel_disable,
         name="disable"),
    path("<str:channel_key>/default/", views.channel_make_default,
         name="make_default"),
    path("<str:channel_key>/assign/", views.channel_assign,
         name="assign"),
    path("<str:channel_key>/delete/", views.channel_delete,
         name="delete"),
]
