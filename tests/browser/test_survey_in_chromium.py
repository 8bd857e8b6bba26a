"""A survey answered on its public page in Chromium, in Spanish: the follow-up question
appears when the satisfaction answer is low and goes away when it is changed (skip logic),
the answer is stored, the results page shows it, and the indicator it feeds (1.2.D, "%
satisfied") shows the new figure for Santiago in 2023-Q2.

The live server commits to the session's test database, so the fixture removes the survey,
what its feed computed, and recomputes the rollups afterwards."""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from indicators.engine import refresh_indicators
from indicators.models import Indicator, IndicatorValue, ProgressReport, RecomputeRequest
from monitoring.models import AuditEvent, Programme
from surveys.models import IndicatorFeed, Question, Scale, ScaleLevel, Survey
from surveys.services import survey_open

from .pages import signed_in_page

CODE = "SATBROWSER"
LEVELS = [
    "Muy insatisfecho/a",
    "Insatisfecho/a",
    "Ni uno ni otro",
    "Satisfecho/a",
    "Muy satisfecho/a",
]


@contextmanager
def database(django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            connections.close_all()


def _survey() -> Survey:
    programme = Programme.objects.get(code="CIUDADES")
    scale = Scale.objects.create(
        code="browser-sat5", name_es="Satisfacción", name_en="Satisfaction"
    )
    for value, label in enumerate(LEVELS, start=1):
        ScaleLevel.objects.create(
            scale=scale, value=value, label_es=label, label_en=label, top_box=value >= 4
        )
    survey = Survey.objects.create(
        programme=programme, code=CODE, title_es="Satisfacción con los servicios",
        title_en="Satisfaction with services", access=Survey.Access.OPEN,
        period=programme.periods.get(code="2023-Q2"), attributes=["city"],
    )  # fmt: skip
    satisfied = Question.objects.create(
        survey=survey, code="sat", order=1, type="scale", scale=scale,
        text_es="¿Qué tan satisfecho/a está con el servicio?",
        text_en="How satisfied are you with the service?",
    )  # fmt: skip
    Question.objects.create(
        survey=survey, code="why", order=2, type="text", required=True, show_if=satisfied,
        show_if_values=[1, 2], text_es="¿Qué faltó?", text_en="What was missing?",
    )  # fmt: skip
    IndicatorFeed.objects.create(
        indicator=Indicator.objects.get(programme=programme, code="1.2.D"), question=satisfied
    )
    return survey_open(survey=survey)


@pytest.fixture
def survey_key(django_db_blocker) -> Iterator[str]:
    started = timezone.now()
    with database(django_db_blocker):
        key = _survey().public_key
    yield key
    with database(django_db_blocker):
        programme = Programme.objects.get(code="CIUDADES")
        values = IndicatorValue.objects.filter(provenance="survey", report__programme=programme)
        reports = set(values.values_list("report_id", flat=True))
        Survey.objects.filter(code=CODE).delete()  # responses, feeds, their provenance
        values.delete()
        ProgressReport.objects.filter(pk__in=reports, values__isnull=True).delete()
        Scale.objects.filter(code="browser-sat5").delete()
        AuditEvent.objects.filter(programme=programme, at__gte=started).delete()
        RecomputeRequest.objects.all().delete()
        refresh_indicators(list(programme.indicators.values_list("pk", flat=True)))


def test_answer_in_spanish_with_skip_logic_then_results_and_indicator(
    browser, live_url, survey_key, django_db_blocker
):
    context = browser.new_context(locale="es-CL")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_url}/s/{survey_key}/?lang=es")
    page.wait_for_selector("form[data-ready=true]")
    assert page.get_attribute("html", "lang") == "es"
    why = page.locator("[data-question=q_why]")
    assert not why.is_visible()
    page.get_by_label("Santiago de Chile").check()
    page.get_by_label("Insatisfecho/a", exact=True).check()
    assert why.is_visible()  # a low answer asks what was missing
    page.get_by_label("Muy satisfecho/a").check()
    assert not why.is_visible()  # changed: the follow-up goes away
    with page.expect_navigation():
        page.get_by_role("button", name="Enviar mis respuestas").click()
    assert "/thanks/" in page.url
    assert problems == [], problems
    context.close()

    with database(django_db_blocker):
        survey = Survey.objects.get(code=CODE)
        response = survey.responses.get()
        assert (response.city.code, response.language) == ("SCL", "es")
        assert list(response.answers.values_list("question__code", "number")) == [
            ("sat", Decimal(5))
        ]

    page, problems = signed_in_page(browser, live_url, "es", "admin")
    page.goto(f"{live_url}/programmes/CIUDADES/surveys/{CODE}/1/")
    results = page.locator("main").inner_text()
    assert "100" in results and "Muy satisfecho/a" in results
    page.goto(f"{live_url}/programmes/CIUDADES/indicators/1.2.D/?period=2023-Q2&city=SCL")
    headline = page.locator("section.headline").inner_text()
    assert "100" in headline, headline
    assert problems == [], problems
    page.context.close()
