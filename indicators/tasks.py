"""Celery adapters for the engine and the report reminders: primitive ids in, one call, safe
to run twice.

``acks_late`` (set globally) means a task whose worker dies is delivered again; the engine
rebuilds in one transaction, so a half-done run leaves nothing behind. The nightly run is split
into units that several workers share, each computed once (``engine.claims``)."""

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone

from . import engine, reminders

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    acks_late=True, autoretry_for=TRANSIENT, retry_backoff=2, retry_backoff_max=60, max_retries=6
)
def recompute_indicators(indicator_ids: list[int]) -> int:
    """After an approval, restatement or target revision: these indicators only."""
    return engine.refresh_indicators(indicator_ids).rows


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=30, max_retries=3)
def recompute_all() -> int:
    """Nightly: every rollup and every data-quality check. With workers (a broker), the run is
    split into units the workers share (``engine.claims``) and this returns how many; in
    process, one run does it all and this returns its rollup rows."""
    return _full_recompute()


def _full_recompute() -> int:
    if recompute_all.app.conf.task_always_eager:
        return engine.refresh_all().rows
    return engine.plan_run().units.count()


@shared_task(
    acks_late=True, autoretry_for=TRANSIENT, retry_backoff=2, retry_backoff_max=60, max_retries=6
)
def recompute_unit(unit_id: int) -> int:
    """One unit of a split run: claimed, computed and counted once, whichever worker gets it
    (a unit already done or held by another worker is passed over). Returns its rows."""
    return engine.compute_unit(unit_id) or 0


@shared_task(
    acks_late=True, autoretry_for=TRANSIENT, retry_backoff=2, retry_backoff_max=60, max_retries=6
)
def finish_recompute_run(run_id: int) -> bool:
    """After the last unit of a split run: the programme-wide checks, and the run recorded."""
    return engine.finish_run(run_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep_pending() -> int:
    """Every minute: recompute indicators whose request was not picked up (for example while
    the broker was down), and rebuild everything if the rollups are gone (PostgreSQL empties
    an unlogged table after a crash). Requests younger than ``RECOMPUTE_SWEEP_AFTER`` seconds
    are left to their own task. Units of a split run owed for ``RECOMPUTE_UNIT_RESEND_AFTER``
    seconds are sent again, and split runs whose end was lost are finished."""
    if engine.rollups_missing() and not engine.units_pending():
        return _full_recompute()
    resend_after = engine.claims.scaling_setting("RECOMPUTE_UNIT_RESEND_AFTER")
    engine.resend_owed_units(dt.timedelta(seconds=resend_after))
    engine.finish_stalled_runs()
    ids = engine.pending_indicator_ids(
        older_than=dt.timedelta(seconds=settings.RECOMPUTE_SWEEP_AFTER)
    )
    if not ids:
        return 0
    try:
        return engine.refresh_indicators(ids).rows
    except DatabaseError:
        return 0  # the next sweep tries again


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=30, max_retries=3)
def send_report_reminders() -> int:
    """Daily: the report reminders and escalations owed today. A retry or a second run sends
    nothing twice: each reminder is claimed by a unique row before its e-mail leaves."""
    return len(reminders.send_due_reminders(today=timezone.localdate()))
