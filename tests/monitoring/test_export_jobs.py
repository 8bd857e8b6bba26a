"""Large exports as background jobs: started from the export page when an export is over
``EXPORT_SYNC_MAX_ROWS`` (0 here, so every export is large), run by the Celery task (eager in
tests, once the request's transaction commits), followed on the job page through
status.json, and downloaded when ready. Only the requester and the programme's admins see a
job; a failing build leaves a failed job with a message and no file."""

import csv
import io

import pytest
from django.core.files.storage import default_storage
from django.utils.html import escape
from openpyxl import load_workbook

from indicators.selectors.results import RESULT_COLUMNS, ResultQuery, result_rows
from monitoring.exports import registry, tasks
from monitoring.exports.results import write_csv
from monitoring.exports.stamp import export_stamp
from monitoring.models import ExportJob

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.monitoring.test_export_page")]

PAGE = "/programmes/CIUDADES/exports/"
Status = ExportJob.Status


@pytest.fixture
def large(settings):
    settings.EXPORT_SYNC_MAX_ROWS = 0


@pytest.fixture
def start(client, django_capture_on_commit_callbacks, large):
    """Sign in, ask for an export on the page; returns the response (the task has run)."""

    def go(user, kind: str, **data):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(PAGE, {"kind": kind, **data})

    return go


def job_url(job: ExportJob, suffix: str = "") -> str:
    return f"/programmes/CIUDADES/exports/jobs/{job.pk}/{suffix}"


def expected_csv(query: ResultQuery) -> list[list[str]]:
    """The table as the results exporter writes it, straight from ``result_rows``."""
    out = io.StringIO()
    write_csv(query, export_stamp(query.programme), out)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_a_large_results_export_becomes_a_job_that_finishes(client, start, rco_viewer, ciudades):
    response = start(rco_viewer, "results", format="csv")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert (job.requested_by, job.kind, job.fmt, job.status) == (
        rco_viewer,
        "results",
        "csv",
        "done",
    )
    total = len(list(result_rows(ResultQuery(ciudades))))
    assert (job.rows_done, job.rows_total, job.percent) == (total, total, 100)
    as_of = export_stamp(ciudades).as_of_date.isoformat()
    assert job.filename == f"CIUDADES-results-{as_of}.csv"

    state = client.get(job_url(job, "status.json")).json()
    assert state["status"] == "done" and state["percent"] == 100 and state["finished"]
    assert state["download_url"] == job_url(job, "download/")
    assert state["rows_text"] == f"{total:,} of {total:,} rows written"

    download = client.get(state["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{job.filename}"' in download["Content-Disposition"]
    assert download["X-Restatements"] == str(export_stamp(ciudades).restatements)
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == list(RESULT_COLUMNS)
    assert rows == expected_csv(ResultQuery(ciudades))
    assert len(rows) == total + 1


def test_the_job_page_follows_the_job_and_offers_the_file(client, start, rco_viewer, ciudades):
    start(rco_viewer, "results", format="xlsx", city="SCL", period="LOP")
    job = ExportJob.objects.get()
    assert job.params == {
        "city": "SCL",
        "period": "LOP",
        tasks.STAMP_KEY: job.params[tasks.STAMP_KEY],
    }
    html = client.get(job_url(job)).content.decode()
    assert f'data-status-url="{job_url(job, "status.json")}"' in html
    assert 'data-finished="true"' in html
    assert 'max="100" value="100"' in html
    assert f'href="{job_url(job, "download/")}"' in html
    assert "City: Santiago (Chile)" in html and "Period: Life of the programme (LOP)" in html
    assert export_stamp(ciudades).sentence().split(",")[0] in html
    assert '<script src="/static/js/export-job.js">' in html and "<script>" not in html
    book = load_workbook(io.BytesIO(b"".join(client.get(job_url(job, "download/")))))
    results = list(book["results"].iter_rows(values_only=True))
    expected = list(result_rows(ResultQuery(ciudades, city="SCL", period="LOP")))
    assert len(results) == len(expected) + 1
    assert {r[RESULT_COLUMNS.index("city")] for r in results[1:]} == {"SCL"}
    # The export page lists it among the requester's recent jobs.
    listing = client.get(PAGE).content.decode()
    assert f'id="export-job-{job.pk}"' in listing and job.filename in listing


def test_a_queued_job_reports_its_state_and_offers_nothing_yet(
    client, rco_viewer, large, monkeypatch
):
    monkeypatch.setattr(tasks.run_export_job, "delay", lambda job_id: None)  # no worker yet
    client.force_login(rco_viewer)
    client.post(PAGE, {"kind": "budget", "format": "xlsx"})
    job = ExportJob.objects.get()
    state = client.get(job_url(job, "status.json")).json()
    assert (state["status"], state["finished"], state["download_url"]) == ("queued", False, None)
    assert state["percent"] == 0 and state["rows_total"] == job.rows_total
    assert client.get(job_url(job, "download/")).status_code == 404
    html = client.get(job_url(job)).content.decode()
    assert 'data-finished="false"' in html and "data-job-ready hidden" in html
    # The worker gets to it later.
    tasks.export_job_run(job_id=job.pk)
    assert client.get(job_url(job, "status.json")).json()["status"] == "done"


@pytest.mark.parametrize("persona", ["donor", "ilo_coordinator_scl", "outsider"])
def test_nobody_else_sees_a_job(client, start, rco_viewer, request, persona):
    start(rco_viewer, "budget", format="csv")
    job = ExportJob.objects.get()
    client.force_login(request.getfixturevalue(persona))
    for suffix in ("", "status.json", "download/"):
        assert client.get(job_url(job, suffix)).status_code == 404
    assert f"export-job-{job.pk}" not in client.get(PAGE).content.decode()


def test_the_programme_admin_sees_every_job(client, start, rco_viewer, programme_admin):
    start(rco_viewer, "budget", format="csv")
    job = ExportJob.objects.get()
    client.force_login(programme_admin)
    assert client.get(job_url(job)).status_code == 200
    assert client.get(job_url(job, "download/")).status_code == 200


def test_a_job_of_another_programme_path_is_404(client, start, rco_viewer):
    start(rco_viewer, "budget", format="csv")
    job = ExportJob.objects.get()
    assert client.get(f"/programmes/NOPE/exports/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/programmes/CIUDADES/exports/jobs/{job.pk + 1000}/").status_code == 404


def test_a_failing_build_marks_the_job_failed_and_offers_no_file(
    client, start, rco_viewer, monkeypatch
):
    def broken(run, stamp, out, progress):
        out.write(b"programme,outcome\nCIUDADES,R1\n")  # half a file, then it breaks
        raise RuntimeError("disk on fire")

    builder = registry.BUILDERS["results"]
    monkeypatch.setitem(
        registry.BUILDERS, "results", registry.Builder(builder.size, builder.chunks, broken)
    )
    before = _stored_exports()
    response = start(rco_viewer, "results", format="csv")
    job = ExportJob.objects.get()
    assert response["Location"] == job_url(job)
    assert (job.status, job.file.name, job.filename) == ("failed", "", "")
    assert job.error.startswith("The export could not be built because of an unexpected error.")
    assert "disk on fire" not in job.error
    state = client.get(job_url(job, "status.json")).json()
    assert (state["status"], state["download_url"], state["error"]) == ("failed", None, job.error)
    assert client.get(job_url(job, "download/")).status_code == 404
    html = client.get(job_url(job)).content.decode()
    assert escape(job.error) in html
    assert 'id="export-download"' in html and "data-job-ready hidden" in html
    assert _stored_exports() == before


def test_a_code_gone_by_the_time_the_job_runs_fails_with_its_name(rco_viewer, ciudades, large):
    job = ExportJob.objects.create(
        programme=ciudades, requested_by=rco_viewer, kind="results", fmt="csv",
        params={"city": "LIMA"}, language="en",
    )  # fmt: skip
    tasks.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "There is no city “LIMA” in this programme.")
    assert not job.file


def test_the_task_runs_a_job_once(rco_viewer, ciudades):
    job = ExportJob.objects.create(
        programme=ciudades, requested_by=rco_viewer, kind="budget", fmt="csv", language="en"
    )
    tasks.run_export_job.apply(args=[job.pk])
    job.refresh_from_db()
    first = (job.status, job.file.name, job.finished_at)
    assert first[0] == "done"
    assert tasks.export_job_run(job_id=job.pk) is None  # a second delivery finds it taken
    job.refresh_from_db()
    assert (job.status, job.file.name, job.finished_at) == first


def test_progress_is_recorded_as_rows_are_written(rco_viewer, ciudades, monkeypatch):
    seen: list[tuple[int, str]] = []
    builder = registry.BUILDERS["results"]

    def counting(run, stamp, out, progress):
        def spy(rows: int) -> None:
            progress(rows)
            job = ExportJob.objects.get(pk=job_id)
            seen.append((job.rows_done, job.status))

        return builder.write_to(run, stamp, out, spy)

    monkeypatch.setitem(
        registry.BUILDERS, "results", registry.Builder(builder.size, builder.chunks, counting)
    )
    job = ExportJob.objects.create(
        programme=ciudades, requested_by=rco_viewer, kind="results", fmt="csv", language="en"
    )
    job_id = job.pk
    tasks.export_job_run(job_id=job_id)
    total = len(list(result_rows(ResultQuery(ciudades))))
    assert seen and seen[-1] == (total, "running")
    job.refresh_from_db()
    assert (job.rows_done, job.rows_total, job.status) == (total, total, "done")


def test_a_job_that_cannot_be_enqueued_fails_at_once(
    client, rco_viewer, large, monkeypatch, django_capture_on_commit_callbacks
):
    def down(job_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.run_export_job, "delay", down)
    client.force_login(rco_viewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PAGE, {"kind": "iati", "format": "xml"})
    job = ExportJob.objects.get()
    assert job.status == "failed"
    assert job.error == "The export could not be started. Try again in a few minutes."


def test_a_spanish_job_is_built_and_reported_in_spanish(client, start, rco_viewer, ciudades):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    start(rco_viewer, "budget", format="xlsx")
    job = ExportJob.objects.get()
    assert job.language == "es"
    book = load_workbook(io.BytesIO(b"".join(client.get(job_url(job, "download/")))))
    about = next(book.worksheets[0].iter_rows(values_only=True))
    assert about[0].endswith("CIUDADES")
    assert client.get(job_url(job)).content.decode().startswith("<!DOCTYPE html>")
    assert '<html lang="es">' in client.get(job_url(job)).content.decode()


def test_bad_filters_create_no_job(client, start, rco_viewer):
    response = start(rco_viewer, "results", format="csv", agency="WFP")
    assert response.status_code == 400
    assert not ExportJob.objects.exists()


def _stored_exports() -> set[str]:
    names: set[str] = set()
    if not default_storage.exists("exports"):
        return names
    stack = ["exports"]
    while stack:
        folder = stack.pop()
        dirs, files = default_storage.listdir(folder)
        names |= {f"{folder}/{f}" for f in files}
        stack += [f"{folder}/{d}" for d in dirs]
    return names
