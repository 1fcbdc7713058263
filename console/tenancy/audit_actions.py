"""The audit vocabulary's registry: every action an audit row can record, with a label for
operators.

The kernel lists no feature's actions. Each app declares its own as a ``TextChoices`` in its
``audit.py`` and registers it from its ``AppConfig.ready()`` (``register``); rows, pages and
the admin ask the registry for a code's label (``label``) and for the whole list
(``choices``). The codes are stored in the rows, so a code never changes once used: add a
member for a new action, and relabel freely. Two apps cannot register the same code.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import models

_owners: dict[str, type[models.TextChoices]] = {}  # code -> the TextChoices that declares it


def register(actions: type[models.TextChoices]) -> None:
    """Add an app's actions. Registering the same class again changes nothing; a code that
    another class already declares is refused (``ImproperlyConfigured``)."""
    for action in actions:
        owner = _owners.get(action.value)
        if owner is not None and owner is not actions:
            raise ImproperlyConfigured(
                f"The audit action {action.value!r} is declared twice: by "
                f"{owner.__module__}.{owner.__qualname__} and {actions.__module__}.{actions.__qualname__}.")
    for action in actions:
        _owners[action.value] = actions


def is_registered(code: str) -> bool:
    return code in _owners


def label(code: str) -> str:
    """The action's label for operators; a code no app registers shows as it is."""
    owner = _owners.get(code)
    return str(owner(code).label) if owner is not None else code


def choices() -> list[tuple[str, str]]:
    """Every registered action as ``(code, label)``, in code order."""
    return [(code, label(code)) for code in sorted(_owners)]
