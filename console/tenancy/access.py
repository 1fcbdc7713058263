"""The one door into a merchant's console pages.

``merchant_view(perm)`` wraps every view whose URL names a merchant: it logs
the operator in, resolves the merchant through the tenant-scoping selector
(404 when the operator may not see it), then checks the role (403 when the role
is too weak). The view receives the ``MerchantAccess``.

``merchant_action(perm, load=...)`` is the same door for a button: a page that only
takes POST. The object the URL names is loaded first (404 when it is not this
merchant's, whatever the method: no existence oracle), then any method but POST is
answered 405.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed

from .roles import Perm
from .selectors import merchant_access_get


def merchant_view(perm: Perm, *, post_perm: Perm | None = None):
    """``perm`` to see the page; with ``post_perm``, a POST needs that one too (a page that
    everyone with ``perm`` reads, and fewer change)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, merchant_code, *args, **kwargs):
            access = merchant_access_get(operator=request.user, code=merchant_code)
            if not access.can(perm):
                raise PermissionDenied
            if request.method == "POST" and post_perm is not None and not access.can(post_perm):
                raise PermissionDenied
            request.merchant_access = access
            return view(request, access, *args, **kwargs)

        wrapped.required_perm = perm
        wrapped.post_perm = post_perm
        return wrapped

    return decorator


def merchant_action(perm: Perm, *, load: Callable | None = None):
    """A POST-only merchant page. With ``load``, ``load(access=access, **url_kwargs)`` runs
    before the method check and its result is passed to the view after ``access``."""

    def decorator(view):
        @merchant_view(perm)
        @wraps(view)
        def wrapped(request, access, **kwargs):
            loaded = () if load is None else (load(access=access, **kwargs),)
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, access, *loaded, **kwargs)

        return wrapped

    return decorator
