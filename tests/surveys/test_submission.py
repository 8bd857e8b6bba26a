"""Storing a response (surveys/submission.py): each answer type validated with a refusal that
names its question, skip logic decided on the server, an invitation spent once (even by two
submits at the same moment), open links limited per address, and nothing stored on any
refusal. Messages are asserted in English (the shared autouse fixture)."""

import sys
import threading
import types
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from surveys import submission
from surveys.forms import questionnaire_load
from surveys.models import Answer, Invitation, Response, Survey
from tests.surveys.survey_fixtures import SurveyKit, answers, build_survey


@pytest.fixture
def kit(ciudades) -> SurveyKit:
    return build_survey(ciudades)


@pytest.fixture
def token_kit(ciudades) -> SurveyKit:
    return build_survey(ciudades, access=Survey.Access.TOKEN, code="MRRC-INV")


def submit(kit: SurveyKit, data: dict, **kwargs) -> Response:
    kwargs.setdefault("client", f"test-{kit.survey.pk}")
    questionnaire = questionnaire_load(Survey.objects.get(pk=kit.survey.pk))
    return submission.response_submit(
        questionnaire=questionnaire, data=data, language="en", **kwargs
    )


def refusals(kit: SurveyKit, data: dict) -> dict[str, list[str]]:
    """The refusals of ``data``, by field; asserts that nothing was stored."""
    before = Response.objects.count(), Answer.objects.count()
    with pytest.raises(submission.AnswersInvalid) as refused:
        submit(kit, data)
    assert (Response.objects.count(), Answer.objects.count()) == before
    return {name: list(errors) for name, errors in refused.value.form.errors.items()}


def stored(response: Response) -> dict[str, object]:
    out: dict[str, object] = {}
    for a in response.answers.select_related("question"):
        out[a.question.code] = a.number if a.number is not None else a.choices or a.text
    return out


def test_it_stores_a_complete_response_with_every_type_and_the_attributes(kit):
    response = submit(kit, answers(q_age="34,5", q_needs=["docs", "housing"]))
    assert stored(response) == {
        "sat": Decimal(5),
        "service": ["jobs"],
        "needs": ["housing", "docs"],  # in the order offered
        "age": Decimal("34.5"),  # a decimal comma
        "referred": Decimal(0),
        "comments": "Muy buena atención",
    }
    assert (response.source, response.language, response.invitation) == ("web", "en", None)
    assert (response.city.code, response.sex, response.age_group) == ("SCL", "female", "adult")


def test_it_accepts_a_response_without_its_optional_answers(kit):
    response = submit(kit, answers(q_needs=None, q_comments=""))
    assert "needs" not in stored(response)
    assert "comments" not in stored(response)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("q_sat", "6", "“How satisfied are you with the service you received?”: "
                       "choose one of the levels shown."),
        ("q_sat", "very", "“How satisfied are you with the service you received?”: "
                          "choose one of the levels shown."),
        ("q_service", "housing", "“Which service were you looking for?”: "
                                 "choose one of the options shown."),
        ("q_needs", ["housing", "spaceship"], "“What other needs do you have?”: "
                                              "choose only among the options offered."),
        ("q_age", "thirty", "“How old are you?”: write a number (for example 12 or 12.5)."),
        ("q_age", "3,4,5", "“How old are you?”: write a number (for example 12 or 12.5)."),
        ("q_age", "121", "“How old are you?”: the highest answer is 120."),
        ("q_age", "-1", "“How old are you?”: the lowest answer is 0."),
        ("q_age", "12.12345", "“How old are you?”: use at most 4 decimals."),
        ("q_referred", "2", "“Were you referred to another service?”: answer yes or no."),
        ("q_referred", "yes", "“Were you referred to another service?”: answer yes or no."),
        ("q_comments", "x" * 5001, "“Comments”: at most 5000 characters "
                                   "(this answer has 5001)."),
    ],
)  # fmt: skip
def test_it_refuses_an_answer_of_the_wrong_kind_naming_its_question(kit, name, value, message):
    assert refusals(kit, answers(**{name: value})) == {name: [message]}


@pytest.mark.parametrize("value", ["0", "120", "0,5", "119.25"])
def test_it_accepts_numbers_at_and_within_the_bounds(kit, value):
    assert "age" in stored(submit(kit, answers(q_age=value)))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("q_sat", "“How satisfied are you with the service you received?”: "
                  "this question needs an answer."),
        ("q_service", "“Which service were you looking for?”: this question needs an answer."),
        ("q_age", "“How old are you?”: this question needs an answer."),
        ("q_referred", "“Were you referred to another service?”: this question needs an answer."),
    ],
)  # fmt: skip
def test_it_refuses_a_missing_required_answer_naming_its_question(kit, name, message):
    assert refusals(kit, answers(**{name: None})) == {name: [message]}


def test_it_counts_an_answer_of_blanks_as_missing(kit):
    assert list(refusals(kit, answers(q_age="   "))) == ["q_age"]


def test_it_refuses_attributes_outside_their_options(kit):
    errors = refusals(kit, answers(city="LIM", age_group="teen", sex=None))
    assert errors == {
        "city": ["“City”: choose one of the options shown."],
        "age_group": ["“Age”: choose one of the options shown."],
        "sex": ["“Sex”: this question needs an answer."],
    }


def test_it_lists_every_refusal_at_once(kit):
    errors = refusals(kit, answers(q_sat="9", q_age="x", q_referred=None))
    assert set(errors) == {"q_sat", "q_age", "q_referred"}


# Skip logic, decided on the server


def test_a_hidden_question_is_not_required_and_what_was_posted_for_it_is_discarded(kit):
    # "referred" is no: "where" and "useful" (the chain after it) are hidden, whatever was sent.
    response = submit(kit, answers(q_referred="0", q_where="ngo", q_useful="not-a-level"))
    assert not {"where", "useful"} & set(stored(response))


def test_a_shown_question_is_required(kit):
    errors = refusals(kit, answers(q_referred="1"))
    assert errors == {"q_where": ["“Where were you referred to?”: this question needs an answer."]}


def test_the_chain_ends_where_an_answer_does_not_lead_on(kit):
    response = submit(kit, answers(q_referred="1", q_where="ngo", q_useful="2"))
    assert stored(response)["where"] == ["ngo"]
    assert "useful" not in stored(response)


def test_the_whole_chain_is_asked_when_each_answer_leads_on(kit):
    errors = refusals(kit, answers(q_referred="1", q_where="municipal"))
    assert errors == {
        "q_useful": ["“How useful was the municipal referral?”: this question needs an answer."]
    }
    response = submit(kit, answers(q_referred="1", q_where="municipal", q_useful="4"))
    assert stored(response)["useful"] == Decimal(4)


def test_a_low_scale_level_asks_why(kit):
    assert refusals(kit, answers(q_sat="2")) == {
        "q_why": ["“What could we improve?”: this question needs an answer."]
    }
    assert stored(submit(kit, answers(q_sat="1", q_why="Más horarios")))["why"] == "Más horarios"
    assert "why" not in stored(submit(kit, answers(q_sat="4", q_why="Nada")))


def test_a_question_after_a_wrong_answer_is_hidden_until_that_answer_is_right(kit):
    # A wrong "referred" is refused; what depends on it is not judged on top of that.
    assert refusals(kit, answers(q_referred="maybe", q_where="spaceship")) == {
        "q_referred": ["“Were you referred to another service?”: answer yes or no."]
    }


# Invitations


def test_an_invitation_stores_one_response_and_is_spent(token_kit):
    invitation, _token = token_kit.invite()
    response = submit(token_kit, answers(), invitation=invitation)
    invitation.refresh_from_db()
    assert response.invitation == invitation
    assert invitation.used_at is not None


def test_a_spent_invitation_is_refused_and_nothing_more_is_stored(token_kit):
    invitation, _token = token_kit.invite()
    submit(token_kit, answers(), invitation=invitation)
    fresh = Invitation.objects.get(pk=invitation.pk)
    with pytest.raises(submission.InvitationUsed):
        submit(token_kit, answers(q_sat="1", q_why="otra vez"), invitation=fresh)
    assert Response.objects.filter(survey=token_kit.survey).count() == 1


def test_an_invitation_read_before_it_was_spent_is_still_refused(token_kit):
    """The same link submitted twice in a row: the second request read the invitation while
    it was still unused; the conditional update in the transaction refuses it."""
    invitation, _token = token_kit.invite()
    stale = Invitation.objects.get(pk=invitation.pk)
    submit(token_kit, answers(), invitation=invitation)
    with pytest.raises(submission.InvitationUsed):
        submit(token_kit, answers(), invitation=stale)
    assert Response.objects.filter(survey=token_kit.survey).count() == 1
    assert Answer.objects.filter(response__survey=token_kit.survey).count() == 6


def test_an_invitation_to_another_survey_is_refused(ciudades, kit, token_kit):
    invitation, _token = token_kit.invite()
    with pytest.raises(submission.InvitationUsed):
        submit(kit, answers(), invitation=invitation)
    assert not Response.objects.filter(survey__in=[kit.survey, token_kit.survey]).exists()


def test_an_invitation_only_survey_refuses_a_response_without_one(token_kit):
    with pytest.raises(submission.InvitationRequired):
        submit(token_kit, answers())
    assert not Response.objects.filter(survey=token_kit.survey).exists()


@pytest.mark.parametrize("status", [Survey.Status.DRAFT, Survey.Status.CLOSED])
def test_a_survey_not_open_refuses_responses(ciudades, status):
    kit = build_survey(ciudades, status=status)
    with pytest.raises(submission.SurveyNotOpen):
        submit(kit, answers())
    assert not Response.objects.filter(survey=kit.survey).exists()


# Open links


def test_an_open_link_accepts_many_responses(kit):
    submit(kit, answers())
    submit(kit, answers(q_sat="4", sex="male"))
    assert Response.objects.filter(survey=kit.survey).count() == 2


def test_an_open_link_refuses_a_filled_in_honeypot(kit):
    with pytest.raises(submission.AnswersInvalid) as refused:
        submit(kit, answers(website="http://spam.example"))
    assert refused.value.form.non_field_errors() == ["Your answers could not be accepted."]
    assert not Response.objects.filter(survey=kit.survey).exists()


def test_an_open_link_limits_responses_per_address_and_hour(kit, settings):
    settings.SURVEY_RESPONSES_PER_HOUR_PER_ADDRESS = 2
    submit(kit, answers(), client="203.0.113.7")
    submit(kit, answers(), client="203.0.113.7")
    with pytest.raises(submission.TooManyResponses):
        submit(kit, answers(), client="203.0.113.7")
    submit(kit, answers(), client="198.51.100.1")  # someone else
    assert Response.objects.filter(survey=kit.survey).count() == 3


# Indicators fed by the survey


def test_the_survey_feeds_are_told_after_commit(
    kit, monkeypatch, django_capture_on_commit_callbacks
):
    told: list[Survey] = []
    feeds = types.ModuleType("surveys.feeds")
    feeds.responses_changed = told.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "surveys.feeds", feeds)
    with django_capture_on_commit_callbacks(execute=True):
        submit(kit, answers())
        assert told == []  # not before the answers are committed
    assert told == [kit.survey]


def test_a_response_is_stored_without_a_feeds_module(
    kit, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(sys.modules, "surveys.feeds", None)  # as if it did not exist
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(kit, answers())
    assert Response.objects.filter(pk=response.pk).exists()


def test_nothing_is_told_when_nothing_was_stored(
    kit, monkeypatch, django_capture_on_commit_callbacks
):
    told: list[Survey] = []
    feeds = types.ModuleType("surveys.feeds")
    feeds.responses_changed = told.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "surveys.feeds", feeds)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(submission.AnswersInvalid):
        submit(kit, answers(q_sat=None))
    assert told == []


# Two submits of the same invitation at the same moment (committed data, real connections)


def test_two_simultaneous_submits_of_one_invitation_store_one_response(
    django_db_setup, django_db_blocker, monkeypatch
):
    with django_db_blocker.unblock():
        from monitoring.models import Programme

        kit = build_survey(Programme.objects.get(code="CIUDADES"), access="token", code="RACE")
        try:
            outcomes = _race(kit, monkeypatch)
            assert sorted(outcomes) == ["InvitationUsed", "stored"]
            assert Response.objects.filter(survey=kit.survey).count() == 1
        finally:
            Response.objects.filter(survey=kit.survey).delete()
            kit.survey.delete()
            kit.questions["sat"].scale.delete()


def _race(kit: SurveyKit, monkeypatch) -> list[str]:
    """Two threads submit the same link; the first holds its transaction open for a moment
    after spending the invitation, so the second reaches the spending while it is locked."""
    invitation, _token = kit.invite()
    store, outcomes = submission._store, []

    def slow_store(*args, **kwargs):
        response = store(*args, **kwargs)
        threading.Event().wait(0.5)
        return response

    monkeypatch.setattr(submission, "_store", slow_store)

    def one(delay: float) -> None:
        threading.Event().wait(delay)
        try:
            submit(kit, answers(), invitation=Invitation.objects.get(pk=invitation.pk))
            outcomes.append("stored")
        except submission.SubmissionRefused as refused:
            outcomes.append(type(refused).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(d,)) for d in (0, 0.2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_a_response_remembers_when_it_was_submitted(kit):
    before = timezone.now()
    assert submit(kit, answers()).submitted_at >= before


def test_the_real_feeds_run_after_a_stored_response_without_error(
    kit, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(kit, answers())
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
