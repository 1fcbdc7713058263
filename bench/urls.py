"""The project's URLs plus a bare, login-protected console page to compare against."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from console.access import merchant_view
from console.roles import Perm
from django.shortcuts import render


@merchant_view(Perm.VIEW_OVERVIEW)
def bare(request, access):
    """The console shell (navigation, switcher) and nothing else."""
    return render(request, "console/base.html", {"access": access})


urlpatterns = [path("bench/m/<str:merchant_code>/bare/", bare, name="bench-bare"), *project_urlpatterns]


def bare_json(request):
    """A bare JSON Django view: the REST benchmark's baseline on the same server."""
    from django.http import JsonResponse

    return JsonResponse({"code": 0, "message": None, "response": None})


urlpatterns.insert(0, path("bench/bare.json", bare_json))
