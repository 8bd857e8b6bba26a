"""Writes of surveys: copying a questionnaire for a new wave, opening a survey, issuing
invitations (the token shown once, its hash stored)."""

import hashlib
import secrets

from django.db import transaction

from .models import Choice, Invitation, Question, Survey


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def survey_copy_wave(*, survey: Survey) -> Survey:
    """The same questionnaire (sections, questions, choices, skip logic) as the next wave, in
    draft, without responses."""
    latest = Survey.objects.filter(programme=survey.programme, code=survey.code).order_by("-wave")
    wave = (latest.first() or survey).wave + 1
    copy = Survey.objects.get(pk=survey.pk)
    copy.pk = None
    copy.wave, copy.copied_from, copy.status, copy.public_key = (
        wave,
        survey,
        Survey.Status.DRAFT,
        None,
    )
    copy.fielded_on, copy.invited = None, None
    copy.save()
    sections = {}
    for section in survey.sections.all():
        old = section.pk
        section.pk, section.survey = None, copy
        section.save()
        sections[old] = section
    questions: dict[int, Question] = {}
    for question in survey.questions.order_by("order", "id"):
        old = question.pk
        choices = list(question.choices.all())
        question.pk, question.survey = None, copy
        question.section = sections.get(question.section_id or 0)
        question.show_if = questions.get(question.show_if_id or 0)
        question.save()
        questions[old] = question
        Choice.objects.bulk_create(
            [Choice(question=question, value=c.value, order=c.order, label_es=c.label_es,
                    label_en=c.label_en) for c in choices]
        )  # fmt: skip
    return copy


@transaction.atomic
def survey_open(*, survey: Survey) -> Survey:
    if not survey.public_key:
        survey.public_key = secrets.token_urlsafe(16)
    survey.status = Survey.Status.OPEN
    survey.save(update_fields=["public_key", "status"])
    return survey


def invitations_issue(*, survey: Survey, labels: list[str]) -> list[tuple[Invitation, str]]:
    """New invitations with their tokens; the tokens are not stored and cannot be shown again."""
    out = []
    for label in labels:
        token = secrets.token_urlsafe(24)
        out.append(
            (
                Invitation.objects.create(survey=survey, token_hash=token_hash(token), label=label),
                token,
            )
        )
    return out
