"""Operations pages (issue 8): the jobs that failed, for superusers and programme admins.

/ops/jobs/ lists failed Celery tasks (recorded by ``monitoring.signals``), failed export jobs
(and those whose worker stopped) and engine runs that failed or never finished, with filters,
and offers the actions that are safe to repeat: send an idempotent task again, queue a failed
export again, recompute the indicators still waiting for it. A programme admin sees, and sends
again, only what belongs to their programmes: the export jobs, and the tasks whose arguments
named one of them; tasks and engine runs of the whole site are for superusers. Anybody else
gets a 403; a task or job out of one's reach is a 404."""

import datetime as dt
import importlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from indicators.models import RecomputeRequest, RecomputeRun

from .models import ExportJob, FailedTask, Membership, Programme
from .permissions import Viewer

log = logging.getLogger(__name__)

LIMIT = 100  # rows per list, newest first
# A run that started this long ago and never finished was killed (its worker died).
STALE_RUN = dt.timedelta(minutes=15)
# Tasks safe to send again as they were: each recomputes from the database or claims its
# work with unique rows. A full recompute is heavy: superusers only.
RETRYABLE = {
    "indicators.tasks.recompute_indicators": False,
    "indicators.tasks.sweep_pending": False,
    "indicators.tasks.send_report_reminders": False,
    "budgets.tasks.recompute_budget": False,
    "indicators.tasks.recompute_all": True,  # True: superusers only
    "indicators.tasks.recompute_unit": False,  # a unit done already is passed over
    "indicators.tasks.finish_recompute_run": False,  # finishes a run once
    "monitoring.exports.tasks.clean_export_jobs": False,  # deletes what is old; marks once
}
SHOW = {
    "all": gettext_lazy("everything"),
    "tasks": gettext_lazy("tasks"),
    "exports": gettext_lazy("export jobs"),
    "runs": gettext_lazy("engine runs"),
}
SINCE = {
    "1": gettext_lazy("in the last 24 hours"),
    "7": gettext_lazy("in the last 7 days"),
    "30": gettext_lazy("in the last 30 days"),
    "all": gettext_lazy("at any time"),
}


# --- who may see what ----------------------------------------------------------------------


def can_view_operations(user: Viewer) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        user.is_superuser
        or Membership.objects.filter(user=user, role=Membership.Role.ADMIN).exists()
    )


def administered_programmes(user: User) -> QuerySet[Programme]:
    if user.is_superuser:
        return Programme.objects.all()
    return Programme.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.ADMIN
    ).distinct()


def failed_tasks_for(user: User) -> QuerySet[FailedTask]:
    """Every failed task for a superuser; for a programme admin, those that worked for one
    of their programmes (a task of the whole site names none)."""
    if user.is_superuser:
        return FailedTask.objects.all()
    return FailedTask.objects.filter(programme__in=administered_programmes(user))


def can_retry_task(user: Viewer, task: FailedTask) -> bool:
    superusers_only = RETRYABLE.get(task.task_name)
    if superusers_only is None or task.retried_at is not None:
        return False
    return user.is_superuser or not superusers_only


def _operator(request: HttpRequest) -> User:
    if not can_view_operations(request.user):
        raise PermissionDenied
    assert isinstance(request.user, User)
    return request.user


# --- reads ---------------------------------------------------------------------------------


@dataclass
class Filters:
    show: str
    since: str
    task: str
    programme: str

    @classmethod
    def from_query(cls, request: HttpRequest) -> "Filters":
        show = request.GET.get("show", "all")
        since = request.GET.get("since", "7")
        return cls(
            show=show if show in SHOW else "all",
            since=since if since in SINCE else "7",
            task=request.GET.get("task", "")[:200],
            programme=request.GET.get("programme", "")[:40],
        )

    def cutoff(self) -> dt.datetime | None:
        return None if self.since == "all" else timezone.now() - dt.timedelta(days=int(self.since))

    def shows(self, what: str) -> bool:
        return self.show in ("all", what)


def failed_tasks(filters: Filters, user: User) -> list[FailedTask]:
    tasks = failed_tasks_for(user).select_related("retried_by", "programme")
    if (cutoff := filters.cutoff()) is not None:
        tasks = tasks.filter(failed_at__gte=cutoff)
    if filters.task:
        tasks = tasks.filter(task_name=filters.task)
    if filters.programme:
        tasks = tasks.filter(programme__code=filters.programme)
    return list(tasks[:LIMIT])


def failed_exports(filters: Filters, programmes: QuerySet[Programme]) -> list[ExportJob]:
    """Failed jobs, and jobs whose worker stopped (still marked running past the timeout)."""
    jobs = (
        ExportJob.objects.failed_or_stalled()
        .filter(programme__in=programmes)
        .select_related("programme", "requested_by")
    )
    if (cutoff := filters.cutoff()) is not None:
        jobs = jobs.filter(created_at__gte=cutoff)
    if filters.programme:
        jobs = jobs.filter(programme__code=filters.programme)
    return list(jobs.order_by("-created_at", "-id")[:LIMIT])


def failed_runs(filters: Filters, user: User) -> list[RecomputeRun]:
    """Runs that recorded an error, and runs that started long ago and never finished. A run
    covers the whole site (no programme of its own): superusers only."""
    if not user.is_superuser:
        return []
    stale = timezone.now() - STALE_RUN
    runs = RecomputeRun.objects.filter(ok=False).filter(
        Q(finished_at__isnull=False) | Q(started_at__lt=stale)
    )
    if (cutoff := filters.cutoff()) is not None:
        runs = runs.filter(started_at__gte=cutoff)
    return list(runs.order_by("-started_at")[:LIMIT])


def engine_state() -> dict[str, Any]:
    pending = RecomputeRequest.objects.aggregate(n=Count("pk"), oldest=Min("requested_at"))
    last_ok = (
        RecomputeRun.objects.filter(ok=True, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return {"pending": pending["n"], "oldest": pending["oldest"], "last_ok": last_ok}


@login_required
@require_GET
def jobs(request: HttpRequest) -> HttpResponse:
    user = _operator(request)
    filters = Filters.from_query(request)
    programmes = administered_programmes(user)
    tasks = failed_tasks(filters, user) if filters.shows("tasks") else []
    context = {
        "filters": filters,
        "show_choices": SHOW.items(),
        "since_choices": SINCE.items(),
        "task_names": failed_tasks_for(user)
        .order_by("task_name")
        .values_list("task_name", flat=True)
        .distinct(),
        "programmes": programmes.order_by("code"),
        "tasks": [(t, can_retry_task(user, t)) for t in tasks],
        "exports": failed_exports(filters, programmes) if filters.shows("exports") else [],
        "runs": failed_runs(filters, user) if filters.shows("runs") else [],
        "engine": engine_state(),
    }
    return render(request, "ops/jobs.html", context)


# --- actions (each safe to repeat) --------------------------------------------------------


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the list, with the filters it had (only those, re-encoded)."""
    given = QueryDict(request.POST.get("query", ""))
    kept = {k: given[k] for k in ("show", "since", "task", "programme") if given.get(k)}
    url = reverse("ops:jobs")
    return redirect(f"{url}?{urlencode(kept)}" if kept else url)


class NotSent(Exception):
    """The broker did not take the task."""


def _send(task_name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Send a task through its own object (so that without a broker it runs in-process and
    a failure is recorded by the signal, then raised here)."""
    from monitoring.celery import app

    importlib.import_module(task_name.rsplit(".", 1)[0])
    task = app.tasks[task_name]
    if not app.conf.task_always_eager:
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except Exception as error:
            raise NotSent from error
        return
    result = task.apply(args=args, kwargs=kwargs, throw=False)
    if result.failed():
        raise result.result


def _report_failure(request: HttpRequest, error: Exception) -> None:
    if isinstance(error, NotSent):
        log.warning("operations: the broker did not take a task (%r)", error.__cause__)
        messages.error(
            request,
            _(
                "The task could not be sent: the broker is not answering. Try again later; "
                "recomputes still owed are picked up by the sweep once it answers."
            ),
        )
    else:
        messages.error(
            request,
            _("The task ran again and failed: %(error)s. It is listed below.")
            % {"error": type(error).__name__},
        )


@login_required
@require_POST
def retry_task(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _operator(request)
    task = get_object_or_404(failed_tasks_for(user), pk=task_id)
    if not can_retry_task(user, task):
        raise PermissionDenied
    claimed = FailedTask.objects.filter(pk=task.pk, retried_at__isnull=True).update(
        retried_at=timezone.now(), retried_by=user
    )
    if claimed:  # a second click finds it claimed and sends nothing
        try:
            _send(task.task_name, list(task.args), dict(task.kwargs))
        except Exception as error:
            if isinstance(error, NotSent):  # never sent: it may be sent again later
                FailedTask.objects.filter(pk=task.pk).update(retried_at=None, retried_by=None)
            _report_failure(request, error)
        else:
            messages.success(request, _("Task %(name)s sent again.") % {"name": task.task_name})
    return _back(request)


@login_required
@require_POST
def retry_export(request: HttpRequest, job_id: int) -> HttpResponse:
    user = _operator(request)
    job = get_object_or_404(
        ExportJob.objects.failed_or_stalled().filter(programme__in=administered_programmes(user)),
        pk=job_id,
    )
    export_job_requeue(job=job)
    messages.success(request, _("The export job was queued again."))
    return _back(request)


def export_job_requeue(*, job: ExportJob) -> None:
    """A failed job (or one whose worker stopped) back in the queue, started once this
    commits; the job claims itself from ``queued`` as usual, so a second delivery does
    nothing."""
    from .exports.tasks import run_export_job

    with transaction.atomic():
        requeued = (
            ExportJob.objects.failed_or_stalled()
            .filter(pk=job.pk)
            .update(
                status=ExportJob.Status.QUEUED,
                error="",
                file="",
                rows_done=0,
                started_at=None,
                finished_at=None,
            )
        )
        if not requeued:
            return

        def enqueue() -> None:
            try:
                run_export_job.delay(job.pk)
            except Exception:  # the broker is down: the job says so again
                log.warning("operations: could not queue export job %s", job.pk)
                ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.QUEUED).update(
                    status=ExportJob.Status.FAILED,
                    error=_("The export could not be started. Try again in a few minutes."),
                    finished_at=timezone.now(),
                )

        transaction.on_commit(enqueue)


@login_required
@require_POST
def recompute_pending(request: HttpRequest) -> HttpResponse:
    """Recompute now every indicator still waiting (what the sweep would do next)."""
    _operator(request)
    ids = list(RecomputeRequest.objects.order_by("pk").values_list("pk", flat=True))
    if not ids:
        messages.info(request, _("No recompute is pending."))
        return _back(request)
    try:
        _send("indicators.tasks.recompute_indicators", [ids], {})
    except Exception as error:
        _report_failure(request, error)
    else:
        messages.success(
            request,
            ngettext(
                "Recompute of %(n)s indicator requested.",
                "Recompute of %(n)s indicators requested.",
                len(ids),
            )
            % {"n": len(ids)},
        )
    return _back(request)


@login_required
@require_POST
def recompute_everything(request: HttpRequest) -> HttpResponse:
    """A full recompute and data-quality run (the nightly job), superusers only."""
    if not _operator(request).is_superuser:
        raise PermissionDenied
    try:
        _send("indicators.tasks.recompute_all", [], {})
    except Exception as error:
        _report_failure(request, error)
    else:
        messages.success(request, _("Full recompute requested."))
    return _back(request)
