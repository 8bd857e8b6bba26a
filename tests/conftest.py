"""Shared fixtures. The Ciudades programme is loaded once per test session (the same command
a user runs); every test then runs in a transaction that is rolled back.

Personas, as in DESIGN §1: an ILO coordinator in Santiago, an IOM approver, an RCO viewer, a
donor, a programme admin, and an outsider who belongs to no programme."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from monitoring.models import Programme

PASSWORD = "ciudades-demo-2026"


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """The test database, always created (a test that commits for a worker process asks for it
    directly), with Ciudades loaded."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        call_command("load_ciudades", verbosity=0, stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=0)


@pytest.fixture
def ciudades(db) -> Programme:
    return Programme.objects.get(code="CIUDADES")


def _user(username: str):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def ilo_coordinator_scl(db):
    return _user("coord.ilo.scl")


@pytest.fixture
def iom_approver(db):
    return _user("approver.iom")


@pytest.fixture
def rco_viewer(db):
    return _user("rco")


@pytest.fixture
def donor(db):
    return _user("donor")


@pytest.fixture
def programme_admin(db):
    return _user("admin")


@pytest.fixture
def outsider(db):
    return get_user_model().objects.create_user("outsider", password=PASSWORD)


@pytest.fixture(autouse=True)
def _english_messages():
    """Messages are asserted in English unless a test switches language itself."""
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    """A browser that asks for English; tests of the Spanish default build their own."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")
