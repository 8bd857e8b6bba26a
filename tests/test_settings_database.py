"""The database settings (issue 8): PostgreSQL gives up connecting after
DATABASE_CONNECT_TIMEOUT seconds (default 10); SQLite, the embedded default, makes concurrent
writers wait for each other (BEGIN IMMEDIATE, a 20 s busy timeout, a write-ahead journal)
instead of failing with "database is locked"; a database or broker found down is logged with
the error's class and text. Settings are checked in fresh interpreters (they are read once,
at import); the concurrency on SQLite databases of the test's own."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.signals import got_request_exception
from django.db import OperationalError, connections, transaction
from django.http import HttpResponse

from monitoring.degrade import DependencyFailureMiddleware
from monitoring.settings.parts.ops import SQLITE_OPTIONS

ROOT = Path(__file__).resolve().parents[1]
PRINT = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "d = s.DATABASES['default']; print(json.dumps([d['ENGINE'], d.get('OPTIONS', {})]))"
)


def database_settings(**env: str) -> tuple[str, dict]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(DJANGO_SETTINGS_MODULE="monitoring.settings.local", **env)
    done = subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=clean, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    engine, options = json.loads(done.stdout.strip().splitlines()[-1])
    return engine, options


def test_the_embedded_sqlite_waits_for_writers_with_a_write_ahead_journal():
    engine, options = database_settings()
    assert engine == "django.db.backends.sqlite3"
    assert options == {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }


def test_postgresql_gives_up_connecting_after_ten_seconds_unless_told_otherwise():
    url = "postgres://nobody@127.0.0.1:1/nothing"  # never connected to here
    assert database_settings(DATABASE_URL=url) == (
        "django.db.backends.postgresql", {"connect_timeout": 10},
    )  # fmt: skip
    assert database_settings(DATABASE_URL=url, DATABASE_CONNECT_TIMEOUT="3")[1] == {
        "connect_timeout": 3
    }


# ---- two writers at once on SQLite ---------------------------------------------------------


@contextmanager
def sqlite_database(path: Path, options: dict) -> Iterator[str]:
    """A database alias of its own, for this test only, on the SQLite file ``path``."""
    alias = f"sqlite-{uuid.uuid4().hex[:8]}"
    config = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": options}
    everything = {"default": connections.settings["default"], alias: config}
    connections.settings[alias] = connections.configure_settings(everything)[alias]
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("CREATE TABLE counter (n integer NOT NULL)")
            cursor.execute("INSERT INTO counter (n) VALUES (0)")
        connections[alias].close()
        yield alias
    finally:
        connections[alias].close()
        del connections.settings[alias]


def count_at_once(alias: str, writers: int = 2, times: int = 3) -> tuple[int, list[str]]:
    """Each writer adds 1, ``times`` times, reading the count and writing it back in one
    transaction, all of them at the same moment; the count and the errors raised."""
    start, errors = threading.Barrier(writers), []

    def write() -> None:
        start.wait()
        try:
            for _ in range(times):
                with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                    cursor.execute("SELECT n FROM counter")
                    n = cursor.fetchone()[0]
                    time.sleep(0.1)  # the others read meanwhile
                    cursor.execute("UPDATE counter SET n = %s", [n + 1])
        except OperationalError as error:
            errors.append(str(error))
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        return cursor.fetchone()[0], errors


def test_two_writers_at_once_both_succeed_and_lose_nothing(tmp_path, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        sqlite_database(tmp_path / "db.sqlite3", SQLITE_OPTIONS) as db,
    ):
        assert count_at_once(db) == (6, [])
        with connections[db].cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"


def test_without_these_options_the_same_writers_fail_with_database_is_locked(
    tmp_path, django_db_blocker
):
    """The control: SQLite's defaults (deferred transactions) on the same work."""
    with django_db_blocker.unblock(), sqlite_database(tmp_path / "db.sqlite3", {}) as db:
        count, errors = count_at_once(db)
    assert errors and all("database is locked" in e for e in errors)
    assert count < 6


# ---- when the database or the broker is down, the log says why -----------------------------


def test_a_503_for_a_database_down_logs_the_errors_class_and_text(caplog, rf):
    error = OperationalError(
        'connection to server at "10.0.0.5", port 5432 failed:\n  timeout expired'
    )
    middleware = DependencyFailureMiddleware(lambda request: HttpResponse())
    response = middleware.process_exception(rf.get("/programmes/"), error)
    assert response is not None and response.status_code == 503
    logged = [r.getMessage() for r in caplog.records if r.name == "monitoring.degrade"]
    assert logged == [
        'database unavailable (OperationalError: connection to server at "10.0.0.5", port '
        "5432 failed: timeout expired); answered 503"
    ]


def test_a_broker_down_in_a_middleware_logs_the_errors_class_and_text(caplog, rf):
    """An error escaping a middleware reaches the outer one as Django's 500: the signal
    noted what it was."""
    from kombu.exceptions import OperationalError as BrokerError

    def failing(request):
        try:
            raise BrokerError("Error 111 connecting to redis:6379. Connection refused.")
        except BrokerError:
            got_request_exception.send(sender=None, request=request)
        return HttpResponse(status=500)

    response = DependencyFailureMiddleware(failing)(rf.get("/api/v1/programmes/"))
    assert response.status_code == 503
    logged = [r.getMessage() for r in caplog.records if r.name == "monitoring.degrade"]
    assert logged == [
        "service unavailable (OperationalError: Error 111 connecting to redis:6379. "
        "Connection refused.); answered 503"
    ]
