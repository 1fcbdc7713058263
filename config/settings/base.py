"""Settings shared by every environment.

Everything that varies by deployment is read from the environment through one
``env`` object (django-environ). ``local``, ``test`` and ``production`` start
with ``from .base import *`` and override only what differs.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from xstatic.pkg import bootstrap as xstatic_bootstrap

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
# .env is for development (cookiecutter-django's rule): read by the local and test settings,
# by production only with DJANGO_READ_DOT_ENV_FILE=1. The environment wins over the file.
READ_DOT_ENV_FILE = env.bool(
    "DJANGO_READ_DOT_ENV_FILE",
    default=os.environ.get("DJANGO_SETTINGS_MODULE") in ("config.settings.local", "config.settings.test"),
)
if READ_DOT_ENV_FILE and (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env", overwrite=False)


def _private_dir(path: Path) -> Path:
    """Make a missing folder (and missing parents) this user's only (0700)."""
    if not path.is_dir():
        _private_dir(path.parent)
        path.mkdir(mode=0o700, exist_ok=True)
        path.chmod(0o700)  # whatever the umask
    return path


# Local state of the embedded default (SQLite file, filesystem broker queue), this user's
# only: folders 0700, files 0600.
VAR_DIR = Path(env("PGCONSOLE_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "accounts.two_factor.apps.ConsoleAdminConfig",  # django.contrib.admin, our site
    "django.contrib.auth",
    "django_otp",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    # Django REST framework runs the REST API but is not an installed app on purpose: its
    # Korean catalog would replace Django's own wording in the console (e.g. the email
    # validation message), and nothing of it needs installing (no models, no templates).
    "drf_spectacular",
    "console",  # the kernel: tenancy, models, audit trail, encryption, the REST door
    "channels",
    "webhooks",
    "payments",
    "accounts",
    "api_keys",
    "shell",
    "ops",
]

# The REST API (console/rest/base.py, the door): every view sets its own door; these defaults keep
# DRF from reaching for sessions, users or the browsable API anywhere else.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "console.rest.base.ImportSchema",
    "EXCEPTION_HANDLER": "console.rest.base.envelope_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PG Console REST API (i'mport-compatible)",
    "DESCRIPTION": "The i'mport (PortOne V1) REST API of PG Console's sandbox. Every answer is the "
                   "envelope {code, message, response}; bodies are JSON or a form.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.0.3",
    "SERVE_INCLUDE_SCHEMA": False,
    "PREPROCESSING_HOOKS": ["payments.v1.rest.openapi.only_described_paths"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "payments.v1.rest.openapi.add_constraints"],
    "APPEND_COMPONENTS": {"securitySchemes": {"token": {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "The access_token from /users/getToken, bare or as `Bearer <token>`."}}},
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Refuses what the database cannot store (NUL…) before anything reads it, the session included.
    "console.tenancy.inputs.UnstorableInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Sends a session that still owes its second login step to that step.
    "accounts.two_factor.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it sees failed logins after authentication ran.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shell.context_processors.console",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# SQLite (WAL) unless DATABASE_URL points elsewhere, e.g. postgres://user@host/db.

DATABASES = {
    "default": env.db(
        "DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _private_dir(VAR_DIR)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets the web process read while the worker writes.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DJANGO_CONN_HEALTH_CHECKS", default=True)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
# Shared across processes: Redis when configured, otherwise the database.

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pgconsole",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "pgconsole_cache",
        }
    }

# --- Authentication ---------------------------------------------------------

AUTH_USER_MODEL = "console.Operator"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed logins: locked per client address and, separately, per account.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "console.tenancy.client_ip.client_ip"
AXES_USERNAME_FORM_FIELD = "username"
# Logins match the email case-insensitively, so failures count under the trimmed,
# lower-cased email: five with any casing lock every casing.
AXES_USERNAME_CALLABLE = "accounts.forms.axes_username"
AXES_VERBOSE = False

# Password reset: this many requests per client address per hour, one mail per email per
# this many minutes; beyond, the page answers as always but sends nothing.
PGCONSOLE_PASSWORD_RESET_ADDRESS_LIMIT = env.int("PGCONSOLE_PASSWORD_RESET_ADDRESS_LIMIT", default=5)
PGCONSOLE_PASSWORD_RESET_EMAIL_MINUTES = env.int("PGCONSOLE_PASSWORD_RESET_EMAIL_MINUTES", default=5)

# Two-factor login (accounts/two_factor/). Staff need it for the Django admin when
# this is on (production turns it on by default); merchants require it of their owners
# and admins with Merchant.require_two_factor. Failed codes back off 1, 2, 4, 8 … seconds
# times the factor.
PGCONSOLE_STAFF_REQUIRE_2FA = env.bool("PGCONSOLE_STAFF_REQUIRE_2FA", default=False)
OTP_TOTP_THROTTLE_FACTOR = 1

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Asia/Seoul")
USE_TZ = True

# --- Static files -----------------------------------------------------------
# Bootstrap comes from the xstatic-bootstrap package, htmx from django-htmx.

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("bootstrap", xstatic_bootstrap.BASE_DIR),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security ---------------------------------------------------------------
# A Content-Security-Policy that needs no inline script or style.

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8

# Proxies whose X-Forwarded-For is believed (CIDR list); none by default.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# --- Encryption at rest -------------------------------------------------------
# Fernet keys, newest first (see console/crypto.py). Production requires them;
# local settings make one in var/ on first use.

PGCONSOLE_ENCRYPTION_KEYS = env.list("PGCONSOLE_ENCRYPTION_KEYS", default=[])

# --- Email ------------------------------------------------------------------
# Django 6.1 mailers. EMAIL_URL (e.g. smtp+tls://user:pass@smtp.example.com:587)
# configures SMTP; local settings keep mail on the machine instead (ops/mail.py:
# one readable file a message in PGCONSOLE_MAIL_DIR, listed at /local/outbox/).

DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="PG Console <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_email = env.email_url("EMAIL_URL", default="smtp://localhost:25")
MAILERS = {
    "default": {
        "BACKEND": env("DJANGO_EMAIL_BACKEND", default=_email["EMAIL_BACKEND"]),
        "OPTIONS": {
            "host": _email["EMAIL_HOST"],
            "port": _email["EMAIL_PORT"],
            "username": _email["EMAIL_HOST_USER"],
            "password": _email["EMAIL_HOST_PASSWORD"],
            "use_tls": _email.get("EMAIL_USE_TLS", False),
            "use_ssl": _email.get("EMAIL_USE_SSL", False),
            "timeout": 10,
        },
    }
}
PGCONSOLE_MAIL_DIR = VAR_DIR / "mail"
# Where `manage.py seed_demo` keeps the demo password it generated (0600), for `make run`'s
# banner to say again; None keeps it nowhere (tests, production).
PGCONSOLE_DEMO_PASSWORD_FILE = VAR_DIR / "demo-password"
# The outbox page (/local/outbox/) is routed only when this is on: the local settings turn
# it on; production and test settings never do (it is not read from the environment).
PGCONSOLE_LOCAL_OUTBOX = False

# --- Invitations ----------------------------------------------------------------
# How long an invitation link works, and the address links in emails start with
# (e.g. https://console.example.com). Empty: the address the inviter used.
PGCONSOLE_INVITATION_DAYS = env.int("PGCONSOLE_INVITATION_DAYS", default=7)
PGCONSOLE_PUBLIC_URL = env("PGCONSOLE_PUBLIC_URL", default="")

# --- Celery -----------------------------------------------------------------
# Redis when REDIS_URL (or CELERY_BROKER_URL) is set; otherwise the filesystem
# transport, which a separate worker process consumes just the same.

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    for _d in ("queue", "processed", "results", "control"):
        _private_dir(VAR_DIR / "celery" / _d)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "data_folder_processed": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        "control_folder": str(VAR_DIR / "celery" / "control"),  # remote control (broadcasts)
        # The worker looks for new messages this often (seconds): "Send test" answers quickly.
        "polling_interval": 0.2,
    }
    CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="") or (
        f"file://{VAR_DIR / 'celery' / 'results'}"
    )
else:
    # Tasks are short; retries of webhooks are scheduled in the database, so no
    # countdown ever comes near this timeout.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="") or CELERY_BROKER_URL
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task gets SoftTimeLimitExceeded after the soft limit and is killed at the hard one. The
# webhook lease is derived from the hard limit below; a webhook's send deadline (45 s by
# default) must end before the soft limit (all checked by webhooks.checks).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=90)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=CELERY_TASK_SOFT_TIME_LIMIT + 30)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
# Keep the worker's database connection across tasks (Celery otherwise closes it after
# every task, and a PostgreSQL reconnect costs more than a webhook delivery).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="pgconsole")
CELERY_TIMEZONE = TIME_ZONE
# The queue invitation mail goes to.
MAIL_QUEUE = env("MAIL_QUEUE", default=CELERY_TASK_DEFAULT_QUEUE)

# --- Webhooks -----------------------------------------------------------------
# Addresses a webhook may go to: public ones, plus these CIDR ranges. Production
# opens nothing; local settings open loopback so an operator can test against a
# receiver on their own machine.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
# PortOne's first send of a webhook: 10 s to connect, 30 s to wait for the answer.
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=10.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=30.0)
WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024
WEBHOOK_MAX_RESPONSE_HEADER_BYTES = 32 * 1024
# Resolving the host, at save time (in the web request) and at every send.
WEBHOOK_DNS_TIMEOUT = env.float("WEBHOOK_DNS_TIMEOUT", default=3.0)
# The most one send may take, whatever the receiver does (DNS, connect, TLS, headers and
# body together; the timeouts above bound each step). Room for a slow lookup, a slow
# connect and an answer at the end of the read timeout, plus 2 s for TLS and the body:
# 45 s by default. Under the soft time limit (checked by webhooks.checks).
WEBHOOK_SEND_DEADLINE = env.float(
    "WEBHOOK_SEND_DEADLINE",
    default=WEBHOOK_DNS_TIMEOUT + WEBHOOK_CONNECT_TIMEOUT + WEBHOOK_READ_TIMEOUT + 2,
)
# Retries of real notifications, in units (minutes by default), with ±20 % jitter.
WEBHOOK_RETRY_SCHEDULE = [int(x) for x in env.list("WEBHOOK_RETRY_SCHEDULE", default=["1", "4", "16", "64", "256"])]
WEBHOOK_RETRY_UNIT_SECONDS = env.int("WEBHOOK_RETRY_UNIT_SECONDS", default=60)
WEBHOOK_RETRY_AFTER_MAX_SECONDS = 6 * 60 * 60
# How long one worker holds a delivery: longer than the task may live (its hard time limit),
# so no other worker sends it while a send may still be in flight.
WEBHOOK_LEASE_SECONDS = env.int(
    "WEBHOOK_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 30
)
WEBHOOK_DISPATCH_INTERVAL_SECONDS = env.float("WEBHOOK_DISPATCH_INTERVAL_SECONDS", default=10.0)
WEBHOOK_SECRET_GRACE_HOURS = env.int("WEBHOOK_SECRET_GRACE_HOURS", default=24)
# The queue deliveries go to (its own queue lets a deployment give webhooks dedicated workers).
WEBHOOK_QUEUE = env("WEBHOOK_QUEUE", default=CELERY_TASK_DEFAULT_QUEUE)
WEBHOOK_USER_AGENT = "PG-Console-Webhooks/0.1 (+https://github.com/pg-console/pg-console)"

CELERY_BEAT_SCHEDULE = {
    "webhooks-dispatch-due": {
        "task": "webhooks.dispatch_due",
        "schedule": WEBHOOK_DISPATCH_INTERVAL_SECONDS,
        "options": {"expires": WEBHOOK_DISPATCH_INTERVAL_SECONDS * 3},
    },
    # Invitation mails the broker never took (it was down when the invitation was saved).
    "invitations-dispatch-due": {
        "task": "console.invitations_dispatch_due",
        "schedule": 60.0,
        "options": {"expires": 120},
    },
}

# --- Scheduled payments (payments.domain.schedules) -------------------------------------------
# How often the worker's beat runs the due scheduled payments. The schedules live in the
# database, so a tick the broker missed only makes them late: the next one runs them.
PAYMENT_SCHEDULE_INTERVAL_SECONDS = env.float("PAYMENT_SCHEDULE_INTERVAL_SECONDS", default=5.0)
# A due schedule handed to the broker is handed over again after this long if it has still not
# run (its task lost with a killed worker or a broker outage).
PAYMENT_SCHEDULE_REQUEUE_SECONDS = env.int("PAYMENT_SCHEDULE_REQUEUE_SECONDS", default=20)
CELERY_BEAT_SCHEDULE["payments-schedules-run-due"] = {
    "task": "payments.schedules_run_due",
    "schedule": PAYMENT_SCHEDULE_INTERVAL_SECONDS,
    "options": {"expires": PAYMENT_SCHEDULE_INTERVAL_SECONDS * 3},
}

# --- Logging ----------------------------------------------------------------

# Every handler redacts one-time links (ops/log_filters.py): Django's defaults are
# replaced, or its "django.server" and DEBUG console handlers would write them unredacted.
# The Celery worker applies this same configuration (config/celery_app.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {"()": "django.utils.log.ServerFormatter",
                          "format": "[{server_time}] {message}", "style": "{"},
    },
    "filters": {
        "redact_secrets": {"()": "ops.log_filters.RedactSecrets"},
        "refusals_without_traceback": {"()": "ops.log_filters.RefusalsWithoutTraceback"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain",
                    "filters": ["redact_secrets"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server",
                          "filters": ["redact_secrets"]},
        "mail_admins": {"level": "ERROR", "class": "django.utils.log.AdminEmailHandler",
                        "filters": ["require_debug_false", "redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Propagates to the root's handler; no second console handler of its own.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # Never log request bodies or headers: they carry credentials. A refused request
        # (403, 404) is one line: its traceback is the door's, not a fault, so it is dropped.
        "django.request": {"level": "WARNING", "filters": ["refusals_without_traceback"]},
        "django.security": {"level": "WARNING"},
    },
}
