"""Large exports built by a worker (DESIGN §8): the job is claimed with a conditional UPDATE
(a second delivery finds it taken and does nothing), the file is written to a temporary file
while ``rows_done`` follows it, and only a complete file is saved to storage and offered. Any
failure marks the job failed with a message the requester can act on; nothing half-written
is ever offered.

A job whose worker died stays "running": past ``EXPORT_JOB_TIMEOUT`` seconds it is shown as
failed at once, and the periodic ``clean_export_jobs`` marks it so; the same task deletes the
jobs (and their files) older than ``EXPORT_JOB_KEEP_DAYS`` days."""

import datetime as dt
import logging
import tempfile
from typing import Any

from celery import shared_task
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from monitoring.models import ExportJob
from monitoring.models.tokens import STALLED_ERROR, export_job_setting

from .registry import EXPORTS, FORMATS, REFUSALS, ExportRun, refusal
from .stamp import ExportStamp, export_stamp

log = logging.getLogger(__name__)
Status = ExportJob.Status
STAMP_KEY = "_stamp"  # where a finished job keeps the stamp its file was built with


def job_run(job: ExportJob) -> ExportRun:
    params = {k: v for k, v in job.params.items() if k != STAMP_KEY}
    return ExportRun(job.programme, job.kind, job.fmt, params, job.language)


def job_filters(job: ExportJob) -> dict[str, Any]:
    return {k: v for k, v in job.params.items() if k != STAMP_KEY}


def job_stamp(job: ExportJob) -> ExportStamp | None:
    """The stamp of a finished job's file, as it was when the file was built."""
    facts = job.params.get(STAMP_KEY)
    if not facts:
        return None

    def moment(key: str) -> dt.datetime | None:
        return dt.datetime.fromisoformat(facts[key]) if facts.get(key) else None

    return ExportStamp(
        programme=facts["programme"],
        generated_at=moment("generated_at") or job.created_at,
        as_of_period=facts.get("as_of_period"),
        as_of_date=dt.date.fromisoformat(facts["as_of_date"]) if facts.get("as_of_date") else None,
        computed_at=moment("computed_at"),
        restatements=int(facts.get("restatements") or 0),
        last_restated_at=moment("last_restated_at"),
    )


def export_job_create(*, run: ExportRun, user: Any, rows_total: int) -> ExportJob:
    """A queued job, started once the caller's transaction commits."""
    job = ExportJob.objects.create(
        programme=run.programme,
        requested_by=user,
        kind=run.kind,
        fmt=run.fmt,
        params=run.params,
        language=run.language,
        rows_total=rows_total,
    )
    job_id = job.pk

    def enqueue() -> None:
        try:
            run_export_job.delay(job_id)
        except Exception:  # broker unreachable: say so rather than leave it queued for ever
            log.exception("could not start export job %s", job_id)
            with translation.override(run.language):
                message = _("The export could not be started. Try again in a few minutes.")
            ExportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
                status=Status.FAILED, error=message, finished_at=timezone.now()
            )

    transaction.on_commit(enqueue)
    return job


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Build a queued job's file. Returns the job, or None when it was not queued (already
    taken by another delivery of the task, or gone)."""
    claimed = ExportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), rows_done=0
    )
    if not claimed:
        return None
    job = ExportJob.objects.select_related("programme").get(pk=job_id)
    with translation.override(job.language):
        try:
            _build(job)
        except Exception as error:
            log.exception("export job %s failed", job_id)
            _fail(job, _failure_message(error))
    job.refresh_from_db()
    return job


def _build(job: ExportJob) -> None:
    run = job_run(job)
    if run.kind not in EXPORTS or run.fmt not in FORMATS:
        raise LookupError(f"{run.kind}.{run.fmt}")
    stamp = export_stamp(job.programme)
    total = run.size()
    ExportJob.objects.filter(pk=job.pk).update(rows_total=total)

    def progress(rows: int) -> None:
        ExportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(rows_done=rows)

    name = run.filename(stamp)
    with tempfile.TemporaryFile() as out:
        rows = run.write(stamp, out, progress)
        out.seek(0)
        job.file.save(name, File(out, name=name), save=False)
    try:
        done = ExportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
            status=Status.DONE,
            file=job.file.name,
            filename=name,
            rows_done=rows,
            rows_total=max(total, rows),
            params={**run.params, STAMP_KEY: stamp.as_dict()},
            finished_at=timezone.now(),
        )
    except Exception:
        job.file.delete(save=False)
        raise
    if not done:  # no longer ours (it was failed meanwhile): offer nothing
        job.file.delete(save=False)


def _failure_message(error: Exception) -> str:
    if isinstance(error, REFUSALS):
        return refusal(error)[1]
    return _(
        "The export could not be built because of an unexpected error. Try again; if it fails "
        "again, tell the programme's administrator."
    )


def _fail(job: ExportJob, message: str) -> None:
    ExportJob.objects.filter(pk=job.pk).exclude(status=Status.DONE).update(
        status=Status.FAILED, error=message, file="", finished_at=timezone.now()
    )


@shared_task(acks_late=True, ignore_result=True)
def run_export_job(job_id: int) -> None:
    """Build one export job's file (safe to deliver twice: the second finds it taken)."""
    export_job_run(job_id=job_id)


# ---- housekeeping -----------------------------------------------------------------------------


def export_jobs_fail_stalled(*, now: dt.datetime | None = None) -> int:
    """Mark failed the jobs still running past the timeout (their worker died), each with the
    message in its requester's language. A worker that was only slow finds its job no longer
    running and offers nothing. Returns how many were marked."""
    now = now or timezone.now()
    stalled = ExportJob.objects.stalled(now)
    marked = 0
    for language in set(stalled.values_list("language", flat=True)):
        with translation.override(language):
            message = str(STALLED_ERROR)
        marked += stalled.filter(language=language).update(
            status=Status.FAILED, error=message, file="", finished_at=now
        )
    return marked


def export_jobs_delete_old(*, now: dt.datetime | None = None) -> int:
    """Delete the jobs requested more than ``EXPORT_JOB_KEEP_DAYS`` days ago, and their files
    once that commits. Returns how many jobs were deleted."""
    keep = dt.timedelta(days=export_job_setting("EXPORT_JOB_KEEP_DAYS"))
    cutoff = (now or timezone.now()) - keep
    storage = ExportJob._meta.get_field("file").storage
    with transaction.atomic():
        old = ExportJob.objects.filter(created_at__lt=cutoff)
        names = [name for name in old.values_list("file", flat=True) if name]
        deleted, _by_model = old.delete()

        def delete_files() -> None:
            for name in names:
                try:
                    storage.delete(name)
                except OSError:  # the next file is still worth deleting
                    log.warning("could not delete export file %s", name, exc_info=True)

        transaction.on_commit(delete_files)
    return deleted


def export_jobs_clean(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """The periodic housekeeping: (stalled jobs marked failed, old jobs deleted)."""
    return export_jobs_fail_stalled(now=now), export_jobs_delete_old(now=now)


@shared_task(acks_late=True, ignore_result=True)
def clean_export_jobs() -> tuple[int, int]:
    """Hourly (``CELERY_BEAT_SCHEDULE``): safe to run twice, the second finds nothing to do."""
    return export_jobs_clean()
