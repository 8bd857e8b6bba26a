"""The rules of the records hold in the database itself (each with a message that names the
rule) and in ``full_clean`` on the field they concern."""

import pytest

from knowledge.models import Evaluation, Lesson, ManagementResponse, Recommendation, ResponseAction
from tests.helpers import assert_db_refuses, assert_refused

from .conftest import DUE, agency

pytestmark = pytest.mark.django_db


def test_an_action_without_a_due_date_is_refused_unless_cancelled(response):
    action = ResponseAction(response=response, description_en="x", owner_agency=agency("ILO"))
    assert_refused(action, field="due_on", message="An action needs a due date")
    assert_db_refuses(action)
    action.status = "cancelled"
    action.full_clean()
    action.save()


def test_a_done_action_needs_its_completion_date(response):
    action = ResponseAction(response=response, description_en="x", due_on=DUE, status="done")
    assert_refused(action, field=None, message="A done action needs the date it was completed.")
    assert_db_refuses(action)


def test_a_rejection_needs_a_comment(recommendation):
    from django.utils import timezone

    rejected = ManagementResponse(
        recommendation=recommendation, decision="rejected", responded_at=timezone.now()
    )
    assert_refused(rejected, field=None, message="A rejected recommendation needs a comment")
    assert_db_refuses(rejected)


def test_recommendation_numbers_are_unique_per_evaluation(evaluation):
    twin = Recommendation(evaluation=evaluation, number=1, text_en="x", priority="low")
    assert_refused(twin, field=None, message="already has a recommendation with this number")
    assert_db_refuses(twin)


def test_a_budget_needs_its_currency(ciudades):
    evaluation = Evaluation(
        programme=ciudades,
        code="MID",
        timing="mid_term",
        nature="internal",
        title_es="x",
        title_en="x",
        budget_amount=10,
    )
    assert_refused(evaluation, field=None, message="A budget needs its currency")
    assert_db_refuses(evaluation)


def test_a_lesson_needs_a_title_and_a_description(ciudades):
    lesson = Lesson(programme=ciudades, kind="lesson", code="LLX", description_en="x")
    assert_refused(lesson, field=None, message="Give a title in Spanish or English.")
    assert_db_refuses(lesson)
