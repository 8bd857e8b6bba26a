"""Celery signals for operations: a task that failed for good (after its retries) is recorded
as a ``FailedTask`` so that /ops/jobs/ lists it, with the programme its arguments name (shown to
that programme's admins; a task of the whole site, to superusers only). Connected once by
``MonitoringConfig.ready`` in every process that loads Django (web and workers alike)."""

import json
import logging
from collections.abc import Callable
from typing import Any

from celery.signals import task_failure
from django.db import DatabaseError, transaction
from django.utils import timezone

log = logging.getLogger(__name__)

SUMMARY_CHARS = 300
TRACEBACK_CHARS = 4000  # the end of a traceback says where it failed


def connect() -> None:
    task_failure.connect(record_task_failure, weak=False, dispatch_uid="monitoring.failed_task")


def _plain(value: Any) -> Any:
    """Arguments as JSON can hold them (tasks take primitive ids; anything else as text)."""
    return json.loads(json.dumps(value, default=str))


def args_summary(args: Any, kwargs: Any) -> str:
    parts = [repr(a) for a in args or ()] + [f"{k}={v!r}" for k, v in (kwargs or {}).items()]
    text = ", ".join(parts)
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def _arg(args: Any, kwargs: Any, position: int, name: str) -> Any:
    if kwargs and name in kwargs:
        return kwargs[name]
    return args[position] if args and len(args) > position else None


def _export_job(args: Any, kwargs: Any) -> int | None:
    from .models import ExportJob

    job_id = _arg(args, kwargs, 0, "job_id")
    return ExportJob.objects.filter(pk=job_id).values_list("programme_id", flat=True).first()


def _budget(args: Any, kwargs: Any) -> int | None:
    from .models import Programme

    programme_id = _arg(args, kwargs, 0, "programme_id")
    return Programme.objects.filter(pk=programme_id).values_list("pk", flat=True).first()


def _indicators(args: Any, kwargs: Any) -> int | None:
    """Indicators of one programme name it; of several, the task is the whole site's."""
    from indicators.models import Indicator

    ids = _arg(args, kwargs, 0, "indicator_ids") or []
    programmes = set(Indicator.objects.filter(pk__in=ids).values_list("programme_id", flat=True))
    return programmes.pop() if len(programmes) == 1 else None


def _unit(args: Any, kwargs: Any) -> int | None:
    from indicators.models import RecomputeUnit

    unit_id = _arg(args, kwargs, 0, "unit_id")
    return RecomputeUnit.objects.filter(pk=unit_id).values_list("programme_id", flat=True).first()


# The tasks whose arguments name a programme, and how to find it from them.
PROGRAMME_OF_TASK: dict[str, Callable[[Any, Any], int | None]] = {
    "monitoring.exports.tasks.run_export_job": _export_job,
    "budgets.tasks.recompute_budget": _budget,
    "indicators.tasks.recompute_indicators": _indicators,
    "indicators.tasks.recompute_unit": _unit,
}


def programme_of_task(task_name: str, args: Any, kwargs: Any) -> int | None:
    """The id of the programme a task worked for, or None (the whole site's, or unknown)."""
    find = PROGRAMME_OF_TASK.get(task_name)
    if find is None:
        return None
    try:
        with transaction.atomic():  # a failed look-up must not spoil the caller's transaction
            return find(args, kwargs)
    except (DatabaseError, TypeError, ValueError):  # odd arguments, or no database: nobody's
        log.warning("could not tell the programme of task %s", task_name, exc_info=True)
        return None


def record_task_failure(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    args: Any = None,
    kwargs: Any = None,
    einfo: Any = None,
    **_: Any,
) -> None:
    """Write the failure down; never let the bookkeeping raise in the worker."""
    from .models import FailedTask

    request = getattr(sender, "request", None)
    task_name = str(getattr(sender, "name", sender))[:200]
    try:
        FailedTask.objects.create(
            task_id=str(task_id or "")[:64],
            task_name=task_name,
            programme_id=programme_of_task(task_name, args, kwargs),
            args=_plain(list(args or ())),
            kwargs=_plain(dict(kwargs or {})),
            args_summary=args_summary(args, kwargs),
            exception=f"{type(exception).__name__}: {exception}"[:2000],
            traceback=str(getattr(einfo, "traceback", "") or "")[-TRACEBACK_CHARS:],
            retries=int(getattr(request, "retries", 0) or 0),
            hostname=str(getattr(request, "hostname", "") or "")[:200],
            failed_at=timezone.now(),
        )
    except DatabaseError:  # the database may be what failed: the worker's log still says it
        log.warning("could not record the failure of task %s", task_id, exc_info=True)
