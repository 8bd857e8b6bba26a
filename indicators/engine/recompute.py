"""Run the engine: rebuild the rollups of some indicators (or all) in one transaction.

Idempotent: the rows of the indicators concerned are deleted and rebuilt from approved data,
so running twice gives the same table, and a run that dies half-way leaves the previous rows
(the transaction rolls back). Concurrent runs on the same indicators are serialised by
locking the indicators' rows."""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from ..models import Indicator, RecomputeRun, Rollup
from . import sql
from .requests import clear_requests

log = logging.getLogger(__name__)


@dataclass
class RecomputeResult:
    indicators: int
    rows: int
    seconds: float
    issues: int | None = None


def _statements(indicator_ids: list[int] | None) -> list[str]:
    d = sql.Dialect(connection.vendor, full=indicator_ids is None)
    return [
        *sql.drop_temp_tables(),
        *sql.indicator_set(d, indicator_ids),
        *sql.leaves(d),
        *sql.split_leaves(d),
        *sql.grid(d),
        *sql.state_sources(d),
        *sql.cities(d),
        *sql.targets_and_baselines(d),
    ]


def rebuild(indicator_ids: list[int] | None) -> tuple[int, int]:
    """Delete and rebuild rollups inside the caller's transaction. Returns (indicators, rows).
    ``recompute`` runs it in a transaction of its own; a unit of a split run (``claims``) in
    the transaction that claims the unit."""
    locked = Indicator.objects.select_for_update().order_by("pk")
    if indicator_ids is not None:
        locked = locked.filter(pk__in=indicator_ids)
    count = len(list(locked.values_list("pk", flat=True)))
    full = indicator_ids is None
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # A full run's sorts and hashes fit in memory; JIT costs more than it saves here.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
        if full and postgres:
            # A full run joins whole working tables: hashing is right every time, while the
            # planner, misjudging the size of aggregated rows by ~15 times, would sort them
            # for merge joins or probe an index row by row. (A run for a few indicators keeps
            # the planner's choice: there, index lookups are what is fast.)
            cursor.execute("SET LOCAL enable_mergejoin = off")
            cursor.execute("SET LOCAL enable_nestloop = off")
        for statement in _statements(indicator_ids):
            cursor.execute(statement)
        if full and postgres:
            # Empty the table and build its indexes once at the end: cheaper than
            # maintaining them row by row. Readers wait for the commit, then see the new rows.
            cursor.execute("TRUNCATE indicators_rollup")
            _secondary_indexes(cursor, create=False)
        elif full:
            cursor.execute("DELETE FROM indicators_rollup")
        else:
            cursor.execute(
                "DELETE FROM indicators_rollup WHERE indicator_id IN (SELECT ind FROM eng_ind)"
            )
        now = timezone.now()
        rows = 0
        for path in sql.PATHS:
            cursor.execute(sql.insert_rollups(sql.Dialect(connection.vendor), path, "%s"), [now])
            rows += cursor.rowcount
        if full and postgres:
            _secondary_indexes(cursor, create=True)
            # Fresh statistics for the dashboards' queries: after a rebuild the old ones
            # describe another table (say, one programme instead of forty).
            cursor.execute("ANALYZE indicators_rollup")
        for statement in sql.drop_temp_tables():
            cursor.execute(statement)
    return count, rows


def _secondary_indexes(cursor: CursorWrapper, *, create: bool) -> None:
    """Drop or create the rollup table's indexes as the model declares them."""
    with connection.schema_editor(atomic=False, collect_sql=False) as editor:
        for index in Rollup._meta.indexes:
            statement = (
                index.create_sql(Rollup, editor) if create else index.remove_sql(Rollup, editor)
            )
            cursor.execute(str(statement))


def recompute(indicator_ids: Iterable[int] | None = None) -> RecomputeResult:
    """Rebuild the rollups of ``indicator_ids`` (all indicators when None)."""
    ids = None if indicator_ids is None else sorted({int(i) for i in indicator_ids})
    run = RecomputeRun.objects.create(
        kind=RecomputeRun.Kind.FULL if ids is None else RecomputeRun.Kind.INDICATORS,
        started_at=timezone.now(),
    )
    started = time.perf_counter()
    started_at = timezone.now()
    try:
        with transaction.atomic():
            count, rows = rebuild(ids)
            clear_requests(ids, up_to=started_at)
    except Exception as error:
        RecomputeRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), error=f"{type(error).__name__}: {error}"[:2000]
        )
        log.exception("recompute failed for %s", "all indicators" if ids is None else ids)
        raise
    seconds = time.perf_counter() - started
    RecomputeRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), indicators=count, rows=rows, seconds=seconds, ok=True
    )
    return RecomputeResult(indicators=count, rows=rows, seconds=seconds)
