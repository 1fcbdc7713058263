import importlib
import subprocess

import pytest
from django.apps import apps as global_apps
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models.signals import post_migrate

from . import worker as worker_module
from .browser import BROWSER
from .factories import OperatorFactory, make_member, make_merchant, make_sub_merchant
from .worker import SHARED_WORKER


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, plus the database cache table the embedded default uses. At the end,
    on PostgreSQL, what another thread still holds open on it (a live server's request the
    browser left behind) is ended, so the database can be dropped."""
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")


# --- the seed rows, back after every flush --------------------------------------------------
# A transactional test ends with a flush, which empties every table, the rows the data
# migrations seeded too (the platform's shared test MIDs). Django sends post_migrate after the
# flush (to make content types and permissions again): the same migrations seed them again
# here, so every test, whatever ran before it, finds the database as migrated.
SEED_MIGRATIONS = ("channels.migrations.0002_seed_shared_test_credentials",
                   "channels.migrations.0004_seed_new_provider_test_credentials")


def _seed_again(sender, plan=None, **kwargs):
    if sender.label != "pgchannels" or plan is not None:  # a plan: a migrate, which seeds them itself
        return
    for name in SEED_MIGRATIONS:
        importlib.import_module(name).seed(global_apps, None)


post_migrate.connect(_seed_again, dispatch_uid="tests.conftest.seed_again")


# --- rows made once for a module --------------------------------------------------------------

class _ModuleRows:
    """The open transaction of ``module_transaction``, if any."""

    atomic = None

    def end(self, django_db_blocker) -> None:
        atomic, self.atomic = self.atomic, None
        if atomic is not None:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)


MODULE_ROWS = _ModuleRows()


@pytest.fixture(scope="module")
def module_transaction(django_db_setup, django_db_blocker):
    """A transaction around a module's tests, for rows made once for all of them (a permission
    matrix's world, made in a module-scoped fixture that asks for this one and unblocks the
    database). Each test's own transaction nests in it as a savepoint, so what a test changes
    is undone after it, and the rows themselves after the last test that uses them (those run
    last among their module's: see pytest_collection_modifyitems). For tests that run in a
    transaction only: nothing made here is ever committed."""
    with django_db_blocker.unblock():
        MODULE_ROWS.atomic = transaction.atomic()
        MODULE_ROWS.atomic.__enter__()
    yield
    MODULE_ROWS.end(django_db_blocker)


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))) or (
        "transactional_db" in request.fixturenames or "live_server" in request.fixturenames)


@pytest.fixture(autouse=True)
def _no_module_rows_where_unused(request, django_db_blocker):
    """A test that does not use a module's rows never sees them: a transactional one (which
    opens no transaction of its own) ends them first; any other can only have been ordered
    wrong."""
    if MODULE_ROWS.atomic is None or "module_transaction" in request.fixturenames:
        return
    if not _transactional(request):
        pytest.fail(f"{request.node.nodeid} runs inside another test's module_transaction", pytrace=False)
    MODULE_ROWS.end(django_db_blocker)


# --- one Celery worker and one browser for the tests that use them --------------------------

@pytest.fixture(scope="session")
def _shared_worker_slot(django_db_setup):
    yield SHARED_WORKER
    SHARED_WORKER.stop()  # before the test database goes


@pytest.fixture
def shared_worker(_shared_worker_slot):
    """The session's Celery worker (tests/worker.py), started by the first test that asks."""
    return _shared_worker_slot.get()


@pytest.fixture(autouse=True)
def _shared_only_where_used(request):
    """A test that does not use the shared worker (or browser) runs without it: its beat
    would otherwise act on the rows a transactional test commits."""
    if "shared_worker" not in request.fixturenames:
        SHARED_WORKER.stop()
    if "browser" not in request.fixturenames:
        BROWSER.stop()


def pytest_itemcollected(item):
    # What needs the shared worker or a browser is marked so, for `make test-fast` (-m).
    if "shared_worker" in item.fixturenames:
        item.add_marker(pytest.mark.worker)
    if "browser" in item.fixturenames:
        item.add_marker(pytest.mark.browser)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """After pytest-django's order (transactional tests after the others), the tests that use
    the shared worker, then those that use it and a browser, then those that use a browser
    only: each is started about once per session."""
    def rank(item):
        names = item.fixturenames
        if "browser" in names:
            return 2 if "shared_worker" in names else 3
        return 1 if "shared_worker" in names else 0

    items.sort(key=rank)
    # Within each run of one module's tests, those that use its module_transaction rows last:
    # the rows go with the module's teardown, before anything else runs.
    ordered, run = [], []
    for item in [*items, None]:
        if run and (item is None or item.nodeid.split("::")[0] != run[0].nodeid.split("::")[0]):
            ordered += sorted(run, key=lambda each: "module_transaction" in each.fixturenames)
            run = []
        if item is not None:
            run.append(item)
    items[:] = ordered


def pytest_runtest_setup(item):
    worker_module.current_test = item


@pytest.fixture(autouse=True)
def _programs_only_where_marked(request, monkeypatch):
    """A test that starts another program (a fresh interpreter, a server, a script, a gettext
    tool) is marked ``script`` (or ``worker``, ``browser``): `make test-fast` leaves those out."""
    if any(request.node.get_closest_marker(mark) for mark in ("script", "worker", "browser")):
        return
    popen_init = subprocess.Popen.__init__

    def refuse(self, args, *more, **kwargs):
        pytest.fail(f"{request.node.nodeid} starts {args!r}: mark it pytest.mark.script", pytrace=False)
        popen_init(self, args, *more, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


def pytest_runtest_teardown(item):
    worker_module.current_test = None


@pytest.fixture
def agency(db):
    return make_merchant("Acme Agency")


@pytest.fixture
def sub_merchant(agency):
    return make_sub_merchant(agency, "A01", name="Acme Seoul")


@pytest.fixture
def other_merchant(db):
    return make_merchant("Other Corp")


@pytest.fixture
def owner(agency):
    return make_member(agency, "owner")


@pytest.fixture
def operator_factory(db):
    return OperatorFactory



from .browser import _browser_slot, browser, page  # noqa: E402,F401  (fixtures)
