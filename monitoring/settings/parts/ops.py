"""Settings: ops (issue 8). base.py calls ``apply(globals())`` at its end: read what base
defines from ``s`` and add or change entries in it.

- Logs: JSON lines (``LOG_FORMAT=json``, the default under the production settings) or plain
  text (the default otherwise); every request gets an id, returned in ``X-Request-ID``.
- Dependencies down: a database that does not answer is a 503 with a clear message (and gives
  up connecting after ``DATABASE_CONNECT_TIMEOUT`` seconds); a Redis that does not answer
  makes the cache a no-cache and the broker's callers fall back on the recompute sweep, which
  runs every ``RECOMPUTE_SWEEP_EVERY`` seconds."""

import os
from typing import Any

from monitoring.logging import logging_config


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
        options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=2))

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
