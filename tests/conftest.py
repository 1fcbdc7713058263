import pytest
from django.core.management import call_command

from .factories import OperatorFactory, make_member, make_merchant, make_sub_merchant


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, plus the database cache table the embedded default uses."""
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


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



from .browser import browser, page  # noqa: E402,F401  (fixtures)
