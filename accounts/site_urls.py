"""Accounts pages outside any merchant, under ``accounts/``: logging in, password reset (ahead
of ``django.contrib.auth.urls``, which serves the rest of it), and invitations: the emailed
link (the token is the credential) hands over to a token-free accept step."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("invitation/accept/", views.invitation_accept, name="invitation_accept_step"),
    # The name stays "invitation_accept": the mail's link is reversed by it.
    path("invitation/<str:token>/", views.invitation_open, name="invitation_accept"),
]
