"""Shared pieces of the Django admin."""


class ReadOnlyAdminMixin:
    """A list-and-look admin: staff see the rows but never add, change or delete them there.
    Such rows change only through the console's services, which validate and audit; an
    admin action that must change one calls a service too."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
