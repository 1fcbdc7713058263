from django.conf import settings
from django.core.checks import Error, register


@register()
def encryption_keys(app_configs, **kwargs):
    """Refuse to run with encryption keys that cannot encrypt (caught at start-up, not first use)."""
    from cryptography.fernet import Fernet

    keys = getattr(settings, "PGCONSOLE_ENCRYPTION_KEYS", [])
    if not keys:
        return [Error("PGCONSOLE_ENCRYPTION_KEYS is empty.", hint="Set one or more Fernet keys.",
                      id="pgconsole.E001")]
    errors = []
    for index, key in enumerate(keys):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(Error(
                f"PGCONSOLE_ENCRYPTION_KEYS item {index + 1} is not a Fernet key.",
                hint="Make one with: python -c 'from cryptography.fernet import Fernet; "
                     "print(Fernet.generate_key().decode())'",
                id="pgconsole.E002",
            ))
    return errors
