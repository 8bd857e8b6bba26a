"""Reads routed to a read replica (monitoring.db_router): dashboards and API GETs read from the
replica; writes, every query of a request that writes, identity and access, and everything
else go to the default database; without DATABASE_REPLICA_URL nothing changes.

The replica here is a second alias on the test database, configured as a test mirror of
default (what DATABASE_REPLICA_URL gives under test settings). It is a connection of its own,
so it sees committed data only: the Ciudades programme loaded for the session."""

import re
from collections.abc import Iterator

import environ
import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from indicators.models import ProgressReport, Rollup
from monitoring.db_router import ReplicaRouter, replica_reads
from monitoring.models import ApiToken, Membership, Programme
from monitoring.settings.parts import scaling

from ..indicators.test_api_reports import submitted

REPLICA = "replica"
DASHBOARDS = [
    ("dashboards:overview", ()),
    ("dashboards:outcomes", ()),
    ("dashboards:cities", ()),
    ("dashboards:agencies", ()),
    ("dashboards:compliance", ()),
    ("dashboards:quality", ()),
    ("dashboards:indicator", ("1.4.A",)),
    ("programme_detail", ()),
    ("budget:dashboard", ()),
]
IDENTITY_TABLES = ("django_session", "auth_user", "monitoring_membership", "monitoring_apitoken")


@pytest.fixture
def replica(db, settings) -> Iterator[BaseDatabaseWrapper]:
    """A ``replica`` alias mirroring the test database, and the setting that names it."""
    default = connections[DEFAULT_DB_ALIAS].settings_dict
    connections.settings[REPLICA] = {**default, "TEST": {**default["TEST"], "MIRROR": "default"}}
    settings.DATABASE_READ_REPLICA = REPLICA
    # Connected here: the test case, set up before the alias existed, refuses to open
    # connections to aliases it was not told about.
    connections[REPLICA].connect()
    try:
        yield connections[REPLICA]
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


class Queries:
    """The SQL each database received during the block."""

    def __enter__(self) -> "Queries":
        self._default = CaptureQueriesContext(connections[DEFAULT_DB_ALIAS])
        self._replica = CaptureQueriesContext(connections[REPLICA])
        self._default.__enter__()
        self._replica.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._replica.__exit__(*exc)
        self._default.__exit__(*exc)

    @property
    def default(self) -> list[str]:
        return [q["sql"] for q in self._default.captured_queries]

    @property
    def replica(self) -> list[str]:
        return [q["sql"] for q in self._replica.captured_queries]


def reads(queries: list[str], table: str) -> bool:
    return any(f'"{table}"' in sql for sql in queries)


def tables(queries: list[str]) -> set[str]:
    """The tables the queries select from (joined tables aside)."""
    return {table for sql in queries for table in re.findall(r'FROM "(\w+)"', sql)}


def login(client, username: str):
    client.force_login(get_user_model().objects.get(username=username))
    return client


# ---- settings ---------------------------------------------------------------------------


def base_settings() -> dict:
    return {
        "env": environ.Env(),
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "conjunto",
                "CONN_MAX_AGE": 60,
                "CONN_HEALTH_CHECKS": True,
                "ATOMIC_REQUESTS": False,
            }
        },
        "MIDDLEWARE": ["django.middleware.common.CommonMiddleware"],
    }


def test_it_adds_a_replica_alias_from_the_environment(monkeypatch):
    monkeypatch.setenv(
        "DATABASE_REPLICA_URL", "postgres://reader:pw@standby.internal:5433/conjunto"
    )
    s = base_settings()
    scaling.apply(s)
    replica = s["DATABASES"]["replica"]
    assert (replica["HOST"], replica["PORT"], replica["USER"]) == (
        "standby.internal",
        5433,
        "reader",
    )
    assert replica["ENGINE"] == "django.db.backends.postgresql"
    assert (replica["CONN_MAX_AGE"], replica["CONN_HEALTH_CHECKS"]) == (60, True)
    assert replica["TEST"] == {"MIRROR": "default"}
    assert s["DATABASE_READ_REPLICA"] == "replica"
    assert s["DATABASE_ROUTERS"] == ["monitoring.db_router.ReplicaRouter"]
    assert s["MIDDLEWARE"][-1] == "monitoring.db_router.ReplicaReadsMiddleware"


@pytest.mark.parametrize("value", [None, ""])
def test_without_a_replica_url_there_is_one_database(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_REPLICA_URL", value)
    s = base_settings()
    scaling.apply(s)
    assert list(s["DATABASES"]) == ["default"]
    assert s["DATABASE_READ_REPLICA"] == ""


def test_the_recompute_split_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RECOMPUTE_UNIT_INDICATORS", "7")
    monkeypatch.delenv("RECOMPUTE_UNIT_RESEND_AFTER", raising=False)
    s = base_settings()
    scaling.apply(s)
    assert (s["RECOMPUTE_UNIT_INDICATORS"], s["RECOMPUTE_UNIT_RESEND_AFTER"]) == (7, 600)


def test_without_a_replica_every_query_goes_to_default(client, ciudades):
    assert REPLICA not in connections.settings
    with replica_reads():
        assert router.db_for_read(Rollup) == DEFAULT_DB_ALIAS
    login(client, "rco")
    response = client.get(reverse("dashboards:overview", args=["CIUDADES"]))
    assert response.status_code == 200


# ---- the router -------------------------------------------------------------------------


def test_the_router_sends_a_marked_requests_reads_to_the_replica(replica, ciudades):
    assert router.db_for_read(Rollup) == DEFAULT_DB_ALIAS  # not marked: a task, a command
    with replica_reads():
        assert router.db_for_read(Rollup) == REPLICA
        assert router.db_for_read(Programme) == REPLICA
        # who is asking and what they may do: always the default database
        for model in (Session, get_user_model(), ApiToken, Membership):
            assert router.db_for_read(model) == DEFAULT_DB_ALIAS
        with transaction.atomic():  # a transaction of the code's own reads what it writes
            assert router.db_for_read(Rollup) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Rollup) == REPLICA
        assert router.db_for_write(Rollup) == DEFAULT_DB_ALIAS
        # after the request's first write, it reads what it wrote
        assert router.db_for_read(Rollup) == DEFAULT_DB_ALIAS
    with replica_reads():  # the next request starts afresh
        assert router.db_for_read(Rollup) == REPLICA


def test_an_object_read_from_the_replica_is_saved_to_default(replica, ciudades):
    with replica_reads():
        programme = Programme.objects.get(code="CIUDADES")
        assert programme._state.db == REPLICA
        with Queries() as queries:
            programme.save(update_fields=["name_en"])
    assert reads(queries.default, "monitoring_programme") and not queries.replica
    assert programme._state.db == DEFAULT_DB_ALIAS


def test_the_replica_is_never_migrated_and_relations_span_both(replica, ciudades):
    rule = ReplicaRouter()
    assert rule.allow_migrate(REPLICA, "indicators") is False
    assert rule.allow_migrate(DEFAULT_DB_ALIAS, "indicators") is None
    with replica_reads():
        from_replica = Programme.objects.get(code="CIUDADES")
    from_default = Programme.objects.get(code="CIUDADES")
    assert rule.allow_relation(from_replica, from_default) is True


# ---- requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "args"), DASHBOARDS)
def test_dashboards_read_their_figures_from_the_replica(replica, client, ciudades, name, args):
    login(client, "rco")
    with Queries() as queries:
        response = client.get(reverse(name, args=["CIUDADES", *args]))
    assert response.status_code == 200
    assert {"monitoring_programme", "indicators_rollup"} <= tables(queries.replica)
    # the session, the user and the membership, and nothing else: from the default database
    assert tables(queries.default) == {"django_session", "auth_user", "monitoring_membership"}
    assert not tables(queries.replica) & set(IDENTITY_TABLES)


def test_api_gets_read_from_the_replica(replica, ciudades):
    client = login(APIClient(HTTP_ACCEPT_LANGUAGE="en"), "rco")
    with Queries() as queries:
        response = client.get(reverse("api:rollups"), {"indicator": "1.4.A", "latest": "true"})
    assert response.status_code == 200 and response.json()["results"]
    assert reads(queries.replica, "indicators_rollup")
    assert not reads(queries.default, "indicators_rollup")
    with Queries() as queries:
        response = client.get(reverse("api:indicator-list"), {"programme": "CIUDADES"})
    assert response.status_code == 200
    assert reads(queries.replica, "indicators_indicator")


def test_a_token_request_that_records_its_use_reads_from_default_after(replica, ciudades):
    _token, key = ApiToken.issue(
        user=get_user_model().objects.get(username="donor"),
        programme=ciudades,
        scope="read",
        days=30,
        name="fund",
    )
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    path, params = reverse("api:rollups"), {"indicator": "1.4.A", "latest": "true"}
    with Queries() as first:
        assert client.get(path, params).status_code == 200
    # The first use writes the token's last-use time: the rest of that request reads default.
    assert reads(first.default, "indicators_rollup") and not first.replica
    with Queries() as second:  # within the minute: nothing written, the figures from replica
        assert client.get(path, params).status_code == 200
    assert reads(second.replica, "indicators_rollup")
    assert reads(second.default, "monitoring_apitoken")  # the token itself: default


def test_a_write_request_uses_default_for_everything(replica, ciudades):
    report = submitted(ciudades)
    client = login(APIClient(HTTP_ACCEPT_LANGUAGE="en"), "approver.ilo")
    with Queries() as queries:
        response = client.post(reverse("api:report-approve", args=[report.pk]), {}, format="json")
    assert response.status_code == 200, response.json()
    assert not queries.replica
    assert reads(queries.default, "indicators_progressreport")
    report.refresh_from_db()
    assert report.status == ProgressReport.Status.APPROVED


def test_reports_and_exports_read_from_default_even_on_get(replica, client, ciudades):
    api = login(APIClient(HTTP_ACCEPT_LANGUAGE="en"), "rco")
    login(client, "rco")
    with Queries() as queries:
        assert api.get(reverse("api:reports"), {"programme": "CIUDADES"}).status_code == 200
        export = api.get(reverse("api:export-results"), {"programme": "CIUDADES", "format": "csv"})
        assert export.status_code == 200
        b"".join(export.streaming_content)
        page = client.get(reverse("reports:calendar", args=["CIUDADES"]))
        assert page.status_code == 200
    assert not queries.replica
    assert reads(queries.default, "indicators_rollup")
