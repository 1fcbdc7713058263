"""The project's URLs plus a bare, login-protected console page to compare against."""

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from console.tenancy.access import merchant_view
from console.tenancy.roles import Perm


@merchant_view(Perm.VIEW_OVERVIEW)
def bare(request, access):
    """The console shell (navigation, switcher) and nothing else."""
    return render(request, "console/base.html", {"access": access})


def bare_json(request):
    """A bare JSON Django view: the REST benchmark's baseline on the same server."""
    return JsonResponse({"code": 0, "message": None, "response": None})


urlpatterns = [
    path("bench/m/<str:merchant_code>/bare/", bare, name="bench-bare"),
    path("bench/bare.json", bare_json),
    *project_urlpatterns,
]
