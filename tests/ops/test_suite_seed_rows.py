"""The suite's own promise (tests/conftest.py): a transactional test's flush empties every
table, and the rows the data migrations seeded come back with it, so that no test depends on
whether a transactional one ran before it (in its xdist worker)."""

import importlib

import pytest
from django.core.management import call_command

from channels.models import SharedTestCredential
from tests.conftest import SEED_MIGRATIONS


def _seeded() -> set[tuple[str, str, str]]:
    return {(provider, module, mid) for name in SEED_MIGRATIONS
            for provider, module, _code, mid, _note in importlib.import_module(name).SHARED_TEST_MIDS}


def _present() -> set[tuple[str, str, str]]:
    return set(SharedTestCredential.objects.values_list("provider", "module", "mid"))


@pytest.mark.django_db(transaction=True)
def test_the_seeded_rows_are_back_after_a_flush():
    assert _present() == _seeded()
    SharedTestCredential.objects.filter(provider="kcp").update(note="changed by a test")
    call_command("flush", interactive=False, verbosity=0)  # what the end of a transactional test runs
    assert _present() == _seeded()
    assert not SharedTestCredential.objects.filter(note="changed by a test").exists()
