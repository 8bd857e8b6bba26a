"""What the site does when a dependency is down (issue 8, faults): a clear answer instead of
a crash, and no lost work.

- Database unreachable: ``DependencyFailureMiddleware`` turns the failure into a 503: a short
  page in both languages for people, the API's error body for programs. Nothing was saved by
  the failed request (each service is one transaction); what was saved before is safe.
- Redis down as a cache: ``ForgivingRedisCache`` logs once and answers as if empty (misses,
  writes dropped), so throttles and rate limits stop counting instead of failing.
- Redis down as a broker: services still commit (the recompute request is a row written with
  the change; the sweep recomputes it later). Code that could not enqueue calls
  ``note_deferred_work()``; ``DeferredWorkNoticeMiddleware`` then tells the user that the
  figures will update by themselves shortly (a message on pages, a header for the API)."""

import logging
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from .logging import current_request_id

log = logging.getLogger(__name__)

DATABASE = "database"
SERVICE = "service"
RETRY_AFTER_SECONDS = 60
DEFERRED_HEADER = "X-Figures-Update-Deferred"


def failure_kind(error: BaseException | None) -> str | None:
    """``database`` or ``service`` when ``error`` says a dependency is unreachable."""
    if error is None:
        return None
    if isinstance(error, OperationalError | InterfaceError):
        return DATABASE
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(error, BrokerError | RedisConnectionError | RedisTimeoutError):
        return SERVICE
    return None


def describe(error: BaseException) -> str:
    """The error's class and text on one bounded line, for the operators' log (why the
    dependency is considered down: refused, timed out, authentication, …)."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__


def _message(kind: str) -> str:
    if kind == DATABASE:
        return _(
            "The database is not answering. Your last saved work is safe. Try again in a minute."
        )
    return _(
        "A service this site needs is not answering. Your last saved work is safe. "
        "Try again in a minute."
    )


def _in_each_language(kind: str) -> list[dict[str, str]]:
    """The message in the reader's language first, then in the others."""
    current = translation.get_language() or settings.LANGUAGE_CODE
    codes = [code for code, _name in settings.LANGUAGES]
    codes.sort(key=lambda code: code != current.split("-")[0])
    texts = []
    for code in codes:
        with translation.override(code):
            texts.append(
                {"lang": code, "title": _("Temporarily unavailable"), "message": _message(kind)}
            )
    return texts


def unavailable_response(request: HttpRequest, kind: str) -> HttpResponse:
    """503 with a message people and programs can act on; no traceback, nothing internal."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        code = "database_unavailable" if kind == DATABASE else "service_unavailable"
        body = {"status": 503, "code": code, "detail": _message(kind)}
        response = JsonResponse(body, status=503)
    else:
        texts = _in_each_language(kind)
        context = {"texts": texts, "lang": texts[0]["lang"], "request_id": current_request_id()}
        page: str
        try:  # rendered without the request: no context processor may touch the database
            page = render_to_string("ops/unavailable.html", context)
            content_type = "text/html; charset=utf-8"
        except Exception:  # the page itself must never fail: plain text then
            page = "\n\n".join(f"{t['title']}\n{t['message']}" for t in texts)
            content_type = "text/plain; charset=utf-8"
        response = HttpResponse(page, status=503, content_type=content_type)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # type: ignore[attr-defined]  # logged below, once
    return response


def _note_failed_request(sender: Any, request: HttpRequest | None = None, **_: Any) -> None:
    """An exception escaped a middleware (not the view): remember what kind it was, so the
    outer middleware can replace the 500 Django made of it."""
    error = sys.exc_info()[1]
    kind = failure_kind(error)
    if kind is not None and request is not None and error is not None:
        request._dependency_failure = kind  # type: ignore[attr-defined]
        request._dependency_error = describe(error)  # type: ignore[attr-defined]


class DependencyFailureMiddleware:
    """Near the top of the stack: a dependency failing anywhere below becomes a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(
            _note_failed_request, weak=False, dispatch_uid="monitoring.degrade"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        kind = getattr(request, "_dependency_failure", None)
        if kind is not None and response.status_code >= 500 and response.status_code != 503:
            error = getattr(request, "_dependency_error", "")
            log.warning("%s unavailable (%s); answered 503", kind, error)
            return unavailable_response(request, kind)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        kind = failure_kind(exception)
        if kind is None:
            return None
        log.warning("%s unavailable (%s); answered 503", kind, describe(exception))
        return unavailable_response(request, kind)


# --- the broker: work that could not be enqueued ---------------------------------------------

# The current request's notes: a list, so that a note made in a copied context (a thread of
# an ASGI server) still reaches the request.
_notes: ContextVar[list[str] | None] = ContextVar("deferred_work", default=None)


def note_deferred_work() -> None:
    """Called where a task could not be enqueued but a durable request will be picked up
    later (the recompute sweep): the user is told the figures follow shortly."""
    notes = _notes.get()
    if notes is not None:
        notes.append("recompute")


def deferred_notice() -> str:
    return _(
        "Your change is saved. The figures could not be recomputed right away; the dashboards "
        "will catch up by themselves within a few minutes."
    )


class DeferredWorkNoticeMiddleware:
    """Inside the messages middleware: adds the notice when the request deferred work."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        notes: list[str] = []
        token = _notes.set(notes)
        try:
            response = self.get_response(request)
        finally:
            _notes.reset(token)
        if notes:
            response[DEFERRED_HEADER] = "true"
            if not request.path.startswith("/api/") and hasattr(request, "_messages"):
                messages.warning(request, deferred_notice())
        return response


# --- the cache -----------------------------------------------------------------------------

_down_until: dict[str, float] = {}  # per Redis address, in this process: skip it until then


class ForgivingRedisCache(RedisCache):
    """Redis as Django's cache, answering as an empty cache while Redis is unreachable: a
    read is a miss, a write is dropped, ``incr`` says the key is missing. After a failure
    Redis is not asked again for ``RETRY_AFTER`` seconds, so requests do not each wait for a
    timeout. Throttles and rate limits count nothing meanwhile rather than fail."""

    RETRY_AFTER = 5.0

    def _guard(self, fallback: Any, method: Callable[..., Any], *args: Any) -> Any:
        from redis.exceptions import RedisError

        location = str(self._servers[0])  # type: ignore[attr-defined]
        down_until = _down_until.get(location)
        if down_until is not None and time.monotonic() < down_until:
            return fallback
        try:
            result = method(self, *args)
        except (RedisError, OSError) as error:
            if down_until is None:  # once per outage, not once per call
                log.warning("cache unavailable (%s); serving without it", type(error).__name__)
            _down_until[location] = time.monotonic() + self.RETRY_AFTER
            return fallback
        if down_until is not None:
            del _down_until[location]
            log.warning("cache available again")
        return result

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(False, RedisCache.add, key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._guard(default, RedisCache.get, key, default, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._guard(None, RedisCache.set, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(False, RedisCache.touch, key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._guard(False, RedisCache.delete, key, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._guard({}, RedisCache.get_many, keys, version)

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._guard(False, RedisCache.has_key, key, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        missing = object()
        value = self._guard(missing, RedisCache.incr, key, delta, version)
        if value is missing:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")
        return value

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(list(data), RedisCache.set_many, data, timeout, version)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._guard(None, RedisCache.delete_many, keys, version)

    def clear(self) -> Any:
        return self._guard(False, RedisCache.clear)
