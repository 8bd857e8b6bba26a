"""A full recompute split between workers (DESIGN §4, §9: workers scale out on Celery).

``plan_run`` cuts the work into units, one programme's indicators in batches of
``RECOMPUTE_UNIT_INDICATORS``, writes a row per unit and sends a task per unit. Whichever worker
a task reaches claims its unit by locking the unit's row for the one transaction that rebuilds
the unit's rollups, re-runs its indicators' value checks and marks it done:

- on PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED``: a second worker handed the same unit
  (a task delivered again, or resent by the sweep) passes over it at once;
- on SQLite, which has one writer, the claim is the transaction's first write: it takes the
  database's write lock, and a second worker waits for it, then finds the unit done.

A claim lasts as long as its transaction. A worker that dies loses its connection, the database
rolls its work back and the unit is pending again for the next task that reaches it (``acks_late``
delivers the task again; the minute sweep resends units owed for ``RECOMPUTE_UNIT_RESEND_AFTER``
seconds). On PostgreSQL a worker that hangs inside a unit for ``RECOMPUTE_UNIT_CLAIM_TIMEOUT``
seconds is disconnected the same way. Each unit counts its computations in the transaction that
computes it, so the record shows every unit computed once, and by which worker.

When no unit is left, ``finish_run`` runs what concerns whole programmes once: the report
checks (missing or late), rollups of indicators that are gone, the budget figures."""

import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import Iterable, Iterator
from functools import partial

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from ..models import Indicator, QualityIssue, RecomputeRun, RecomputeUnit, Rollup
from .quality import run_checks
from .recompute import rebuild
from .requests import clear_requests

log = logging.getLogger(__name__)

PENDING = RecomputeUnit.State.PENDING
DONE = RecomputeUnit.State.DONE
SUPERSEDED = RecomputeUnit.State.SUPERSEDED


def scaling_setting(name: str) -> int:
    """A number from ``monitoring.settings.parts.scaling`` (set when settings load)."""
    return int(getattr(settings, name))


def worker_name() -> str:
    """Who computed a unit: the host (a container's id under compose) and the process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _batches(rows: Iterable[tuple[int, int]], size: int) -> Iterator[tuple[int, list[int]]]:
    """(programme, indicator) pairs in programme order → (programme, up to ``size`` ids)."""
    batch: list[tuple[int, int]] = []
    for row in rows:
        if batch and (row[0] != batch[0][0] or len(batch) == size):
            yield batch[0][0], [i for _, i in batch]
            batch = []
        batch.append(row)
    if batch:
        yield batch[0][0], [i for _, i in batch]


def plan_run(
    programme_ids: Iterable[int] | None = None, *, unit_size: int | None = None
) -> RecomputeRun:
    """Plan a recompute of every indicator (of these programmes; all when None) as units and
    send one task per unit once the plan is committed. Pending units of earlier runs for the
    same programmes are superseded: this run does their work."""
    from . import _refresh_survey_feeds

    size = max(1, unit_size or scaling_setting("RECOMPUTE_UNIT_INDICATORS"))
    programmes = None if programme_ids is None else sorted({int(p) for p in programme_ids})
    _refresh_survey_feeds(programmes)  # survey-fed values first, as in a run in one process
    now = timezone.now()
    with transaction.atomic():
        run = RecomputeRun.objects.create(
            kind=RecomputeRun.Kind.FULL if programmes is None else RecomputeRun.Kind.PROGRAMMES,
            started_at=now,
        )
        superseded_runs = _supersede(run, programmes, now)
        indicators = Indicator.objects.order_by("programme_id", "pk")
        if programmes is not None:
            indicators = indicators.filter(programme_id__in=programmes)
        units = [
            RecomputeUnit(run=run, programme_id=p, indicator_ids=ids, enqueued_at=now)
            for p, ids in _batches(indicators.values_list("programme_id", "pk"), size)
        ]
        RecomputeUnit.objects.bulk_create(units)
        run.indicators = sum(len(u.indicator_ids) for u in units)
        run.save(update_fields=["indicators"])
        unit_ids = list(run.units.order_by("pk").values_list("pk", flat=True))
        transaction.on_commit(lambda: _send_units(unit_ids))
        for run_id in [*superseded_runs, *([] if unit_ids else [run.pk])]:
            transaction.on_commit(partial(_send_finish, run_id))
    return run


def _supersede(run: RecomputeRun, programmes: list[int] | None, now: dt.datetime) -> set[int]:
    """Mark pending units of other runs (for these programmes) superseded; units being computed
    right now are left to finish. Returns the runs concerned."""
    owed = RecomputeUnit.objects.filter(state=PENDING).exclude(run=run)
    if programmes is not None:
        owed = owed.filter(programme_id__in=programmes)
    picked = list(
        owed.select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
        .values_list("pk", "run_id")
    )
    RecomputeUnit.objects.filter(pk__in=[pk for pk, _ in picked], state=PENDING).update(
        state=SUPERSEDED, finished_at=now
    )
    return {run_id for _, run_id in picked}


def _send_units(unit_ids: list[int]) -> None:
    from ..tasks import recompute_unit

    for unit_id in unit_ids:
        try:
            recompute_unit.delay(unit_id)
        except Exception:  # broker down: the units stay pending and the sweep resends them
            log.warning("could not send recompute unit %s; the sweep will resend it", unit_id)
            return


def _send_finish(run_id: int) -> None:
    from ..tasks import finish_recompute_run

    try:
        finish_recompute_run.delay(run_id)
    except Exception:  # the sweep finishes runs whose units are all done
        log.warning("could not send the end of recompute run %s; the sweep will", run_id)


def _claim(unit_id: int) -> RecomputeUnit | None:
    """Lock the unit for the current transaction if it is pending and nobody holds it."""
    pending = RecomputeUnit.objects.filter(pk=unit_id, state=PENDING)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The claim expires with the session if the worker stalls inside it.
            cursor.execute(
                "SELECT set_config('idle_in_transaction_session_timeout', %s, true)",
                [f"{scaling_setting('RECOMPUTE_UNIT_CLAIM_TIMEOUT')}s"],
            )
        return pending.select_for_update(skip_locked=True, of=("self",)).order_by("pk").first()
    # One writer (SQLite): writing first takes the write lock until the transaction ends.
    if not pending.update(state=PENDING):
        return None
    return pending.first()


def compute_unit(unit_id: int) -> int | None:
    """Claim and compute one unit. Returns its rollup rows, or None when it was done,
    superseded or being computed by another worker."""
    try:
        with transaction.atomic():
            unit = _claim(unit_id)
            if unit is None:
                return None
            started_at = timezone.now()
            ids = [int(i) for i in unit.indicator_ids]
            _, rows = rebuild(ids)
            clear_requests(ids, up_to=started_at)
            run_checks(indicator_ids=ids, reports=False)
            # Counted whatever the state was: a unit computed twice would show it.
            RecomputeUnit.objects.filter(pk=unit.pk).update(
                state=DONE,
                computations=F("computations") + 1,
                computed_by=worker_name(),
                started_at=started_at,
                finished_at=timezone.now(),
                rows=rows,
                error="",
            )
            if _last_of_run(unit.run_id):
                transaction.on_commit(lambda: _send_finish(unit.run_id))
    except Exception as error:
        log.exception("recompute unit %s failed", unit_id)
        # For the operations pages; the unit stays pending for a retry. If the database is
        # what failed, the error is in the log only.
        with contextlib.suppress(DatabaseError):
            RecomputeUnit.objects.filter(pk=unit_id).update(
                error=f"{type(error).__name__}: {error}"[:2000]
            )
        raise
    return rows


def _lock_run(run_id: int) -> None:
    """Take the run's row for the rest of the transaction (on SQLite, the write lock: taken by
    the transaction's first statement, a waiting writer queues instead of failing)."""
    runs = RecomputeRun.objects.filter(pk=run_id)
    if connection.vendor == "postgresql":
        list(runs.select_for_update().values_list("pk"))
    else:
        runs.update(error=F("error"))


def _last_of_run(run_id: int) -> bool:
    """Whether no other unit of the run is pending. Units ending at once take turns on the
    run's row, so the last to commit sees all the others done."""
    _lock_run(run_id)
    return not RecomputeUnit.objects.filter(run_id=run_id, state=PENDING).exists()


def finish_run(run_id: int) -> bool:
    """Once every unit of the run is done: the report checks of its programmes, rollups of
    indicators that no longer have any removed, budget figures refreshed, the run recorded as
    finished. Returns whether this call finished it (False while units are pending, or when
    it was finished already)."""
    from . import _refresh_budgets

    with transaction.atomic():
        _lock_run(run_id)
        run = RecomputeRun.objects.filter(pk=run_id, finished_at__isnull=True).first()
        if run is None or run.units.filter(state=PENDING).exists():
            return False
        programmes: list[int] | None = None
        if run.kind != RecomputeRun.Kind.FULL:
            programmes = sorted(set(run.units.values_list("programme_id", flat=True)))
        _rollups_in(programmes).exclude(
            indicator_id__in=Indicator.objects.exclude(measure=Indicator.Measure.TEXT).values("pk")
        ).delete()
        run_checks(programme_ids=programmes, values=False)
        _refresh_budgets(programmes)
        superseded = run.units.filter(state=SUPERSEDED).exists()
        issues = QualityIssue.objects.all()
        if programmes is not None:
            issues = issues.filter(programme_id__in=programmes)
        now = timezone.now()
        # ``error`` holds text for operators, as the exceptions of failed runs do.
        RecomputeRun.objects.filter(pk=run.pk).update(
            finished_at=now,
            rows=run.units.aggregate(rows=Sum("rows"))["rows"] or 0,
            issues=issues.count(),
            seconds=(now - run.started_at).total_seconds(),
            ok=not superseded,
            error="Superseded by a later run." if superseded else "",
        )
    return True


def _rollups_in(programmes: list[int] | None) -> QuerySet[Rollup]:
    rollups = Rollup.objects.all()
    return rollups if programmes is None else rollups.filter(programme_id__in=programmes)


def units_pending() -> bool:
    return RecomputeUnit.objects.filter(state=PENDING).exists()


def resend_owed_units(older_than: dt.timedelta) -> int:
    """Send again the pending units sent at least ``older_than`` ago that no worker holds now
    (their task was lost, or their worker died). Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        owed = RecomputeUnit.objects.filter(state=PENDING, enqueued_at__lte=now - older_than)
        if connection.vendor == "postgresql":
            unit_ids = list(
                owed.select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            RecomputeUnit.objects.filter(pk__in=unit_ids).update(enqueued_at=now)
        else:  # one writer: no unit is being computed once this write has the lock
            owed.update(enqueued_at=now)
            unit_ids = list(
                RecomputeUnit.objects.filter(state=PENDING, enqueued_at=now)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        if unit_ids:
            transaction.on_commit(lambda: _send_units(unit_ids))
    return len(unit_ids)


def finish_stalled_runs() -> int:
    """Finish split runs whose units are all done but whose end was never run (its task was
    lost). Returns how many were finished."""
    stalled = (
        RecomputeRun.objects.filter(finished_at__isnull=True, units__isnull=False)
        .exclude(units__state=PENDING)
        .distinct()
        .values_list("pk", flat=True)
    )
    return sum(finish_run(run_id) for run_id in list(stalled))
