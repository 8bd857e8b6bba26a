"""The export page in a real Chromium, in Spanish and in English: the RCO signs in, opens the
export page, asks for the results table as CSV with every export forced into the background
(``EXPORT_SYNC_MAX_ROWS`` = 0), lands on the job's page while the job waits for a worker, the
page's script polls status.json until the worker has written the file, the bar reaches 100 %,
and the file downloads with every row of the results table. No error in the browser (a
Content-Security-Policy violation would be one).

The live server writes to the session's test database, so the fixture removes the jobs and
their files afterwards; the worker is the test itself (``export_job_run``), run while the
page is polling."""

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connections
from django.utils import translation

from indicators.selectors.results import RESULT_COLUMNS, ResultQuery, result_count
from monitoring.exports import tasks
from monitoring.models import ExportJob, Programme

from .pages import signed_in_page

pytestmark = pytest.mark.urls("tests.monitoring.test_export_page")


@contextmanager
def database(django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            connections.close_all()


@pytest.fixture
def waiting_jobs(settings, monkeypatch, django_db_blocker) -> Iterator[list[int]]:
    """Every export is large, and jobs wait (as for a worker) until the test runs them."""
    settings.EXPORT_SYNC_MAX_ROWS = 0
    queued: list[int] = []
    monkeypatch.setattr(tasks.run_export_job, "delay", queued.append)
    yield queued
    with database(django_db_blocker):
        for job in ExportJob.objects.all():
            if job.file:
                job.file.delete(save=False)
        ExportJob.objects.all().delete()


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_background_export_shows_its_progress_and_downloads(
    browser, live_url, language, waiting_jobs, django_db_blocker
):
    page, problems = signed_in_page(browser, live_url, language, username="rco")
    try:
        page.goto(f"{live_url}/programmes/CIUDADES/exports/")
        assert page.get_attribute("html", "lang") == language
        form = page.locator("#export-results form")
        form.locator("input[name=format][value=csv]").check()
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert "/programmes/CIUDADES/exports/jobs/" in page.url
        assert len(waiting_jobs) == 1
        with translation.override(language):
            queued = str(ExportJob.Status.QUEUED.label)
            ready = str(ExportJob.Status.DONE.label)
        assert page.inner_text("[data-job-status]") == queued
        assert page.locator("[data-job-ready]").is_hidden()

        with database(django_db_blocker):  # the worker picks the job up
            job = tasks.export_job_run(job_id=waiting_jobs[0])
            assert job is not None and job.status == "done"
            total = result_count(ResultQuery(Programme.objects.get(code="CIUDADES")))

        page.wait_for_selector("[data-job-ready]:not([hidden])", timeout=15_000)
        assert page.inner_text("[data-job-status]") == ready
        assert page.eval_on_selector("#export-progress", "bar => bar.value") == 100
        assert page.inner_text("[data-job-filename]") == job.filename
        with page.expect_download() as download_info:
            page.click("#export-download")
        download = download_info.value
        assert download.suggested_filename == job.filename
        with open(download.path(), encoding="utf-8") as handle:
            rows = list(csv.reader(io.StringIO(handle.read())))
        assert rows[0] == list(RESULT_COLUMNS)
        assert len(rows) == total + 1
        assert problems == [], problems
    finally:
        page.context.close()
