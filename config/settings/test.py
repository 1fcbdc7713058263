"""Settings for the test suite (pytest-django)."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = False
SECRET_KEY = "test-only-secret-key"
# Fixed test-only Fernet keys: the first encrypts, both decrypt.
PGCONSOLE_ENCRYPTION_KEYS = [
    "dGVzdC1vbmx5LWtleS1udW1iZXItb25lLTMyLWJ5dGU=",
    "dGVzdC1vbmx5LWtleS1udW1iZXItdHdvLTMyLWJ5dGU=",
]
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In memory, unless a test points a worker process at a real SMTP receiver (EMAIL_URL).
if not env("EMAIL_URL", default=""):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
LANGUAGE_CODE = "en"
PGCONSOLE_DEMO_PASSWORD_FILE = None  # a test that wants it points it at its own folder
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="pgconsole-test")

# A file, not memory, so that a real worker process can share the test database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405

# Loopback is open here, so webhooks can go to a receiver on this machine.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
WEBHOOK_QUEUE = env("WEBHOOK_QUEUE", default=CELERY_TASK_DEFAULT_QUEUE)
MAIL_QUEUE = env("MAIL_QUEUE", default=CELERY_TASK_DEFAULT_QUEUE)

# Each test run gets its own cache namespace, so counters (e.g. failed getToken calls)
# never leak from one run into the next on a shared Redis.
if CACHES["default"]["BACKEND"].endswith("RedisCache"):  # noqa: F405
    import uuid as _uuid

    CACHES["default"]["KEY_PREFIX"] = f"pgconsole-test-{_uuid.uuid4().hex[:8]}"  # noqa: F405
