"""Storing a response from the public page. The answers are validated as a whole first
(``ResponseForm``: types, bounds, skip logic); then the response, its answers and the spending
of its invitation are written in one transaction, so a refusal stores nothing. An invitation
is spent once, even when the same link is submitted twice at the same moment. After commit,
the indicators the survey feeds are recomputed."""

import hashlib
import importlib
import logging
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .forms import AnswerValue, Questionnaire, ResponseForm
from .models import Answer, Invitation, Question, Response, Survey

logger = logging.getLogger(__name__)

# Open links only: at most this many stored responses per survey from one address per hour.
RATE_WINDOW = 60 * 60
RATE_DEFAULT = 20


class SubmissionRefused(Exception):
    """A response the public page refuses; nothing was stored."""


class AnswersInvalid(SubmissionRefused):
    """Some answers are wrong or missing; ``form`` holds each refusal, naming its question."""

    def __init__(self, form: ResponseForm) -> None:
        super().__init__("invalid answers")
        self.form = form


class SurveyNotOpen(SubmissionRefused):
    pass


class InvitationRequired(SubmissionRefused):
    pass


class InvitationUsed(SubmissionRefused):
    pass


class TooManyResponses(SubmissionRefused):
    pass


def response_submit(
    *,
    questionnaire: Questionnaire,
    data: Mapping[str, Any],
    language: str,
    invitation: Invitation | None = None,
    client: str = "",
) -> Response:
    """The response ``data`` (as posted) answers, stored with its answers, spending
    ``invitation``; or a ``SubmissionRefused`` and nothing stored. ``client`` (the sender's
    address) counts responses to open links, to keep bots out."""
    survey = questionnaire.survey
    if survey.status != Survey.Status.OPEN:
        raise SurveyNotOpen(survey.status)
    if invitation is None:
        if survey.access != Survey.Access.OPEN:
            raise InvitationRequired()
        if _responses_from(survey, client) >= _rate_limit():
            raise TooManyResponses()
    elif invitation.survey_id != survey.pk or invitation.used_at is not None:
        raise InvitationUsed()
    form = ResponseForm(questionnaire, data=data)
    if not form.is_valid():
        raise AnswersInvalid(form)
    with transaction.atomic():
        now = timezone.now()
        if invitation is not None:
            _spend(invitation, now)
        response = _store(form, survey=survey, language=language, now=now, invitation=invitation)
    if invitation is None:
        _count_response(survey, client)
    # After commit: the recompute reads committed answers, and its failure (logged) must not
    # tell the respondent that their stored answers were lost.
    transaction.on_commit(partial(_recompute_feeds, survey), robust=True)
    return response


def _spend(invitation: Invitation, now: datetime) -> None:
    """Mark the invitation used, or refuse. The conditional UPDATE locks its row until commit:
    a second submit of the same link waits here, then finds it spent and stores nothing."""
    claimed = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(used_at=now)
    if not claimed:
        raise InvitationUsed()
    invitation.used_at = now


def _store(
    form: ResponseForm,
    *,
    survey: Survey,
    language: str,
    now: datetime,
    invitation: Invitation | None,
) -> Response:
    response = Response(
        survey=survey,
        source=Response.Source.WEB,
        invitation=invitation,
        submitted_at=now,
        language=language[:5],
        **form.attributes,
    )
    response.full_clean()
    response.save()
    # The answers were validated one by one by the form; the database constraints still hold.
    Answer.objects.bulk_create(
        [_answer(response, question, value) for question, value in form.answers.items()]
    )
    return response


def _answer(response: Response, question: Question, value: AnswerValue) -> Answer:
    """A single choice is stored like a multiple one (a list), so results count both alike."""
    answer = Answer(response=response, question=question)
    if question.type in (Question.Type.SINGLE, Question.Type.MULTIPLE):
        answer.choices = value if isinstance(value, list) else [str(value)]
    elif question.type == Question.Type.TEXT:
        answer.text = str(value)
    else:
        answer.number = value  # type: ignore[assignment]  # scale, number, yes/no: a Decimal
    return answer


def _recompute_feeds(survey: Survey) -> None:
    """Tell ``surveys.feeds`` (when it exists) that the survey's responses changed."""
    try:
        feeds = importlib.import_module("surveys.feeds")
    except ModuleNotFoundError as missing:
        if missing.name != "surveys.feeds":
            raise  # the module exists but is broken: say so
        return
    feeds.responses_changed(survey)


def _rate_limit() -> int:
    return int(getattr(settings, "SURVEY_RESPONSES_PER_HOUR_PER_ADDRESS", RATE_DEFAULT))


def _rate_key(survey: Survey, client: str) -> str:
    # Hashed: no address is kept in the cache, and IPv6 colons suit every cache backend.
    # Keyed by the survey's random link key, not its id: ids come back after a database is
    # rebuilt, and a shared cache would carry the old counts over.
    digest = hashlib.sha256(client.encode()).hexdigest()[:32]
    return f"survey-responses:{survey.public_key or survey.pk}:{digest}"


def _responses_from(survey: Survey, client: str) -> int:
    return int(cache.get(_rate_key(survey, client), 0))


def _count_response(survey: Survey, client: str) -> None:
    key = _rate_key(survey, client)
    cache.add(key, 0, timeout=RATE_WINDOW)  # the hour starts with the first response
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr: a new hour
        cache.set(key, 1, timeout=RATE_WINDOW)
