"""The one door into a merchant's console pages.

``merchant_view(perm)`` wraps every view whose URL names a merchant: it logs
the operator in, resolves the merchant through the tenant-scoping selector
(404 when the operator may not see it), then checks the role (403 when the role
is too weak). The view receives the ``MerchantAccess``.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from .roles import Perm
from .selectors import merchant_access_get


def merchant_view(perm: Perm):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, merchant_code, *args, **kwargs):
            access = merchant_access_get(operator=request.user, code=merchant_code)
            if not access.can(perm):
                raise PermissionDenied
            request.merchant_access = access
            return view(request, access, *args, **kwargs)

        wrapped.required_perm = perm
        return wrapped

    return decorator
