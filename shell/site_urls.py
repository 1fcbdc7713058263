"""The shell's page outside any merchant: home, which sends the operator to their merchant."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
]
