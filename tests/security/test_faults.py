"""Faults (issue 8 §4): a dependency that is down gets a clear answer instead of a crash, and
nothing approved is ever lost.

The first part drives the degraded paths inside this process (a database that refuses, a
Redis that is gone, a broker that refuses a task). The second part uses real processes and
throwaway servers of its own, never the machine's PostgreSQL or Redis:

a. a Celery worker killed (SIGKILL) while it is writing rollups;
b. a redis-server (broker and cache) killed while an approver approves, and started again;
c. a PostgreSQL cluster restarted and stopped under gunicorn and concurrent clients."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.core.signals import got_request_exception
from django.db import OperationalError, connection, connections
from django.http import HttpResponse, HttpResponseServerError
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from budgets.services import request_budget_refresh
from indicators import services, tasks
from indicators.engine import recompute
from indicators.models import IndicatorValue, ProgressReport, RecomputeRequest, Rollup
from monitoring import degrade
from monitoring.celery import app as celery_app
from monitoring.models import ApiToken, Membership
from surveys import submission
from surveys.models import Survey
from tests.indicators.engine_fixtures import Gold
from tests.indicators.test_real_worker import broker as real_broker  # noqa: F401 (fixture)
from tests.indicators.test_real_worker import (
    database_url,
    remove_gold,
    reset_connections,
    start_worker,
    stop,
    wait_for,
    wait_for_line,
)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "ciudades-demo-2026"
DB_MESSAGE = "The database is not answering. Your last saved work is safe. Try again in a minute."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def database_refusing() -> Iterator[None]:
    """Every new cursor of this process's connection fails as an unreachable server does."""
    conn = connections["default"]

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError('connection to server at "10.9.8.7", port 5432 failed')

    saved = conn.create_cursor
    conn.create_cursor = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        conn.create_cursor = saved  # type: ignore[method-assign]


@contextlib.contextmanager
def broker_refusing() -> Iterator[None]:
    """This process's Celery app sends to a Redis nobody listens on."""
    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    saved = {k: celery_app.conf[k] for k in keys}
    celery_app.conf.update(
        broker_url=f"redis://127.0.0.1:{free_port()}/0",
        task_always_eager=False,
        broker_transport_options={"socket_connect_timeout": 1},
    )
    reset_connections()
    try:
        yield
    finally:
        celery_app.conf.update(**saved)
        reset_connections()


def token_client(username: str, programme, scope: str = "read") -> APIClient:
    user = get_user_model().objects.get(username=username)
    _token, key = ApiToken.issue(user=user, programme=programme, scope=scope, days=1, name="t")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- the database does not answer -----------------------------------------------------------


@pytest.mark.django_db
def test_a_page_answers_503_with_a_clear_message_in_both_languages(ilo_coordinator_scl):
    browser = Client(HTTP_ACCEPT_LANGUAGE="es")
    browser.force_login(ilo_coordinator_scl)
    with database_refusing():
        response = browser.get("/programmes/CIUDADES/reports/")
    assert response.status_code == 503
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Retry-After"] == "60"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Request-ID"]
    page = response.content.decode()
    assert page.index('lang="es"') < page.index('<section class="card" lang="en"')
    assert DB_MESSAGE in page
    for internal in ("Traceback", "10.9.8.7", "OperationalError", "5432"):
        assert internal not in page


@pytest.mark.django_db
def test_the_api_answers_503_in_its_error_body(ciudades):
    donor = token_client("donor", ciudades)
    with database_refusing():
        response = donor.get("/api/v1/programmes/")
    assert response.status_code == 503
    assert response.json() == {
        "status": 503,
        "code": "database_unavailable",
        "detail": DB_MESSAGE,
    }


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_with_debug_on_it_is_still_the_short_page_not_a_traceback(client, ilo_coordinator_scl):
    client.force_login(ilo_coordinator_scl)
    with database_refusing():
        response = client.get("/programmes/CIUDADES/")
    assert response.status_code == 503
    assert "Traceback" not in response.content.decode()


def test_a_failure_escaping_a_middleware_becomes_the_503_too():
    """Django turns an exception raised by a middleware (say, saving the session) into a 500
    and signals it; the outer middleware replaces that 500."""

    def inner(request):
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError:
            got_request_exception.send(sender=None, request=request)
        return HttpResponseServerError("a 500 page")

    response = degrade.DependencyFailureMiddleware(inner)(RequestFactory().get("/somewhere/"))
    assert response.status_code == 503
    assert DB_MESSAGE in response.content.decode()
    api = degrade.DependencyFailureMiddleware(inner)(RequestFactory().get("/api/v1/x/"))
    assert json.loads(api.content)["code"] == "database_unavailable"


def test_other_errors_are_not_disguised_as_an_outage():
    middleware = degrade.DependencyFailureMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/")
    assert middleware.process_exception(request, ValueError("a bug")) is None
    server_error = degrade.DependencyFailureMiddleware(lambda r: HttpResponseServerError())
    assert server_error(request).status_code == 500


# --- Redis is down: the cache ---------------------------------------------------------------


@pytest.fixture
def dead_cache(monkeypatch):
    """Django's cache pointed at a Redis nobody listens on."""
    monkeypatch.setattr(degrade, "_down_until", {})
    location = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "monitoring.degrade.ForgivingRedisCache",
                "LOCATION": location,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
                "KEY_PREFIX": f"faults-{uuid.uuid4().hex}",
            }
        }
    ):
        yield location


def test_a_cache_whose_redis_is_gone_answers_as_an_empty_cache(dead_cache, caplog, monkeypatch):
    assert cache.get("k", "default") == "default"
    assert cache.set("k", 1) is None
    assert cache.add("k", 1) is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("k") is False
    assert cache.delete("k") is False
    assert cache.touch("k") is False
    assert cache.set_many({"a": 1}) == ["a"]
    assert cache.delete_many(["a"]) is None
    assert cache.clear() is False
    assert cache.get_or_set("k", 5) == 5
    with pytest.raises(ValueError):
        cache.incr("k")
    warnings = [r for r in caplog.records if r.name == "monitoring.degrade"]
    assert [r.getMessage() for r in warnings] == [
        "cache unavailable (ConnectionError); serving without it"
    ]
    # Within RETRY_AFTER, Redis is not even asked.
    asked = []
    monkeypatch.setattr(RedisCache, "get", lambda *a: asked.append(a))
    assert cache.get("k") is None and asked == []


@pytest.mark.django_db
def test_api_throttles_and_survey_rate_limits_work_without_the_cache(dead_cache, ciudades):
    donor = token_client("donor", ciudades)
    for _ in range(3):
        assert donor.get("/api/v1/programmes/").status_code == 200
    assert APIClient().get("/api/v1/programmes/").status_code in (401, 403)
    survey = Survey.objects.filter(programme=ciudades).first()
    submission._count_response(survey, "203.0.113.9")
    assert submission._responses_from(survey, "203.0.113.9") == 0


# --- Redis is down: the broker --------------------------------------------------------------


def _in_a_request(callbacks: list) -> HttpResponse:
    """Run ``callbacks`` (what the service asked to run after its commit) as they run in a
    real request: inside the middleware, before the response leaves."""
    request = RequestFactory().post("/programmes/CIUDADES/reports/x/approve/")
    request._messages = CookieStorage(request)  # type: ignore[attr-defined]

    def view(request):
        for callback in callbacks:
            callback()
        return HttpResponse(status=302)

    response = degrade.DeferredWorkNoticeMiddleware(view)(request)
    response.messages = [str(m) for m in get_messages(request)]  # type: ignore[attr-defined]
    return response


@pytest.mark.django_db
def test_an_approval_with_the_broker_down_is_saved_and_the_user_told(
    ciudades, django_capture_on_commit_callbacks
):
    from tests.indicators.test_api_reports import submitted

    report = submitted(ciudades)
    approver = get_user_model().objects.get(username="approver.ilo")
    with broker_refusing():
        with django_capture_on_commit_callbacks() as callbacks:
            services.report_approve(report=report, actor=approver)
        response = _in_a_request(callbacks)
    assert ProgressReport.objects.get(pk=report.pk).status == "approved"
    ids = set(report.values.values_list("indicator_id", flat=True))
    assert ids and ids <= set(RecomputeRequest.objects.values_list("pk", flat=True))
    assert response[degrade.DEFERRED_HEADER] == "true"
    assert response.messages == [degrade.deferred_notice()]


@pytest.mark.django_db
def test_a_budget_change_with_the_broker_down_does_not_fail(
    ciudades, django_capture_on_commit_callbacks
):
    with broker_refusing():
        with django_capture_on_commit_callbacks() as callbacks:
            request_budget_refresh(ciudades.pk)
        response = _in_a_request(callbacks)
    assert len(callbacks) == 1
    assert response[degrade.DEFERRED_HEADER] == "true"


def test_a_request_that_deferred_nothing_gets_no_notice():
    response = _in_a_request([])
    assert degrade.DEFERRED_HEADER not in response and response.messages == []


# --- a. a worker killed while it writes rollups ---------------------------------------------

ROLLUP_COLUMNS = [
    f.attname for f in Rollup._meta.concrete_fields if f.name not in ("id", "computed_at")
]


def rollups_of(indicator) -> list[tuple]:
    return sorted(Rollup.objects.filter(indicator=indicator).values_list(*ROLLUP_COLUMNS), key=repr)


VALUE_COLUMNS = (
    "report_id", "report__status", "indicator_id", "category_id", "value", "numerator",
    "denominator",
)  # fmt: skip


def values_of(programme) -> list[tuple]:
    """Every figure of the programme with its report's state: what must never be lost."""
    return sorted(
        IndicatorValue.objects.filter(report__programme=programme).values_list(*VALUE_COLUMNS),
        key=repr,
    )


@contextlib.contextmanager
def slow_rollup_writes() -> Iterator[None]:
    """Every statement writing rollups takes seconds (a trigger), so that a worker can be
    killed while its recompute transaction has deleted old rows and written some new ones."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION faults_slow() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER faults_slow AFTER INSERT ON indicators_rollup "
                "FOR EACH STATEMENT EXECUTE FUNCTION faults_slow()"
            )
        else:  # no sleep in SQLite: a large count per row written
            cursor.execute(
                "CREATE TRIGGER faults_slow AFTER INSERT ON indicators_rollup BEGIN "
                "SELECT count(*) FROM auth_permission a, auth_permission b, auth_permission c; "
                "END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("DROP TRIGGER IF EXISTS faults_slow ON indicators_rollup")
                cursor.execute("DROP FUNCTION IF EXISTS faults_slow()")
            else:
                cursor.execute("DROP TRIGGER IF EXISTS faults_slow")


def writing_rollups() -> bool:
    """The worker is inside its recompute transaction, writing rollups."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                "AND query LIKE '%%INSERT INTO indicators_rollup%%'"
            )
            return cursor.fetchone()[0] > 0
    return Path(f"{connection.settings_dict['NAME']}-journal").exists()


def test_a_worker_killed_while_writing_rollups_loses_nothing_and_the_work_is_redone(
    request, django_db_setup, django_db_blocker
):
    queue, env = request.getfixturevalue("real_broker")
    redis = bool(settings.REDIS_URL)
    env = {**env, "RECOMPUTE_SWEEP_AFTER": "0"}
    if redis:  # redeliver unacknowledged tasks after 2 s instead of an hour
        env["CELERY_BROKER_TRANSPORT_OPTIONS"] = json.dumps({"visibility_timeout": 2})
    with django_db_blocker.unblock():
        gold = Gold()
        first = second = None
        try:
            people = gold.indicator()
            events = gold.indicator()
            share = gold.indicator(measure="percent", time_rule="latest", place_rule="weighted")
            indicators = [people, events, share]
            gold.value(people, "Q1", 10)
            gold.value(events, "Q1", 4, city="B")
            gold.value(share, "Q1", 50, num=5, den=10)
            recompute([i.pk for i in indicators])
            old = {i.pk: rollups_of(i) for i in indicators}
            for city, n in (("A", 1), ("B", 2)):
                report = gold.report("Q2", city, "X", status="submitted")
                gold.value(people, "Q2", 5 * n, city=city, status="submitted")
                gold.value(events, "Q2", n, city=city, status="submitted")
                gold.value(share, "Q2", 75, num=15 * n, den=20 * n, city=city, status="submitted")
            approved = []
            with slow_rollup_writes():
                for city in ("A", "B"):  # committed at once; each enqueues its recompute
                    report = gold.report("Q2", city, "X")
                    approved.append(services.report_approve(report=report, actor=None))
                figures = values_of(gold.programme)
                first = start_worker(queue, env, loglevel="info")
                wait_for_line(first, "recompute_indicators")
                wait_for(writing_rollups, timeout=30)
                time.sleep(0.5)
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=30)
            after_kill = {i.pk: rollups_of(i) for i in indicators}
            assert values_of(gold.programme) == figures  # every approved figure is there
            assert all(
                r.status == "approved"
                for r in ProgressReport.objects.filter(pk__in=[a.pk for a in approved])
            )
            pending = set(RecomputeRequest.objects.values_list("pk", flat=True))
            assert {i.pk for i in indicators} <= pending  # still owed
            if redis:
                time.sleep(2.5)
            second = start_worker(queue, env)
            tasks.sweep_pending.delay()
            wait_for(lambda: not RecomputeRequest.objects.filter(indicator__in=indicators).exists())
            wait_for(
                lambda: gold.rollups(people, period=gold.period["Q2"], scope="programme").exists()
            )
            converged = {i.pk: rollups_of(i) for i in indicators}
            assert gold.rollup(people, as_of="Q2").actual == 10 + 5 + 10
            assert gold.rollup(events, as_of="Q2").actual == 4 + 1 + 2
            assert gold.rollup(share, as_of="Q2").actual == Decimal(75)
            recompute([i.pk for i in indicators])  # the same figures, computed here again
            assert {i.pk: rollups_of(i) for i in indicators} == converged
            for i in indicators:  # never half: each indicator's rollups were old or new
                assert after_kill[i.pk] in (old[i.pk], converged[i.pk])
            assert after_kill[people.pk] == old[people.pk] != converged[people.pk]
            assert values_of(gold.programme) == figures
        finally:
            stop(first)
            stop(second)
            remove_gold()


# --- b. Redis stopped while coordinators approve --------------------------------------------


class RedisServer:
    """A redis-server of this test's own on a free port, without persistence: killing it
    loses whatever it held, as a crashed broker does."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.answers, timeout=20)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)


def celery_process(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "monitoring", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def tail(path: Path, lines: int = 30) -> str:
    return (
        "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
    )


@contextlib.contextmanager
def app_on(redis: RedisServer, queue: str, monkeypatch) -> Iterator[None]:
    """This process's broker and cache are the test's own Redis, as with REDIS_URL."""
    keys = ("broker_url", "task_always_eager", "broker_transport_options", "task_default_queue")
    saved = {k: celery_app.conf[k] for k in keys}
    celery_app.conf.update(
        broker_url=redis.url,
        task_always_eager=False,
        broker_transport_options={"socket_connect_timeout": 1},
        task_default_queue=queue,
    )
    reset_connections()
    monkeypatch.setattr(degrade, "_down_until", {})
    monkeypatch.setattr(degrade.ForgivingRedisCache, "RETRY_AFTER", 0.2)
    caches = {
        "default": {
            "BACKEND": "monitoring.degrade.ForgivingRedisCache",
            "LOCATION": redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            "KEY_PREFIX": f"faults-{uuid.uuid4().hex}",
        }
    }
    try:
        with override_settings(CACHES=caches):
            yield
    finally:
        celery_app.conf.update(**saved)
        reset_connections()


def test_redis_stopped_while_approving_loses_no_approval_and_rollups_catch_up(
    django_db_setup, django_db_blocker, tmp_path, monkeypatch
):
    redis = RedisServer(tmp_path)
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        # Local settings: with a broker, tasks are sent (the test settings run them in-process).
        "DJANGO_SETTINGS_MODULE": "monitoring.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis.url,
        "CELERY_BROKER_URL": redis.url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": "{}",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "RECOMPUTE_SWEEP_AFTER": "1",
        "RECOMPUTE_SWEEP_EVERY": "2",
    }
    worker = beat = None
    with django_db_blocker.unblock(), app_on(redis, queue, monkeypatch):
        gold = Gold()
        approver = get_user_model().objects.create_user("faults.approver", password=PASSWORD)
        try:
            Membership.objects.create(
                user=approver, programme=gold.programme, role="approver", agency=gold.agency["X"]
            )
            people = gold.indicator()
            gold.value(people, "Q1", 10)
            recompute([people.pk])
            figures = {("Q2", "A"): 1, ("Q2", "B"): 2, ("Q3", "A"): 3, ("Q3", "B"): 4,
                       ("Q4", "A"): 5, ("Q4", "B"): 6}  # fmt: skip
            for (period, city), figure in figures.items():
                gold.report(period, city, "X", status="submitted")
                gold.value(people, period, figure, city=city, status="submitted")
            browser = Client(HTTP_ACCEPT_LANGUAGE="en")
            browser.force_login(approver)
            _token, key = ApiToken.issue(
                user=approver, programme=gold.programme, scope="read", days=1, name="faults"
            )
            machine = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Token {key}")

            def approve(period: str, city: str) -> tuple[Any, str]:
                """Approve on the report page as a person does; the response and the page
                the browser lands on."""
                report = gold.report(period, city, "X")
                url = f"/programmes/GOLD/reports/{gold.period[period].code}/GOLD-X/GOLD-{city}/"
                response = browser.post(f"{url}approve/", {"version": report.version})
                assert response.status_code == 302, response.content[:500]
                page = browser.get(url)
                assert page.status_code == 200
                return response, page.content.decode()

            def finished(task: str) -> int:
                """How many times the worker has finished ``task`` with work done (checks
                and budget figures included: they are written after the rollups)."""
                text = (tmp_path / "worker.log").read_text(errors="replace")
                done = rf"{task}\[[^\]]+\] succeeded in [\d.]+s: [1-9]"
                return len(re.findall(done, text))

            def ltd(as_of: str):
                row = gold.rollups(people, period=gold.period[as_of], scope="programme")
                row = row.filter(category=None).first()
                return row.ltd_actual if row is not None else None

            redis.start()
            worker = celery_process(
                ["worker", "--pool", "solo", "-Q", queue, "--without-heartbeat",
                 "--without-gossip", "--without-mingle", "--loglevel", "info"],
                env, tmp_path / "worker.log",
            )  # fmt: skip
            beat = celery_process(
                ["beat", "-s", str(tmp_path / "beat-schedule"), "--loglevel", "info"],
                env,
                tmp_path / "beat.log",
            )
            # Redis up: approvals are recomputed by the worker.
            for n, city in enumerate(("A", "B"), start=1):
                response, page = approve("Q2", city)
                assert degrade.DEFERRED_HEADER not in response
                assert "Report approved." in page and degrade.deferred_notice() not in page
                wait_for(lambda n=n: finished("recompute_indicators") >= n, timeout=60)
            assert ltd("Q2") == 13

            # Redis down: approvals still succeed, with a clear notice; nothing else fails.
            redis.kill()
            sweeps = finished("sweep_pending")
            for city in ("A", "B"):
                response, page = approve("Q3", city)
                assert response[degrade.DEFERRED_HEADER] == "true"
                assert "Report approved." in page and degrade.deferred_notice() in page
            assert machine.get("/api/v1/programmes/").status_code == 200  # throttle: no cache
            assert browser.get("/programmes/GOLD/").status_code == 200
            health = Client().get("/healthz")
            assert health.status_code == 200
            assert (health.json()["status"], health.json()["broker"]) == ("degraded", "unavailable")
            pending = set(RecomputeRequest.objects.values_list("pk", flat=True))
            assert people.pk in pending  # written with the approval: the sweep will find it
            assert ltd("Q3") is None

            # Redis back (empty, its queue lost): the sweep catches up by itself.
            redis.start()
            wait_for(lambda: finished("sweep_pending") > sweeps, timeout=90)
            assert ltd("Q3") == 20
            assert not RecomputeRequest.objects.filter(indicator=people).exists()
            # and later approvals go through as before.
            recomputes = finished("recompute_indicators")
            for n, city in enumerate(("A", "B"), start=1):
                response, page = approve("Q4", city)
                assert degrade.DEFERRED_HEADER not in response
                assert "Report approved." in page
                wait_for(lambda n=n: finished("recompute_indicators") >= recomputes + n, timeout=60)
            assert ltd("Q4") == 31
            statuses = ProgressReport.objects.filter(programme=gold.programme)
            assert set(statuses.values_list("status", flat=True)) == {"approved"}
            assert sorted(
                IndicatorValue.objects.filter(indicator=people).values_list("value", flat=True)
            ) == [1, 2, 3, 4, 5, 6, 10]
            assert worker.poll() is None and beat.poll() is None
        except BaseException:
            print(
                "worker:\n", tail(tmp_path / "worker.log"), "\nbeat:\n", tail(tmp_path / "beat.log")
            )
            raise
        finally:
            stop_process(beat)
            stop_process(worker)
            redis.kill()
            approver.delete()
            remove_gold()


def stop_process(process: subprocess.Popen | None) -> None:
    if process is None:
        return
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- c. PostgreSQL restarted under load -----------------------------------------------------


def postgres_bin() -> Path:
    for candidate in (
        Path("/usr/lib/postgresql/15/bin"),
        *Path("/usr/lib/postgresql").glob("*/bin"),
    ):
        if (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    assert found, "PostgreSQL server binaries (initdb, pg_ctl) are needed for this test"
    return Path(found).parent


class PostgresCluster:
    """A throwaway cluster in a temporary folder on a free port (run as ``postgres`` when
    the tests run as root, since PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.folder, user=self.user)

    def run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=True, capture_output=True, timeout=timeout, user=self.user, cwd=self.folder,
        )  # fmt: skip

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale", "C", "--no-sync")  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=40"
        )
        self.pg_ctl_options = ["-D", str(self.data), "-o", options, "-l", str(self.folder / "log")]
        self.start()
        with psycopg_connect(self.url("postgres")) as admin:
            admin.autocommit = True
            admin.execute("CREATE DATABASE app")

    def start(self) -> None:
        self.run("pg_ctl", *self.pg_ctl_options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def restart(self) -> None:
        self.run("pg_ctl", *self.pg_ctl_options, "-m", "fast", "-w", "-t", "60", "restart")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, name: str = "app") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


def psycopg_connect(url: str):
    import psycopg

    return psycopg.connect(url, connect_timeout=5)


# Run in the cluster's app (its own process and settings): the people, tokens and reports
# the clients work with. Coordinators of Santiago keep saving drafts; the reports of Mexico
# City are submitted, for the approvers.
PREPARE = """
import json
from decimal import Decimal
import django
django.setup()
from django.contrib.auth import get_user_model
from indicators import services
from indicators.selectors.reports import activities_in_scope, indicators_in_scope
from monitoring.models import Agency, ApiToken, City, Programme, ReportingPeriod
programme = Programme.objects.get(code="CIUDADES")
period = ReportingPeriod.objects.get(programme=programme, code="2023-Q2")
user = lambda name: get_user_model().objects.get(username=name)
token = lambda name: ApiToken.issue(user=user(name), programme=programme, scope="write",
                                    days=1, name="faults")[1]
FIGURES = {"count": "5", "percent": "60", "yes_no": "1", "level": "2", "amount": "100"}
out = {"savers": [], "approvals": []}
for code in ("ILO", "IOM", "UNHCR"):
    agency, city = Agency.objects.get(code=code), City.objects.get(code="SCL")
    scope = indicators_in_scope(programme=programme, agency=agency, city=city)
    counted = next(i for i in scope if i.measure == "count")
    coordinator = f"coord.{code.lower()}.scl"
    report = services.report_save(programme=programme, period=period, agency=agency, city=city,
        expected_version=0, entries=[], narrative_es="", narrative_en="", actor=user(coordinator))
    out["savers"].append({"token": token(coordinator), "report": report.pk,
                          "version": report.version, "indicator": counted.code})
for code in ("ILO", "IOM", "UNHCR"):
    agency, city = Agency.objects.get(code=code), City.objects.get(code="CDMX")
    scope = indicators_in_scope(programme=programme, agency=agency, city=city)
    activities = [services.ActivityEntry(a, status="not_started") for a in
                  activities_in_scope(programme=programme, agency=agency, city=city)]
    entries = [services.Entry(indicator=i, value=Decimal(FIGURES[i.measure])) for i in scope]
    coordinator = user(f"coord.{code.lower()}.cdmx")
    where = dict(programme=programme, period=period, agency=agency, city=city)
    report = services.report_save(**where, expected_version=0, entries=entries,
        activities=activities, narrative_es="", narrative_en="", actor=coordinator)
    report = services.report_save(**where, expected_version=report.version, entries=[],
        activities=activities, narrative_es="", narrative_en="", actor=coordinator,
        submit=True, in_scope=scope)
    out["approvals"].append({"token": token(f"approver.{code.lower()}"), "report": report.pk,
                             "version": report.version})
print("PREPARED " + json.dumps(out))
"""

# Run after the faults, in the cluster's app: the sweep (what beat runs every minute), then
# what is in the database.
VERIFY = """
import json, sys
import django
django.setup()
from indicators.engine import recompute
from indicators.models import IndicatorValue, ProgressReport, RecomputeRequest, Rollup
from indicators.tasks import sweep_pending
swept = sweep_pending()
ids = [int(i) for i in sys.argv[1].split(",")]
reports = {}
for r in ProgressReport.objects.filter(pk__in=ids):
    values = {f"{v.indicator.code}/{v.category_id or ''}": str(v.value)
              for v in IndicatorValue.objects.filter(report=r).select_related("indicator")}
    reports[r.pk] = {"status": r.status, "version": r.version, "values": values}
columns = [f.attname for f in Rollup._meta.concrete_fields if f.name not in ("id", "computed_at")]
snapshot = lambda: sorted(map(repr, Rollup.objects.values_list(*columns)))
before = snapshot()
missing = [v.pk for v in IndicatorValue.objects.filter(report__status="approved",
           report__city__code="CDMX", report__period__code="2023-Q2", category=None)
           if not Rollup.objects.filter(indicator=v.indicator, period=v.report.period,
                                        city=v.report.city, agency=v.report.agency,
                                        category=None, scope=1).exists()]
recompute(None)
print("VERIFIED " + json.dumps({"reports": reports, "pending": RecomputeRequest.objects.count(),
      "caught_up": before == snapshot(), "rollups": len(before), "missing": missing,
      "swept": swept}))
"""


def django_script(script: str, env: dict, *args: str, timeout: float = 120) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [
        line for line in done.stdout.splitlines() if line.startswith(("PREPARED", "VERIFIED"))
    ]
    return json.loads(line.split(" ", 1)[1])


class Http:
    """A small HTTP client with a cookie and CSRF token of its own (one connection each
    request, so a server restart never leaves it holding a dead socket)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: Any = None, headers: dict | None = None):
        import http.client
        from http.cookies import SimpleCookie
        from urllib.parse import urlencode

        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if isinstance(body, dict) and headers.get("Content-Type") == "application/json":
            payload = json.dumps(body)
        elif isinstance(body, dict):
            payload = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            payload = body
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            content = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
            return response.status, dict(response.headers), content
        finally:
            conn.close()

    def api(self, method: str, path: str, token: str, body: Any = None):
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json",
                   "Accept-Language": "en"}  # fmt: skip
        status, headers, content = self.request(method, path, body, headers)
        return status, headers, json.loads(content) if content else None

    def sign_in(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        status, _headers, _content = self.request(
            "POST",
            "/accounts/login/",
            {"username": username, "password": PASSWORD,
             "csrfmiddlewaretoken": self.cookies["csrftoken"]},
            {"Accept-Language": "en"},
        )  # fmt: skip
        assert status == 302, status


APPROVAL_PHASES = [("before",), ("outage",), ("after",)]


class Load:
    """Clients working at once while the database comes and goes. Every answer is kept
    with the phase it came in (``before``, ``restart``, ``outage``, ``after``)."""

    def __init__(self, port: int, plan: dict) -> None:
        self.port = port
        self.plan = plan
        self.phase = "before"
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.answers: list[dict] = []  # every response: who, phase, status, what it said
        self.acknowledged: dict[int, list[tuple[int, int]]] = {}  # report → (version, figure)
        self.attempted: dict[int, list[int]] = {}  # report → every figure sent
        self.approved: dict[int, dict] = {}
        self.threads: list[threading.Thread] = []

    def note(self, who: str, status: int, headers: dict, body: Any) -> None:
        with self.lock:
            self.answers.append({"who": who, "phase": self.phase, "status": status, "body": body})

    def count(self, who: str, status: int, phase: str | None = None) -> int:
        with self.lock:
            return sum(
                1 for a in self.answers
                if a["who"] == who and a["status"] == status and phase in (None, a["phase"])
            )  # fmt: skip

    def saver(self, slot: dict) -> None:
        client, report, version = Http(self.port), slot["report"], slot["version"]
        figure = 0
        while not self.stopping.is_set():
            figure += 1
            self.attempted.setdefault(report, []).append(figure)
            cells = [{"indicator": slot["indicator"], "value": str(figure)}]
            body = {"version": version, "values": cells}
            try:
                status, headers, answer = client.api(
                    "PATCH", f"/api/v1/reports/{report}/values/", slot["token"], body
                )
            except OSError as error:  # the server itself must stay up: record it
                self.note("saver", -1, {}, repr(error))
                time.sleep(0.2)
                continue
            self.note("saver", status, headers, answer)
            if status == 200:
                version = answer["version"]
                with self.lock:
                    self.acknowledged.setdefault(report, []).append((version, figure))
            elif status == 409:  # a save answered 503 had gone through after all
                _s, _h, current = client.api("GET", f"/api/v1/reports/{report}/", slot["token"])
                version = current["version"]
            time.sleep(0.05)

    def approver(self) -> None:
        """The first report is approved before the faults, the second from the start of the
        outage (refused until the database is back), the third after it."""
        client = Http(self.port)
        for slot, phases in zip(self.plan["approvals"], APPROVAL_PHASES, strict=True):
            while self.phase not in phases and not self.stopping.is_set():
                time.sleep(0.05)
            path = f"/api/v1/reports/{slot['report']}/approve/"
            while not self.stopping.is_set():
                try:
                    status, headers, answer = client.api(
                        "POST", path, slot["token"], {"version": slot["version"]}
                    )
                except OSError as error:
                    self.note("approver", -1, {}, repr(error))
                    time.sleep(0.2)
                    continue
                self.note("approver", status, headers, answer)
                if status != 503:
                    with self.lock:
                        self.approved[slot["report"]] = {"status": status, "answer": answer}
                    break
                time.sleep(0.3)

    def reader(self) -> None:
        client = Http(self.port)
        client.sign_in("rco")
        pages = ["/programmes/CIUDADES/", "/programmes/CIUDADES/reports/", "/healthz"]
        n = 0
        while not self.stopping.is_set():
            path = pages[n % len(pages)]
            n += 1
            try:
                status, headers, content = client.request(
                    "GET", path, headers={"Accept-Language": "en"}
                )
            except OSError as error:
                self.note(path, -1, {}, repr(error))
                time.sleep(0.2)
                continue
            self.note(path, status, headers, content.decode(errors="replace"))
            time.sleep(0.1)

    def start(self) -> None:
        targets = [lambda s=s: self.saver(s) for s in self.plan["savers"]]
        targets += [self.approver, self.reader]
        for target in targets:
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


def test_postgresql_restarted_under_load_answers_503_then_recovers_and_loses_nothing(tmp_path):
    cluster = PostgresCluster()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="monitoring.settings.test",
        DJANGO_DEBUG="false",
        DATABASE_URL=cluster.url(),
        # Refused connections fail at once whatever this says; a loaded CI machine may take
        # more than the default two seconds to start a backend.
        DATABASE_CONNECT_TIMEOUT="10",
        RECOMPUTE_SWEEP_AFTER="0",
    )
    gunicorn = load = None
    port = free_port()
    log = tmp_path / "gunicorn.log"
    try:
        cluster.init()
        for command in (["migrate", "--noinput"], ["load_ciudades"]):
            done = subprocess.run([sys.executable, "manage.py", *command, "-v", "0"], cwd=ROOT,
                                  env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
            assert done.returncode == 0, done.stderr[-3000:]
        plan = django_script(PREPARE, env)
        with open(log, "wb") as out:
            gunicorn = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "monitoring.wsgi:application",
                 "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
                 "--timeout", "60", "--graceful-timeout", "5"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(
            lambda: Http(port).request("GET", "/healthz")[0] == 200 if listening(port) else False
        )

        load = Load(port, plan)
        load.start()
        wait_for(
            lambda: all(len(load.acknowledged.get(s["report"], [])) >= 3 for s in plan["savers"])
        )
        wait_for(lambda: len(load.approved) >= 1)

        load.phase = "restart"  # pg_ctl restart -m fast under load
        cluster.restart()
        wait_for(lambda: load.count("saver", 200, "restart") >= 3)

        load.phase = "outage"  # and a longer stop, long enough for every client to see it
        cluster.stop()
        wait_for(lambda: load.count("saver", 503, "outage") >= 3
                 and load.count("/programmes/CIUDADES/", 503, "outage") >= 1
                 and load.count("approver", 503, "outage") >= 1, timeout=30)  # fmt: skip
        cluster.start()
        load.phase = "after"
        wait_for(
            lambda: (
                load.count("saver", 200, "after") >= 6
                and load.count("/programmes/CIUDADES/", 200, "after") >= 1
            )
        )
        wait_for(lambda: len(load.approved) == len(plan["approvals"]))
        load.stop()
        assert gunicorn.poll() is None, "gunicorn must keep running through the outage"

        # What the clients saw: successes, stale versions, and 503s with the clear message.
        unexpected = [a for a in load.answers if a["status"] not in (200, 409, 503)]
        assert unexpected == [], unexpected[:5]
        for answer in load.answers:
            if answer["status"] != 503:
                continue
            assert answer["phase"] != "before", answer
            if answer["who"] in ("saver", "approver"):
                assert answer["body"] == {
                    "status": 503,
                    "code": "database_unavailable",
                    "detail": DB_MESSAGE,
                }
            elif answer["who"] == "/healthz":
                assert answer["body"].startswith('{"status": "error"')
            else:
                assert DB_MESSAGE in answer["body"] and "Traceback" not in answer["body"]
        assert not any("Traceback" in str(a["body"]) for a in load.answers)

        # What the database holds: every acknowledged save, every approval, caught-up rollups.
        ids = [s["report"] for s in plan["savers"]] + [a["report"] for a in plan["approvals"]]
        state = django_script(VERIFY, env, ",".join(map(str, ids)))
        for slot in plan["savers"]:
            report = state["reports"][str(slot["report"])]
            version, figure = load.acknowledged[slot["report"]][-1]
            assert report["version"] >= version
            saved = Decimal(report["values"][f"{slot['indicator']}/"])
            attempted = load.attempted[slot["report"]]
            # the last acknowledged figure, or one sent after it (answered 503 but committed)
            assert saved == figure or int(saved) in attempted[attempted.index(figure) :]
        for slot in plan["approvals"]:
            report = state["reports"][str(slot["report"])]
            assert report["status"] == "approved"
            assert report["values"] and all(Decimal(v) > 0 for v in report["values"].values())
        assert state["pending"] == 0
        assert state["missing"] == []
        assert state["caught_up"] is True and state["rollups"] > 0
    except BaseException:
        print("gunicorn:", tail(log, 60))
        raise
    finally:
        if load is not None:
            load.stop()
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
                gunicorn.wait(timeout=10)
        cluster.destroy()


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False
