from django.utils.functional import SimpleLazyObject

from console.tenancy.selectors import operator_merchants


def console(request):
    """The merchant switcher's entries, computed only if a template uses them."""
    user = getattr(request, "user", None)
    return {
        "switcher_entries": SimpleLazyObject(
            lambda: operator_merchants(operator=user) if user is not None else []
        ),
    }
