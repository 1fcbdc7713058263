from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.home, name="home"),
    path("m/<str:merchant_code>/", views.overview, name="overview"),
    path("m/<str:merchant_code>/audit/", views.audit_log, name="audit_log"),
]
