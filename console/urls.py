from django.urls import path

from . import views, whitelist_views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("m/<str:merchant_code>/", views.overview, name="overview"),
    path("m/<str:merchant_code>/audit/", views.audit_log, name="audit_log"),
    path("m/<str:merchant_code>/whitelist/", whitelist_views.whitelist, name="whitelist"),
    path("m/<str:merchant_code>/whitelist/row/", whitelist_views.whitelist_row, name="whitelist_row"),
]
