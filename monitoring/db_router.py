"""Reads of dashboards and of the API go to a read replica, when one is configured
(``DATABASE_REPLICA_URL``, see ``monitoring.settings.parts.scaling``); everything else goes to
the default database.

``ReplicaReadsMiddleware`` marks the requests whose reads may be served by the replica: safe
methods (GET, HEAD) on the dashboards and the framework page of a programme, and on the API
(except its progress reports, which clients edit and read back, and its exports).
``ReplicaRouter`` then sends those requests' reads to the replica, with these exceptions, all
to the default database:

- who is asking and what they may do: sessions, users, API tokens, memberships (a revoked
  token or membership is refused at once, whatever the replica's lag);
- reads inside a transaction, and every read after the request's first write: a request
  always sees what it wrote itself;
- every other request: forms, workflow actions, exports, the admin, tasks and commands.

Writes always go to the default database. Without a replica both classes do nothing."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

SAFE_METHODS = ("GET", "HEAD")
# Views (by URL namespace and name) whose reads may be served by the replica; a namespace
# alone covers all its views.
REPLICA_VIEWS = {"dashboards", "programme_detail", "budget:dashboard", "api"}
# API views of what clients write and then read back, and the exports (their rows stream
# after the view returns, when the request is no longer marked): the default database.
PRIMARY_VIEWS = {"api:reports", "api:report", "api:report-values"}
PRIMARY_VIEW_PREFIXES = ("api:export-",)
# Identity and access: always read from the default database.
PRIMARY_APPS = {"auth", "sessions", "contenttypes", "admin"}
PRIMARY_MODELS = {"monitoring.apitoken", "monitoring.membership"}


@dataclass
class _Reads:
    wrote: bool = False


_replica_reads: ContextVar[_Reads | None] = ContextVar("replica_reads", default=None)


def replica_alias() -> str:
    """The replica's alias, or "" when there is none."""
    alias = getattr(settings, "DATABASE_READ_REPLICA", "")
    return alias if alias and alias in connections.settings else ""


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within this block, reads may go to the replica (what the middleware sets up for a
    request it marks)."""
    token = _replica_reads.set(_Reads())
    try:
        yield
    finally:
        _replica_reads.reset(token)


def _in_transaction() -> bool:
    """A transaction of the code's own on the default database (a test case's wrapping
    transaction is not one)."""
    connection = connections[DEFAULT_DB_ALIAS]
    return connection.in_atomic_block and any(
        not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
    )


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        reads = _replica_reads.get()
        alias = replica_alias()
        if (
            reads is None
            or reads.wrote
            or not alias
            or model._meta.app_label in PRIMARY_APPS
            or model._meta.label_lower in PRIMARY_MODELS
            or _in_transaction()
        ):
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        reads = _replica_reads.get()
        if reads is not None:
            reads.wrote = True  # from now on this request reads what it wrote
        return DEFAULT_DB_ALIAS  # even for an object that was read from the replica

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        same_data = {DEFAULT_DB_ALIAS, replica_alias()}
        if obj1._state.db in same_data and obj2._state.db in same_data:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if db == replica_alias():
            return False  # a copy of the default database: migrated there
        return None


def _view_name(request: HttpRequest) -> set[str]:
    match = request.resolver_match
    if match is None:
        return set()
    return {match.view_name, match.namespace} - {""}


class ReplicaReadsMiddleware:
    """Marks the requests whose reads may be served by the replica (see the module's text)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _replica_reads.set(None)
        try:
            return self.get_response(request)
        finally:
            _replica_reads.reset(token)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        names = _view_name(request)
        if (
            request.method in SAFE_METHODS
            and replica_alias()
            and names & REPLICA_VIEWS
            and not names & PRIMARY_VIEWS
            and not any(n.startswith(PRIMARY_VIEW_PREFIXES) for n in names)
        ):
            _replica_reads.set(_Reads())
        return None
