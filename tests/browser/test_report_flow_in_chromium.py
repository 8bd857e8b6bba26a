"""The quarterly workflow in a real Chromium, in Spanish and in English: the ILO coordinator
in Santiago fills 2023-Q2 (a disaggregated figure and evidence), submits; the ILO approver
returns it with a reason; the coordinator corrects and resubmits; the approver approves; the
RCO validates; the dashboard shows the new figure; the report's history shows every step.

The live server writes to the session's test database, so the fixture removes what the flow
wrote and recomputes the rollups afterwards, leaving Ciudades as the other tests expect.
Database work here runs while Playwright's event loop is alive, where Django keys its
connections by context: each block closes what it opened, or the test database could not be
dropped at the end of the session."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connections
from django.utils import timezone, translation

from indicators.engine import refresh_indicators
from indicators.models import Indicator, ProgressReport, RecomputeRequest
from indicators.selectors.reports import activities_in_scope, indicators_in_scope
from monitoring.models import AuditEvent, Programme

from .pages import signed_in_page

PERIOD = "2023-Q2"
FIGURES = {"count": "5", "percent": "60", "yes_no": "1", "level": "2", "amount": "100"}


@contextmanager
def database(django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            connections.close_all()


@pytest.fixture
def clean_slot(django_db_blocker) -> Iterator[None]:
    started = timezone.now()
    yield
    with database(django_db_blocker):
        programme = Programme.objects.get(code="CIUDADES")
        ProgressReport.objects.filter(programme=programme, period__code=PERIOD).delete()
        AuditEvent.objects.filter(programme=programme, at__gte=started).delete()
        RecomputeRequest.objects.all().delete()
        refresh_indicators(list(programme.indicators.values_list("pk", flat=True)))


def _scope(django_db_blocker):
    with database(django_db_blocker):
        programme = Programme.objects.get(code="CIUDADES")
        agency, city = programme.agencies.get(code="ILO"), programme.cities.get(code="SCL")
        indicators = indicators_in_scope(programme=programme, agency=agency, city=city)
        cells = {
            i.pk: [c.pk for d in i.dimensions.all() for c in d.categories.all()] for i in indicators
        }
        activities = [
            a.pk for a in activities_in_scope(programme=programme, agency=agency, city=city)
        ]
        return [(i.pk, i.code, i.measure) for i in indicators], cells, activities


def _fill(page, indicators, cells, activities, counted: str) -> int:
    """Every total, the first disaggregated indicator's cells, every activity's status;
    returns the pk of the indicator given ``counted`` as its total."""
    first_count = next(pk for pk, _, m in indicators if m == "count" and cells.get(pk))
    for pk, _, measure in indicators:
        figure = counted if pk == first_count else FIGURES[measure]
        if measure == "yes_no":
            page.select_option(f"[name=i{pk}_total]", figure)
        else:
            page.fill(f"[name=i{pk}_total]", figure)
    for n, cell in enumerate(cells[first_count][:2]):
        page.fill(f"[name=i{first_count}_c{cell}]", str(int(counted) - 3) if n == 0 else "3")
    for pk in activities:
        page.select_option(f"[name=a{pk}_status]", "in_progress")
    return first_count


def _as(browser, live_url, language, username):
    page, problems = signed_in_page(browser, live_url, language, username)
    page.goto(f"{live_url}/programmes/CIUDADES/reports/{PERIOD}/ILO/SCL/")
    assert page.get_attribute("html", "lang") == language
    return page, problems


def _status(language: str, status: str) -> str:
    with translation.override(language):
        return str(ProgressReport.Status(status).label)


@pytest.mark.parametrize("language", ["es", "en"])
def test_enter_return_resubmit_approve_validate(
    browser, live_url, language, clean_slot, django_db_blocker
):
    indicators, cells, activities = _scope(django_db_blocker)

    page, problems = _as(browser, live_url, language, "coord.ilo.scl")
    counted = _fill(page, indicators, cells, activities, counted="14")
    page.set_input_files(
        f"[name=i{counted}_file]",
        files=[
            {"name": "asistencia.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF"}
        ],
    )
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
    assert page.inner_text("#report-status") == _status(language, "submitted")
    assert "asistencia.pdf" in page.content()
    assert problems == [], problems
    page.context.close()

    page, problems = _as(browser, live_url, language, "approver.ilo")
    page.fill("#return-reason", "Falta la lista de asistencia de mayo / May list missing.")
    with page.expect_navigation():
        page.click("button[name=return]")
    assert page.inner_text("#report-status") == _status(language, "returned")
    page.context.close()

    page, problems = _as(browser, live_url, language, "coord.ilo.scl")
    assert "Falta la lista de asistencia de mayo" in page.inner_text(".error")
    page.fill(f"[name=i{counted}_total]", "17")
    cell = cells[counted][0]
    page.fill(f"[name=i{counted}_c{cell}]", "14")
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
    assert page.inner_text("#report-status") == _status(language, "submitted")
    page.context.close()

    page, problems = _as(browser, live_url, language, "approver.ilo")
    with page.expect_navigation():
        page.click("button[name=approve]")
    assert page.inner_text("#report-status") == _status(language, "approved")
    page.context.close()

    page, problems = _as(browser, live_url, language, "rco")
    with page.expect_navigation():
        page.click("button[name=validate]")
    assert page.inner_text("#report-status") == _status(language, "validated")
    history = page.inner_text("#audit")
    with translation.override(language):
        from indicators.selectors.history import AUDIT_LABELS

        steps = [
            str(AUDIT_LABELS[a])
            for a in ("report.submit", "report.return", "report.approve", "report.validate")
        ]
    for step in steps:
        assert step in history, (step, history)
    assert "Renata Ibáñez" in history and "Marta Quiroga" in history and "Elena Rivas" in history
    assert "Falta la lista de asistencia de mayo" in history

    code = next(c for pk, c, _ in indicators if pk == counted)
    page.goto(
        f"{live_url}/programmes/CIUDADES/indicators/{code}/?period={PERIOD}&city=SCL&agency=ILO"
    )
    assert "17" in page.inner_text("#history")  # the submitted and approved figures
    headline = page.inner_text("section.headline")
    assert "17" in headline, headline
    assert problems == [], problems
    page.context.close()
    with database(django_db_blocker):
        report = ProgressReport.objects.get(
            period__code=PERIOD, agency__code="ILO", city__code="SCL"
        )
        assert report.status == "validated"
        assert report.values.get(indicator_id=counted, category=None).value == 17
        assert Indicator.objects.get(pk=counted).code == code
