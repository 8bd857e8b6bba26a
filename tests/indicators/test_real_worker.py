"""A real Celery worker, in its own process, recomputes rollups after an approval.

With REDIS_URL set (CI) the broker is Redis; without it, kombu's filesystem transport, so the
test runs anywhere. Data is committed (the worker reads it from its own connection) and
removed at the end."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

from indicators import services
from indicators.engine import recompute
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


def start_worker(queue: str, env: dict) -> subprocess.Popen:
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
            "warning",
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
            if worker is not None:
                worker.terminate()
                worker.communicate(timeout=30)  # reap it and close its output pipe
            Programme.objects.filter(code="GOLD").delete()
            City.objects.filter(code__startswith="GOLD-").delete()
            Agency.objects.filter(code__startswith="GOLD-").delete()
            Country.objects.filter(code="ZZ").delete()
