"""Accounts pages outside any merchant, under ``accounts/``: logging in, and accepting an
invitation (the link is the credential)."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
