"""Celery signals for operations: a task that failed for good (after its retries) is recorded
as a ``FailedTask`` so that /ops/jobs/ lists it. Connected once by ``MonitoringConfig.ready``
in every process that loads Django (web and workers alike)."""

import json
import logging
from typing import Any

from celery.signals import task_failure
from django.db import DatabaseError
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
    try:
        FailedTask.objects.create(
            task_id=str(task_id or "")[:64],
            task_name=str(getattr(sender, "name", sender))[:200],
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
