"""Structured logs (issue 8, operations): one JSON object per line, with the request or the
Celery task each line belongs to, so that a log store can follow one request or task through
every line it wrote.

- ``RequestIdMiddleware`` gives every request an id (the caller's ``X-Request-ID`` when it is
  a sensible token, a new one otherwise), returns it in ``X-Request-ID`` and writes one line
  per request: method, path, status, duration, user id.
- ``ContextFilter`` adds to every record written meanwhile the request id, path and user id,
  or the Celery task's name and id.
- ``JsonFormatter`` writes the line; ``logging_config`` is the ``LOGGING`` setting."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.utils.functional import SimpleLazyObject, empty

if TYPE_CHECKING:  # settings import this module: it must not import the HTTP machinery
    from django.http import HttpRequest, HttpResponse

log = logging.getLogger("monitoring.request")

HEADER = "X-Request-ID"
# A caller's id is kept only if it is a short token: it ends up in logs and headers.
VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
# Fields a record may carry beyond the standard ones, in the order a line shows them.
FIELDS = (
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "user_id",
    "task_name",
    "task_id",
)

_current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


def current_request_id() -> str | None:
    request = _current_request.get()
    return getattr(request, "request_id", None) if request is not None else None


def _loaded_user_id(request: HttpRequest) -> int | None:
    """The user's id if the request already knows who it is. Never loads the user: that
    would query the session table, which may be what is failing."""
    user = request.__dict__.get("_cached_user") or request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        wrapped = user._wrapped  # type: ignore[attr-defined]
        user = None if wrapped is empty else wrapped
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "pk", None)


def _current_task() -> Any:
    from celery._state import get_current_task

    return get_current_task()


class ContextFilter(logging.Filter):
    """Adds what the record belongs to: the request being served, or the task being run."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = _current_request.get()
        if request is not None:
            record.__dict__.setdefault("request_id", getattr(request, "request_id", None))
            record.__dict__.setdefault("path", request.path)
            record.__dict__.setdefault("user_id", _loaded_user_id(request))
        task = _current_task()
        if task is not None and getattr(task.request, "id", None):
            record.__dict__.setdefault("task_name", task.name)
            record.__dict__.setdefault("task_id", task.request.id)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC, ISO 8601), level, logger, message, the
    context fields present, and the exception's traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
        entry: dict[str, Any] = {
            "timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_config(fmt: str, level: str = "INFO") -> dict[str, Any]:
    """The ``LOGGING`` setting: ``fmt`` is ``json`` (one object per line) or ``plain``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "monitoring.logging.ContextFilter"}},
        "formatters": {
            "plain": {"format": PLAIN_FORMAT},
            "json": {"()": "monitoring.logging.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if fmt == "json" else "plain",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }


class RequestIdMiddleware:
    """Outermost: names the request, times it, and writes its line once it is answered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        request.request_id = given if VALID_ID.fullmatch(given) else uuid.uuid4().hex  # type: ignore[attr-defined]
        token = _current_request.set(request)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request.request_id  # type: ignore[attr-defined]
            log.log(
                logging.DEBUG if request.path == "/healthz" else logging.INFO,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "request_id": request.request_id,  # type: ignore[attr-defined]
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": _loaded_user_id(request),
                },
            )
            return response
        finally:
            _current_request.reset(token)
