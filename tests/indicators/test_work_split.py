"""A full recompute split into units (one programme's indicators, in batches) that several
workers share (indicators.engine.claims): planned, claimed, computed once each, finished once,
superseded by a later run, resent by the sweep when a task is lost, and the same rollups and
findings as one run in one process.

The last two tests start REAL Celery workers (Redis with REDIS_URL, else kombu's filesystem
transport) against the test database, as tests/indicators/test_real_worker.py does."""

import contextlib
import datetime as dt
import json
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from indicators import engine, tasks
from indicators.engine import sql as engine_sql
from indicators.models import Indicator, QualityIssue, RecomputeRun, RecomputeUnit, Rollup
from monitoring.celery import app as celery_app
from monitoring.models import Programme
from tests.indicators import test_real_worker as real_worker
from tests.indicators.engine_fixtures import Gold
from tests.indicators.test_real_worker import database_url, start_worker

# A broker, and a queue of the test's own, for this process and the workers it starts.
broker = real_worker.broker

UNIT_TASK = "indicators.tasks.recompute_unit"
ROLLUP_FIELDS = [
    f.attname for f in Rollup._meta.concrete_fields if f.name not in ("id", "computed_at")
]
ISSUE_FIELDS = [
    f.attname for f in QualityIssue._meta.concrete_fields if f.name not in ("id", "detected_at")
]


def figures(programme: Programme) -> tuple[Counter, Counter]:
    """The programme's rollups and data-quality findings, whenever and however computed."""
    rollups = Counter(Rollup.objects.filter(programme=programme).values_list(*ROLLUP_FIELDS))
    issues = Counter(
        tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in row)
        for row in QualityIssue.objects.filter(programme=programme).values_list(*ISSUE_FIELDS)
    )
    return rollups, issues


def programme_indicators(programme: Programme) -> list[int]:
    return list(
        Indicator.objects.filter(programme=programme).order_by("pk").values_list("pk", flat=True)
    )


# ---- in one process -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_run_is_planned_as_batches_of_one_programmes_indicators(
    ciudades, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:  # not sent
        run = engine.plan_run([ciudades.pk], unit_size=4)
    units = list(run.units.order_by("pk"))
    ids = programme_indicators(ciudades)
    assert len(ids) == 37 and len(units) == 10  # 9 × 4 + 1
    assert [i for u in units for i in u.indicator_ids] == ids  # each indicator in one unit
    assert {u.programme_id for u in units} == {ciudades.pk}
    assert max(len(u.indicator_ids) for u in units) == 4
    assert {(u.state, u.computations, u.computed_by) for u in units} == {("pending", 0, "")}
    assert (run.kind, run.ok, run.finished_at, run.indicators) == ("programmes", False, None, 37)
    assert len(callbacks) == 1  # one callback sends the units once the plan commits


@pytest.mark.django_db
def test_units_computed_one_by_one_give_what_one_run_in_one_process_gives(ciudades):
    engine.refresh_all()
    expected = figures(ciudades)
    Rollup.objects.filter(programme=ciudades).delete()
    QualityIssue.objects.filter(programme=ciudades).delete()
    run = engine.plan_run(unit_size=5)  # sent when the test's transaction commits: never
    assert run.kind == "full"
    for unit in run.units.order_by("-pk"):  # any order
        assert engine.compute_unit(unit.pk) is not None
        assert not RecomputeRun.objects.get(pk=run.pk).finished_at
    assert engine.finish_run(run.pk)
    assert figures(ciudades) == expected
    run.refresh_from_db()
    assert run.ok and run.finished_at and run.seconds is not None
    assert run.rows == Rollup.objects.count() and run.issues == QualityIssue.objects.count()
    assert set(run.units.values_list("state", "computations")) == {("done", 1)}
    assert not engine.finish_run(run.pk)  # finished once


@pytest.mark.django_db
def test_a_run_with_nothing_to_compute_finishes_at_once(django_capture_on_commit_callbacks):
    empty = Gold().programme  # no indicators yet
    with django_capture_on_commit_callbacks(execute=True):  # tasks run in process here
        run = engine.plan_run([empty.pk])
    run.refresh_from_db()
    assert not run.units.exists()
    assert run.ok and (run.indicators, run.rows) == (0, 0)


@pytest.mark.django_db
def test_each_units_checks_find_what_one_run_finds():
    gold = Gold()
    bad, good = gold.indicator(dimensions=("sex",)), gold.indicator(dimensions=("sex",))
    for indicator, female in ((bad, 4), (good, 6)):
        gold.value(indicator, "Q1", 10)
        gold.value(indicator, "Q1", female, cell=gold.female)
        gold.value(indicator, "Q1", 4, cell=gold.male)
    run = engine.plan_run([gold.programme.pk], unit_size=1)  # one indicator a unit
    for unit in run.units.all():
        engine.compute_unit(unit.pk)
    assert engine.finish_run(run.pk)
    found = QualityIssue.objects.filter(programme=gold.programme, kind="cells_sum")
    assert [(i.indicator_id, i.details["total"], i.details["cells"]) for i in found] == [
        (bad.pk, "10", "8")
    ]
    split = figures(gold.programme)
    engine.refresh_all()
    assert figures(gold.programme) == split


@pytest.mark.django_db
def test_a_unit_is_computed_once_however_often_its_task_arrives(ciudades):
    run = engine.plan_run([ciudades.pk], unit_size=10)
    unit = run.units.order_by("pk").first()
    assert engine.compute_unit(unit.pk) > 0
    assert engine.compute_unit(unit.pk) is None
    assert tasks.recompute_unit(unit.pk) == 0
    unit.refresh_from_db()
    assert (unit.state, unit.computations) == ("done", 1)
    assert unit.computed_by == engine.claims.worker_name()


@pytest.mark.django_db
def test_the_run_finishes_only_when_no_unit_is_pending(ciudades):
    run = engine.plan_run([ciudades.pk], unit_size=20)
    first, second = run.units.order_by("pk")
    engine.compute_unit(first.pk)
    assert not engine.finish_run(run.pk)
    assert RecomputeRun.objects.get(pk=run.pk).finished_at is None
    engine.compute_unit(second.pk)
    assert engine.finish_run(run.pk)
    assert RecomputeRun.objects.get(pk=run.pk).ok


@pytest.mark.django_db
def test_a_later_run_supersedes_units_still_pending(ciudades):
    older = engine.plan_run([ciudades.pk], unit_size=20)
    done = older.units.order_by("pk").first()
    engine.compute_unit(done.pk)
    newer = engine.plan_run([ciudades.pk], unit_size=20)
    assert Counter(older.units.values_list("state", flat=True)) == {"done": 1, "superseded": 1}
    superseded = older.units.get(state="superseded")
    assert engine.compute_unit(superseded.pk) is None  # its task arrives late: nothing to do
    assert engine.finish_run(older.pk)
    older.refresh_from_db()
    assert (older.ok, older.error) == (False, "Superseded by a later run.")
    assert set(newer.units.values_list("state", flat=True)) == {"pending"}


@pytest.mark.django_db
def test_a_failing_unit_keeps_the_old_rollups_and_stays_owed(ciudades, monkeypatch):
    run = engine.plan_run([ciudades.pk], unit_size=40)
    [unit] = run.units.all()
    before = figures(ciudades)
    monkeypatch.setattr(
        engine_sql,
        "insert_rollups",
        lambda d, path, param: f"INSERT INTO no_such_table VALUES ({param})",
    )
    with pytest.raises(DatabaseError):
        engine.compute_unit(unit.pk)
    unit.refresh_from_db()
    assert (unit.state, unit.computations) == ("pending", 0)
    assert "no_such_table" in unit.error
    assert figures(ciudades) == before
    monkeypatch.undo()
    assert engine.compute_unit(unit.pk) > 0
    unit.refresh_from_db()
    assert (unit.state, unit.computations, unit.error) == ("done", 1, "")


@pytest.mark.django_db
def test_the_sweep_resends_units_whose_task_was_lost_and_finishes_the_run(
    ciudades, django_capture_on_commit_callbacks
):
    run = engine.plan_run([ciudades.pk], unit_size=10)  # its tasks never sent
    RecomputeUnit.objects.filter(run=run).update(enqueued_at=timezone.now() - dt.timedelta(hours=1))
    young = run.units.order_by("pk").last()
    RecomputeUnit.objects.filter(pk=young.pk).update(enqueued_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):  # tasks run in process here
        assert tasks.sweep_pending() == 0
    assert Counter(run.units.values_list("state", flat=True)) == {"done": 3, "pending": 1}
    RecomputeUnit.objects.filter(pk=young.pk).update(
        enqueued_at=timezone.now() - dt.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_pending()
    assert set(run.units.values_list("state", "computations")) == {("done", 1)}
    assert RecomputeRun.objects.get(pk=run.pk).ok  # the last unit's task finished the run


@pytest.mark.django_db
def test_the_sweep_finishes_a_run_whose_end_was_lost(ciudades):
    run = engine.plan_run([ciudades.pk], unit_size=40)
    engine.compute_unit(run.units.get().pk)  # its end is sent on commit: never, here
    assert RecomputeRun.objects.get(pk=run.pk).finished_at is None
    tasks.sweep_pending()
    assert RecomputeRun.objects.get(pk=run.pk).ok


@pytest.mark.django_db
def test_with_a_broker_the_nightly_run_is_split_and_without_one_runs_in_process(
    ciudades, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.RECOMPUTE_UNIT_INDICATORS = 25
    assert tasks.recompute_all() == Rollup.objects.count()  # in process: its rows
    assert not RecomputeUnit.objects.exists()
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    with django_capture_on_commit_callbacks() as callbacks:  # not sent
        planned = tasks.recompute_all()
    run = RecomputeRun.objects.order_by("-pk").first()
    assert planned == run.units.count() == 2  # 37 indicators, up to 25 a unit
    assert len(callbacks) == 1
    # the rollups vanish (a crash): the sweep leaves it to the units already planned
    Rollup.objects.all().delete()
    with django_capture_on_commit_callbacks():
        tasks.sweep_pending()
    assert RecomputeRun.objects.order_by("-pk").first() == run


# ---- real workers -------------------------------------------------------------------------


class Worker:
    """A Celery worker process whose log is read as it runs."""

    def __init__(self, queue: str, env: dict) -> None:
        self.process = start_worker(queue, env, loglevel="info")
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.append(line)

    def received(self, task: str) -> bool:
        return any(f"{task}[" in line and "received" in line for line in self.lines)

    def log(self) -> str:
        return "".join(self.lines[-40:])

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reader.join(timeout=10)
        self.process.stdout.close()  # type: ignore[union-attr]


def worker_env(env: dict) -> dict:
    """Workers poll the filesystem broker often, and on SQLite wait for the write lock as long
    as a test may hold it."""
    options = json.loads(env["CELERY_BROKER_TRANSPORT_OPTIONS"])
    if "data_folder_in" in options:
        options["polling_interval"] = 0.1
    url = database_url()
    if url.startswith("sqlite"):
        url += "?timeout=60"
    return {**env, "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(options), "DATABASE_URL": url}


@contextlib.contextmanager
def programme_locked(programme: Programme) -> Iterator[None]:
    """Another session holds what computing any unit must wait for: the programme's indicator
    rows on PostgreSQL, the database's write lock on SQLite. A worker that takes a unit then
    keeps it until the lock is released."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        import sqlite3

        other = sqlite3.connect(db["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        other = psycopg.connect(database_url())
        other.execute(
            "SELECT id FROM indicators_indicator WHERE programme_id = %s FOR UPDATE",
            [programme.pk],
        )
    try:
        yield
    finally:
        other.rollback()
        other.close()


def wait_for(predicate: Callable[[], bool], workers: list[Worker], timeout: float) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return
        time.sleep(0.1)
    logs = "\n".join(f"--- worker {w.process.pid}:\n{w.log()}" for w in workers)
    raise AssertionError(f"timed out\n{logs}")


def finished(run: RecomputeRun) -> bool:
    return RecomputeRun.objects.get(pk=run.pk).finished_at is not None


def pid_of(unit: RecomputeUnit) -> int:
    return int(unit.computed_by.rsplit(":", 1)[1])


def test_two_real_workers_share_a_full_recompute_each_unit_computed_once(
    broker, django_db_setup, django_db_blocker
):
    queue, env = broker
    env = worker_env(env)
    with django_db_blocker.unblock():
        ciudades = Programme.objects.get(code="CIUDADES")
        workers: list[Worker] = []
        run = None
        try:
            started = timezone.now()
            run = engine.plan_run([ciudades.pk], unit_size=4)  # 10 units, sent, queued
            with programme_locked(ciudades):
                workers = [Worker(queue, env), Worker(queue, env)]
                # Each worker holds a unit before any unit can finish: both take part.
                wait_for(lambda: all(w.received(UNIT_TASK) for w in workers), workers, 90)
            try:
                wait_for(lambda: finished(run), workers, 20)
            except AssertionError:
                print(
                    "DEBUG",
                    list(
                        run.units.values_list(
                            "pk", "state", "computations", "computed_by", "rows", "error"
                        )
                    ),
                    [w.process.pid for w in workers],
                    RecomputeRun.objects.filter(pk=run.pk).values()[0],
                )
                raise
            assert all(w.process.poll() is None for w in workers), "a worker exited"

            units = list(run.units.order_by("pk"))
            assert len(units) == 10
            assert [(u.state, u.computations) for u in units] == [("done", 1)] * 10
            by_worker = Counter(pid_of(u) for u in units)
            assert set(by_worker) == {w.process.pid for w in workers}  # both did some
            run.refresh_from_db()
            assert run.ok and run.rows == sum(u.rows for u in units) > 0
            rollups = Rollup.objects.filter(programme=ciudades)
            assert not rollups.filter(computed_at__lt=started).exists()  # all recomputed

            split = figures(ciudades)
            engine.refresh_all()  # the same work in one process
            assert figures(ciudades) == split
        finally:
            for worker in workers:
                worker.stop()
            if run is not None:
                RecomputeRun.objects.filter(pk=run.pk).delete()


def test_a_unit_whose_worker_died_is_computed_once_by_another(
    broker, django_db_setup, django_db_blocker
):
    queue, env = broker
    env = worker_env(env)
    with django_db_blocker.unblock():
        ciudades = Programme.objects.get(code="CIUDADES")
        first = second = None
        run = None
        try:
            before = figures(ciudades)
            run = engine.plan_run([ciudades.pk], unit_size=20)  # 2 units
            with programme_locked(ciudades):
                first = Worker(queue, env)
                wait_for(lambda: first.received(UNIT_TASK), [first], 90)
                time.sleep(1.0)  # inside the unit's transaction, waiting for the lock
                first.kill()
            if connection.vendor == "postgresql":  # its session ends, and its claim with it
                wait_for(lambda: len(lockable_units(run)) == 2, [first], 60)
            units = run.units.order_by("pk")
            assert [(u.state, u.computations) for u in units] == [("pending", 0)] * 2
            assert figures(ciudades) == before  # nothing half-done

            assert engine.resend_owed_units(dt.timedelta(0)) == 2  # what the sweep does
            second = Worker(queue, env)
            wait_for(lambda: finished(run), [second], 120)
            units = run.units.order_by("pk")
            assert [(u.state, u.computations) for u in units] == [("done", 1)] * 2
            assert {pid_of(u) for u in units} == {second.process.pid}
            assert RecomputeRun.objects.get(pk=run.pk).ok
            assert figures(ciudades) == before
        finally:
            for worker in (first, second):
                if worker is not None:
                    worker.stop()
            if run is not None:
                RecomputeRun.objects.filter(pk=run.pk).delete()


def lockable_units(run: RecomputeRun) -> list[int]:
    with transaction.atomic():
        return list(run.units.select_for_update(skip_locked=True).values_list("pk", flat=True))
