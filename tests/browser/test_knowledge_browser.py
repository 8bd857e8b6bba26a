"""From a recommendation to its actions in a real Chromium, in Spanish and in English: the ILO
coordinator in Santiago opens the knowledge pages, the Ciudades final evaluation, its first
recommendation (its text in the page's language), sees the ILO action of its management
response (overdue), marks it done with a progress note, and finds it done, no longer overdue,
on the tracking page. No error in the browser. With SCREENSHOT_DIR set, the recommendation and
tracking pages are saved as PNGs there.

The live server writes to the session's test database, so the fixture loads the knowledge
data (unless the session already has it) and the response with its action, and removes what
it added (and the audit events the flow wrote) afterwards, leaving Ciudades as the other tests
expect."""

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone

from knowledge import services
from knowledge.loading import load_ciudades_knowledge
from knowledge.models import Evaluation, Lesson, ManagementResponse, ResponseAction, Theme
from monitoring.models import Agency, AuditEvent, Programme

from .pages import signed_in_page

TEXT = {
    "es": "definir protocolos de actualización y seguimiento periódico",
    "en": "define protocols for updating it and for periodic follow-up",
}
ACTION = {"es": "Definir el protocolo de actualización", "en": "Define the update protocol"}


@contextmanager
def database(django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            connections.close_all()


@pytest.fixture
def overdue_action(django_db_blocker) -> Iterator[int]:
    """The evaluation loaded (unless load_ciudades did), recommendation 1 accepted by the RCO,
    and an ILO action that was due yesterday; what the test added is removed afterwards."""
    started = timezone.now()
    with database(django_db_blocker):
        programme = Programme.objects.get(code="CIUDADES")
        preloaded = Evaluation.objects.filter(programme=programme, code="FINAL-2023").exists()
        load_ciudades_knowledge(programme)
        rco = get_user_model().objects.get(username="rco")
        recommendation = Evaluation.objects.get(
            programme=programme, code="FINAL-2023"
        ).recommendations.get(number=1)
        response = services.response_save(
            recommendation=recommendation, decision="accepted", actor=rco
        )
        action = services.action_add(
            response=response,
            description_es=ACTION["es"],
            description_en=ACTION["en"],
            owner_agency=Agency.objects.get(code="ILO"),
            due_on=timezone.localdate() - dt.timedelta(days=1),
            actor=rco,
        )
        action_id = action.pk
    yield action_id
    with database(django_db_blocker):
        ManagementResponse.objects.filter(pk=response.pk).delete()  # and its actions
        AuditEvent.objects.filter(at__gte=started, action__startswith="knowledge.").delete()
        if not preloaded:
            Evaluation.objects.filter(programme__code="CIUDADES").delete()
            Lesson.objects.filter(programme__code="CIUDADES").delete()
            Theme.objects.filter(lessons__isnull=True).delete()


def shoot(page, name: str) -> None:
    """With SCREENSHOT_DIR set, the page is saved as a PNG there (to look at it)."""
    if shots := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=Path(shots) / f"{name}.png", full_page=True)


@pytest.mark.parametrize("language", ["es", "en"])
def test_mark_an_action_done_from_its_recommendation(
    browser, live_url, language, overdue_action, django_db_blocker
):
    page, problems = signed_in_page(browser, live_url, language, username="coord.ilo.scl")
    try:
        page.goto(f"{live_url}/programmes/CIUDADES/knowledge/")
        assert page.get_attribute("html", "lang") == language
        with page.expect_navigation():
            page.click("#evaluation-FINAL-2023 a")
        assert page.url.endswith("/knowledge/evaluations/FINAL-2023/")
        assert page.locator("#recommendations tbody tr").count() == 9
        with page.expect_navigation():
            page.click("#recommendation-1 th a")
        assert page.url.endswith("/recommendations/1/")
        assert TEXT[language] in page.inner_text("#recommendation-text")
        row = f"#action-{overdue_action}"
        assert ACTION[language] in page.inner_text(row)
        assert page.get_attribute(row, "class") == "overdue"
        assert page.get_attribute(f"{row} [data-status]", "data-status") == "planned"

        shoot(page, f"{language}-recommendation")
        page.select_option(f"{row} select[name=status]", "done")
        page.fill(f"{row} textarea[name=progress_note]", "Protocolo aprobado / Protocol approved")
        with page.expect_navigation():
            page.click(f"{row} form.status-form button[type=submit]")
        assert page.get_attribute(f"{row} [data-status]", "data-status") == "done"
        assert page.get_attribute(row, "class") is None
        assert "Protocolo aprobado / Protocol approved" in page.inner_text(f"{row} .progress-note")

        with page.expect_navigation():
            page.click('nav.tabs a[href="/programmes/CIUDADES/knowledge/tracking/"]')
        assert page.get_attribute(f"{row} [data-status]", "data-status") == "done"
        assert page.get_attribute(row, "class") is None
        assert page.inner_text("#count-done .tile-figure") == "1"
        assert page.inner_text("#count-overdue .tile-figure") == "0"
        shoot(page, f"{language}-tracking")
        assert problems == [], problems
    finally:
        page.context.close()
    with database(django_db_blocker):
        action = ResponseAction.objects.select_related("updated_by").get(pk=overdue_action)
        assert (action.status, action.completed_on, action.updated_by.username) == (
            "done",
            timezone.localdate(),
            "coord.ilo.scl",
        )
