"""A real Celery worker, in its own process, recomputes rollups after an approval.

With REDIS_URL set (CI) the broker is Redis; without it, kombu's filesystem transport, so the
test runs anywhere. Data is committed (the worker reads it from its own connection) and
removed at the end."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import pools as kombu_pools

from indicators import services, tasks
from indicators.engine import recompute
from indicators.models import RecomputeRequest, RecomputeRun
from monitoring.celery import app as celery_app
from monitoring.models import Agency, City, Country, Programme
from tests.indicators.engine_fixtures import Gold

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def broker(tmp_path, monkeypatch):
    """Point this process's Celery app and the worker's environment at a real broker, on a
    queue of this test's own."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    if settings.REDIS_URL:
        url, options = settings.REDIS_URL, {}
    else:
        folder = tmp_path / "broker"
        folder.mkdir()
        url = "filesystem://"
        options = {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(tmp_path / "control"),
        }
    saved = {
        k: celery_app.conf[k]
        for k in (
            "broker_url",
            "broker_transport_options",
            "task_always_eager",
            "task_default_queue",
        )
    }
    celery_app.conf.update(
        broker_url=url,
        broker_transport_options=options,
        task_always_eager=False,
        task_default_queue=queue,
    )
    reset_connections()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "monitoring.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(options),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    yield queue, env
    celery_app.conf.update(**saved)
    reset_connections()


def reset_connections() -> None:
    """Drop pooled broker connections so the next send uses the current configuration."""
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def start_worker(queue: str, env: dict, loglevel: str = "warning") -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "monitoring",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            loglevel,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, timeout: float = 60.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError("timed out")


def remove_gold() -> None:
    Programme.objects.filter(code="GOLD").delete()
    City.objects.filter(code__startswith="GOLD-").delete()
    Agency.objects.filter(code__startswith="GOLD-").delete()
    Country.objects.filter(code="ZZ").delete()


def stop(worker: subprocess.Popen | None) -> None:
    if worker is not None and worker.poll() is None:
        worker.terminate()
    if worker is not None:
        worker.communicate(timeout=30)  # reap it and close its output pipe


@contextlib.contextmanager
def indicator_locked(indicator_id: int) -> Iterator[None]:
    """Another session holds a lock the recompute must wait for: the indicator's row on
    PostgreSQL (the engine locks it first thing in its transaction), the database's write lock
    on SQLite."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        import sqlite3

        other = sqlite3.connect(db["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        other = psycopg.connect(database_url())
        other.execute(
            "SELECT id FROM indicators_indicator WHERE id = %s FOR UPDATE", [indicator_id]
        )
    try:
        yield
    finally:
        other.rollback()
        other.close()


def wait_for_line(worker: subprocess.Popen, text: str, timeout: float = 60.0) -> None:
    """Read the worker's log until a line contains ``text``."""
    lines: list[str] = []

    def read() -> None:
        for line in worker.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if text in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert any(text in line for line in lines), "".join(lines[-20:])


@pytest.mark.usefixtures("broker")
def test_a_real_worker_recomputes_after_an_approval(broker, django_db_setup, django_db_blocker):
    queue, env = broker
    with django_db_blocker.unblock():
        assert "test" in str(connection.settings_dict["NAME"]), "must run against the test database"
        gold = Gold()
        worker = None
        try:
            ind = gold.indicator()
            gold.value(ind, "Q1", 10)
            recompute([ind.pk])
            report = gold.report("Q2", "A", "X", status="submitted")
            gold.value(ind, "Q2", 5, status="submitted")
            assert not gold.rollups(ind, period=gold.period["Q2"]).exists()
            worker = start_worker(queue, env)
            services.report_approve(report=report, actor=None)  # autocommit: enqueued at once
            wait_for(
                lambda: gold.rollups(ind, period=gold.period["Q2"], scope="programme").exists()
            )
            assert gold.rollup(ind, as_of="Q2").actual == 15
            assert worker.poll() is None, "the worker exited"
        finally:
            stop(worker)
            remove_gold()


@pytest.mark.usefixtures("broker")
def test_a_worker_killed_mid_task_leaves_rollups_that_converge(
    broker, django_db_setup, django_db_blocker
):
    """The worker is killed (SIGKILL) inside the recompute transaction. Nothing half-done
    remains, and the rollup converges once a worker runs again: with Redis the unacknowledged
    task is delivered again (``acks_late``); with a transport that cannot redeliver, the
    durable recompute request is picked up by the sweep."""
    queue, env = broker
    redis = bool(settings.REDIS_URL)
    env = {**env, "RECOMPUTE_SWEEP_AFTER": "0"}
    if redis:  # redeliver unacknowledged tasks after 2 s instead of an hour
        env["CELERY_BROKER_TRANSPORT_OPTIONS"] = json.dumps({"visibility_timeout": 2})
    with django_db_blocker.unblock():
        gold = Gold()
        first = second = None
        try:
            ind = gold.indicator()
            gold.value(ind, "Q1", 10)
            recompute([ind.pk])
            report = gold.report("Q2", "A", "X", status="submitted")
            gold.value(ind, "Q2", 5, status="submitted")
            started = timezone.now()
            services.report_approve(report=report, actor=None)  # queued; no worker yet
            with indicator_locked(ind.pk):
                first = start_worker(queue, env, loglevel="info")
                wait_for_line(first, "recompute_indicators")  # received, now waiting
                time.sleep(1.0)
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=30)
            assert gold.rollup(ind, as_of="Q1").actual == 10  # the old rollups, intact
            assert not gold.rollups(ind, period=gold.period["Q2"]).exists()
            assert RecomputeRequest.objects.filter(indicator=ind).exists()  # still owed
            if connection.vendor == "postgresql":  # it had begun its run when it died
                assert RecomputeRun.objects.filter(started_at__gte=started, ok=False).exists()
            time.sleep(2.5 if redis else 0)
            second = start_worker(queue, env)
            if not redis:
                tasks.sweep_pending.delay()
            wait_for(
                lambda: gold.rollups(ind, period=gold.period["Q2"], scope="programme").exists()
            )
            assert gold.rollup(ind, as_of="Q2").actual == 15
            wait_for(lambda: not RecomputeRequest.objects.filter(indicator=ind).exists())
        finally:
            stop(first)
            stop(second)
            remove_gold()
