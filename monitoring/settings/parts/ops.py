"""Settings: ops (issue 8). base.py calls ``apply(globals())`` at its end: read what base
defines from ``s`` and add or change entries in it.

- Logs: JSON lines (``LOG_FORMAT=json``, the default under the production settings) or plain
  text (the default otherwise); every request gets an id, returned in ``X-Request-ID``.
- Dependencies down: a database that does not answer is a 503 with a clear message (and gives
  up connecting after ``DATABASE_CONNECT_TIMEOUT`` seconds, default 10: a backend started
  during a checkpoint may take several); a Redis that does not answer makes the cache a
  no-cache and the broker's callers fall back on the recompute sweep, which runs every
  ``RECOMPUTE_SWEEP_EVERY`` seconds.
- Request size: ``monitoring.middleware.RequestSizeMiddleware`` refuses a body over
  ``REQUEST_MAX_BYTES`` (413) before CSRF or a view reads it.
- Survey results withhold groups of fewer than ``SURVEY_MIN_GROUP_SIZE`` respondents (5)
  from all but the survey's owners.
- SQLite (the embedded default): writers wait for each other instead of failing with
  "database is locked": transactions take the write lock when they begin, a busy database is
  waited on for 20 s, and the journal is write-ahead (readers do not block the writer)."""

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from monitoring.logging import logging_config

# Concurrent writers on SQLite: BEGIN IMMEDIATE takes the write lock at the start of a
# transaction (a deferred one that later writes fails at once when another writer got there
# first, whatever the timeout), the timeout waits for it, WAL lets reads go on meanwhile.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def _default_log_format() -> str:
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    return "json" if module.endswith(".production") else "plain"


def apply(s: dict[str, Any]) -> None:
    env = s["env"]
    middleware: list[str] = s["MIDDLEWARE"]
    # Outermost: every line logged while serving a request carries its id.
    middleware.insert(0, "monitoring.logging.RequestIdMiddleware")
    # Right inside SecurityMiddleware (whose headers the 503 page keeps).
    security = middleware.index("django.middleware.security.SecurityMiddleware")
    middleware.insert(security + 1, "monitoring.degrade.DependencyFailureMiddleware")
    # Inside MessageMiddleware, so that its notice is stored with the response.
    messages = middleware.index("django.contrib.messages.middleware.MessageMiddleware")
    middleware.insert(messages + 1, "monitoring.degrade.DeferredWorkNoticeMiddleware")

    s["LOG_FORMAT"] = env.str("LOG_FORMAT", default="") or _default_log_format()
    s["LOGGING"] = logging_config(s["LOG_FORMAT"], env.str("DJANGO_LOG_LEVEL", default="INFO"))
    if s["LOG_FORMAT"] == "json":
        # Workers log through the same JSON handler instead of Celery's own format.
        s["CELERY_WORKER_HIJACK_ROOT_LOGGER"] = False

    database = s["DATABASES"]["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        options = database.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=10))
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["OPTIONS"] = {**SQLITE_OPTIONS, **database.get("OPTIONS", {})}

    # Request size: refused unread, after LocaleMiddleware (the page is in the reader's
    # language) and right before CsrfViewMiddleware (the first to read a body).
    csrf = middleware.index("django.middleware.csrf.CsrfViewMiddleware")
    middleware.insert(csrf, "monitoring.middleware.RequestSizeMiddleware")

    # Survey results: groups of fewer respondents are withheld from all but the survey's
    # owners (surveys.disclosure).
    s["SURVEY_MIN_GROUP_SIZE"] = env.int("SURVEY_MIN_GROUP_SIZE", default=5)
    if s["SURVEY_MIN_GROUP_SIZE"] < 2:
        raise ImproperlyConfigured("SURVEY_MIN_GROUP_SIZE must be 2 or more.")

    if s["REDIS_URL"]:
        s["CACHES"]["default"] = {
            "BACKEND": "monitoring.degrade.ForgivingRedisCache",
            "LOCATION": s["REDIS_URL"],
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    if str(s["CELERY_BROKER_URL"]).startswith(("redis://", "rediss://")):
        # Sending a task to a broker that is gone fails fast (the sweep catches up later).
        s["CELERY_BROKER_TRANSPORT_OPTIONS"] = {
            "socket_connect_timeout": 2,
            **s["CELERY_BROKER_TRANSPORT_OPTIONS"],
        }

    sweep = s["CELERY_BEAT_SCHEDULE"]["sweep-pending-recomputes"]
    sweep["schedule"] = float(env.int("RECOMPUTE_SWEEP_EVERY", default=60))

    # Export jobs (monitoring.exports.tasks): one still running after EXPORT_JOB_TIMEOUT
    # seconds lost its worker and is shown as failed; jobs and their files are deleted
    # EXPORT_JOB_KEEP_DAYS days after they were requested, by an hourly task.
    for name, default in (("EXPORT_JOB_TIMEOUT", 30 * 60), ("EXPORT_JOB_KEEP_DAYS", 7)):
        s[name] = env.int(name, default=default)
        if s[name] < 1:
            raise ImproperlyConfigured(f"{name} must be a positive whole number.")
    s["CELERY_BEAT_SCHEDULE"]["clean-export-jobs"] = {
        "task": "monitoring.exports.tasks.clean_export_jobs",
        "schedule": 3600.0,
    }
