import os

from celery import Celery
from celery.signals import setup_logging
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# filesystem:// (the embedded default) is kombu's transport with messages written whole and
# kept until acknowledged (ops/broker.py), in every process that loads the project.
TRANSPORT_ALIASES["filesystem"] = "ops.broker:Transport"

app = Celery("pgconsole")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _logging_as_django_does(loglevel=None, **kwargs):
    """The worker logs through the project's LOGGING, as the web process does.

    Without a receiver Celery replaces the root logger's handlers with its own and gives
    ``celery.task`` a handler of its own too, so the redaction filter (``redact_secrets``)
    would not run in the worker. The worker's ``--loglevel`` still sets the level.
    """
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    if loglevel:
        import logging

        logging.getLogger().setLevel(loglevel)
