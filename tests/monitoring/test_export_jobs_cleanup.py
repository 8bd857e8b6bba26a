"""Export jobs whose worker died, and old jobs (issue 8): a job still running past
``EXPORT_JOB_TIMEOUT`` seconds is shown as failed and can be started again; the hourly
``clean_export_jobs`` task marks such jobs failed and deletes the jobs (and their files)
requested more than ``EXPORT_JOB_KEEP_DAYS`` days ago, keeping the younger ones."""

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from monitoring.celery import app as celery_app
from monitoring.exports import tasks
from monitoring.models import ExportJob
from monitoring.ops_views import RETRYABLE

pytestmark = pytest.mark.django_db

STALLED = "The worker preparing this export stopped before it was done. Start it again."
Status = ExportJob.Status


@pytest.fixture(autouse=True)
def ten_minutes(settings):
    settings.EXPORT_JOB_TIMEOUT = 600
    settings.EXPORT_JOB_KEEP_DAYS = 7


def running_job(programme, user, *, seconds_ago: int, **extra) -> ExportJob:
    return ExportJob.objects.create(
        programme=programme, requested_by=user, kind="results", fmt="csv", language="en",
        status=Status.RUNNING, started_at=timezone.now() - dt.timedelta(seconds=seconds_ago),
        rows_done=40, rows_total=100, **extra,
    )  # fmt: skip


def job_url(job: ExportJob, suffix: str = "") -> str:
    return f"/programmes/{job.programme.code}/exports/jobs/{job.pk}/{suffix}"


def finished_job(programme, user, *, days_ago: float, name: str) -> ExportJob:
    job = ExportJob.objects.create(
        programme=programme, requested_by=user, kind="results", fmt="csv",
        status=Status.DONE, rows_done=1, rows_total=1, filename=name,
        file=ContentFile(b"indicator\n1.1.A\n", name=name),
    )  # fmt: skip
    ExportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    return job


def stored_files(folder: str = "exports") -> set[str]:
    if not default_storage.exists(folder):
        return set()
    folders, files = default_storage.listdir(folder)
    found = {f"{folder}/{name}" for name in files}
    for inner in folders:
        found |= stored_files(f"{folder}/{inner}")
    return found


# ---- a job whose worker stopped -------------------------------------------------------------


def test_a_job_running_past_the_timeout_is_shown_failed_with_a_way_to_start_it_again(
    client, rco_viewer, ciudades
):
    job = running_job(ciudades, rco_viewer, seconds_ago=601, params={"city": "SCL"})
    client.force_login(rco_viewer)

    state = client.get(job_url(job, "status.json")).json()

    assert (state["status"], state["status_label"], state["finished"]) == ("failed", "failed", True)
    assert state["error"] == STALLED
    assert state["download_url"] is None
    page = client.get(job_url(job)).content.decode()
    assert 'data-finished="true"' in page and STALLED in page
    restart = "/programmes/CIUDADES/exports/?city=SCL#export-results"
    assert f'id="export-restart"><a href="{restart}"' in page
    chosen = client.get(restart).content.decode()
    assert '<option value="SCL" selected>' in chosen  # the export page has the filter again
    listing = client.get("/programmes/CIUDADES/exports/").content.decode()
    assert f'id="export-job-{job.pk}"' in listing and "state-failed" in listing
    job.refresh_from_db()
    assert job.status == Status.RUNNING  # reading changes nothing; the hourly task marks it


def test_a_job_running_within_the_timeout_is_still_running(client, rco_viewer, ciudades):
    job = running_job(ciudades, rco_viewer, seconds_ago=599)
    client.force_login(rco_viewer)
    state = client.get(job_url(job, "status.json")).json()
    assert (state["status"], state["finished"], state["error"]) == ("running", False, "")
    assert state["percent"] == 40
    page = client.get(job_url(job)).content.decode()
    assert 'id="export-restart"' not in page and STALLED not in page


def test_the_timeout_is_a_setting(client, rco_viewer, ciudades, settings):
    job = running_job(ciudades, rco_viewer, seconds_ago=601)
    settings.EXPORT_JOB_TIMEOUT = 3600
    client.force_login(rco_viewer)
    assert client.get(job_url(job, "status.json")).json()["status"] == "running"


def test_stalled_jobs_are_marked_failed_once_and_live_ones_left_alone(rco_viewer, ciudades):
    stalled = running_job(ciudades, rco_viewer, seconds_ago=601)
    alive = running_job(ciudades, rco_viewer, seconds_ago=60)
    queued = ExportJob.objects.create(
        programme=ciudades, requested_by=rco_viewer, kind="results", fmt="csv"
    )

    assert tasks.export_jobs_fail_stalled() == 1
    assert tasks.export_jobs_fail_stalled() == 0  # a second run finds nothing

    stalled.refresh_from_db()
    assert (stalled.status, stalled.error) == (Status.FAILED, STALLED)
    assert stalled.finished_at is not None
    assert ExportJob.objects.get(pk=alive.pk).status == Status.RUNNING
    assert ExportJob.objects.get(pk=queued.pk).status == Status.QUEUED


def test_a_slow_worker_finishing_after_its_job_was_marked_failed_offers_nothing(
    rco_viewer, ciudades, monkeypatch
):
    """The worker was only slow: it finds its job no longer running and keeps no file."""
    job = ExportJob.objects.create(
        programme=ciudades, requested_by=rco_viewer, kind="results", fmt="csv"
    )
    real_write = tasks.ExportRun.write

    def slow_write(self, stamp, out, progress):
        rows = real_write(self, stamp, out, progress)
        ExportJob.objects.filter(pk=job.pk).update(
            started_at=timezone.now() - dt.timedelta(hours=1)
        )
        assert tasks.export_jobs_fail_stalled() == 1  # the hourly task ran meanwhile
        return rows

    monkeypatch.setattr(tasks.ExportRun, "write", slow_write)
    saved = stored_files()

    tasks.export_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.error, job.file.name) == (Status.FAILED, STALLED, "")
    assert stored_files() == saved


# ---- deleting old jobs ---------------------------------------------------------------------


def test_old_jobs_and_their_files_are_deleted_and_young_ones_kept(
    rco_viewer, ciudades, django_capture_on_commit_callbacks
):
    old = finished_job(ciudades, rco_viewer, days_ago=7.1, name="old.csv")
    failed_long_ago = finished_job(ciudades, rco_viewer, days_ago=30, name="x.csv")
    ExportJob.objects.filter(pk=failed_long_ago.pk).update(status=Status.FAILED, file="")
    young = finished_job(ciudades, rco_viewer, days_ago=6.9, name="young.csv")
    old_file, young_file = old.file.name, young.file.name
    assert default_storage.exists(old_file) and default_storage.exists(young_file)

    with django_capture_on_commit_callbacks(execute=True):
        deleted = tasks.export_jobs_delete_old()

    assert deleted == 2
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [young.pk]
    assert not default_storage.exists(old_file)
    assert default_storage.exists(young_file)
    assert default_storage.open(young_file).read() == b"indicator\n1.1.A\n"


def test_how_long_jobs_are_kept_is_a_setting(
    rco_viewer, ciudades, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_JOB_KEEP_DAYS = 30
    kept = finished_job(ciudades, rco_viewer, days_ago=10, name="kept.csv")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.export_jobs_delete_old() == 0
    assert ExportJob.objects.filter(pk=kept.pk).exists()
    assert default_storage.exists(kept.file.name)


def test_a_file_already_gone_does_not_stop_the_cleanup(
    rco_viewer, ciudades, django_capture_on_commit_callbacks
):
    gone = finished_job(ciudades, rco_viewer, days_ago=8, name="gone.csv")
    other = finished_job(ciudades, rco_viewer, days_ago=9, name="other.csv")
    default_storage.delete(gone.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.export_jobs_delete_old() == 2
    assert not ExportJob.objects.exists()
    assert not default_storage.exists(other.file.name)


# ---- the periodic task ------------------------------------------------------------------------


def test_the_hourly_task_marks_stalled_jobs_and_deletes_old_ones(
    rco_viewer, ciudades, django_capture_on_commit_callbacks
):
    stalled = running_job(ciudades, rco_viewer, seconds_ago=601)
    old = finished_job(ciudades, rco_viewer, days_ago=8, name="old.csv")
    young = finished_job(ciudades, rco_viewer, days_ago=1, name="young.csv")

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.clean_export_jobs.apply()

    assert result.successful() and tuple(result.get()) == (1, 1)
    assert ExportJob.objects.get(pk=stalled.pk).status == Status.FAILED
    assert not ExportJob.objects.filter(pk=old.pk).exists()
    assert not default_storage.exists(old.file.name)
    assert default_storage.exists(young.file.name)


def test_the_task_is_scheduled_registered_and_safe_to_send_again():
    entry = django_settings.CELERY_BEAT_SCHEDULE["clean-export-jobs"]
    assert entry["task"] == "monitoring.exports.tasks.clean_export_jobs"
    assert entry["schedule"] == 3600.0
    assert entry["task"] in celery_app.tasks
    assert RETRYABLE[entry["task"]] is False  # /ops/jobs/ may send it again
