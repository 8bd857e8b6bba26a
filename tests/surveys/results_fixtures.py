"""A small survey built in code for the results, charts, pages and import tests: users of a
municipal employment service, asked in Santiago and Mexico City.

    sat       scale 1–5 (4 and 5 top box)
    service   single choice: jobs, legal, health
    needs     multiple choice: housing, school, docs
    age       number 0–120
    referred  yes/no
    useful    scale 1–5, only if referred = yes (skip logic)
    comments  text

``respond`` stores one response with its answers the way any source would. The twelve
``SAT_ANSWERS`` give, by hand: n 12, levels 1:1 2:2 3:2 4:4 5:3, top box (4, 5) 7 of 12 =
58.3 %, mean 42 / 12 = 3.50."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from monitoring.models import City, Programme
from surveys.models import (
    AggregateResult,
    Answer,
    Choice,
    Question,
    Response,
    Scale,
    ScaleLevel,
    Survey,
)

LEVELS = [
    (1, "Muy insatisfecho/a", "Very dissatisfied", False),
    (2, "Insatisfecho/a", "Dissatisfied", False),
    (3, "Ni satisfecho/a ni insatisfecho/a", "Neither", False),
    (4, "Satisfecho/a", "Satisfied", True),
    (5, "Muy satisfecho/a", "Very satisfied", True),
]
QUESTIONS = [
    ("sat", Question.Type.SCALE, "¿Qué tan satisfecho/a está?", "How satisfied are you?"),
    ("service", Question.Type.SINGLE, "¿Qué servicio buscaba?", "Which service did you seek?"),
    ("needs", Question.Type.MULTIPLE, "¿Qué otras necesidades tiene?", "What other needs?"),
    ("age", Question.Type.NUMBER, "¿Qué edad tiene?", "How old are you?"),
    ("referred", Question.Type.YES_NO, "¿Le derivaron?", "Were you referred?"),
    ("useful", Question.Type.SCALE, "¿Fue útil la derivación?", "Was the referral useful?"),
    ("comments", Question.Type.TEXT, "Comentarios", "Comments"),
]
CHOICES = {
    "service": [("jobs", "Empleo", "Jobs"), ("legal", "Orientación legal", "Legal advice"),
                ("health", "Salud", "Health")],
    "needs": [("housing", "Vivienda", "Housing"), ("school", "Escuela", "School"),
              ("docs", "Documentos", "Documents")],
}  # fmt: skip
SAT_ANSWERS = [5, 5, 4, 4, 4, 3, 3, 2, 1, 5, 4, 2]


@dataclass
class Kit:
    survey: Survey
    questions: dict[str, Question] = field(default_factory=dict)
    cities: dict[str, City] = field(default_factory=dict)

    @property
    def programme(self) -> Programme:
        return self.survey.programme


def scale(code: str = "RESULTS-SAT5") -> Scale:
    found = Scale.objects.filter(code=code).first()
    if found:
        return found
    made = Scale.objects.create(code=code, name_es="Satisfacción", name_en="Satisfaction")
    for value, es, en, top in LEVELS:
        ScaleLevel.objects.create(scale=made, value=value, label_es=es, label_en=en, top_box=top)
    return made


def build_kit(
    programme: Programme,
    *,
    code: str = "EMPLEO",
    kind: str = Survey.Kind.RESPONSES,
    invited: int | None = 40,
    comments_es: str = "Comentarios",
) -> Kit:
    survey = Survey.objects.create(
        programme=programme, code=code, kind=kind, invited=invited,
        title_es="Usuarios del servicio de empleo", title_en="Employment service users",
        attributes=["city", "sex"], fielded_on=dt.date(2022, 10, 3), source="Encuesta 2022",
    )  # fmt: skip
    kit = Kit(survey, cities={c.code: c for c in City.objects.filter(code__in=["SCL", "CDMX"])})
    five = scale()
    for order, (q_code, q_type, es, en) in enumerate(QUESTIONS, start=1):
        extra: dict[str, Any] = {}
        if q_type == Question.Type.SCALE:
            extra["scale"] = five
        if q_code == "age":
            extra.update(min_value=Decimal(0), max_value=Decimal(120))
        if q_code == "useful":
            extra.update(show_if=kit.questions["referred"], show_if_values=[1])
        if q_code == "comments":
            es = comments_es
        kit.questions[q_code] = Question.objects.create(
            survey=survey, code=q_code, order=order, type=q_type, text_es=es, text_en=en, **extra
        )
        for position, (value, label_es, label_en) in enumerate(CHOICES.get(q_code, [])):
            Choice.objects.create(
                question=kit.questions[q_code], value=value, order=position,
                label_es=label_es, label_en=label_en,
            )  # fmt: skip
    return kit


def respond(
    kit: Kit,
    external_id: str,
    *,
    city: str | None = "SCL",
    sex: str = "female",
    source: str = Response.Source.UPLOAD,
    **answers: Any,
) -> Response:
    """One response; each keyword answers the question of that code (a list for multiple
    choice, a string for single choice and text, a number otherwise)."""
    response = Response.objects.create(
        survey=kit.survey, external_id=external_id, source=source, sex=sex,
        city=kit.cities[city] if city else None, submitted_at=timezone.now(),
    )  # fmt: skip
    for q_code, value in answers.items():
        question = kit.questions[q_code]
        fields: dict[str, Any] = {}
        if question.type == Question.Type.MULTIPLE:
            fields["choices"] = list(value)
        elif question.type == Question.Type.SINGLE:
            fields["choices"] = [value]
        elif question.type == Question.Type.TEXT:
            fields["text"] = value
        else:
            fields["number"] = Decimal(value)
        Answer.objects.create(response=response, question=question, **fields)
    return response


def answer_twelve(kit: Kit) -> None:
    """The twelve respondents of the module docstring: the first seven in Santiago (four
    women), the other five in Mexico City (all men)."""
    for n, sat in enumerate(SAT_ANSWERS):
        city = "SCL" if n < 7 else "CDMX"
        sex = "female" if n < 4 else "male"
        respond(kit, f"r{n:02d}", city=city, sex=sex, sat=sat)


def publish(kit: Kit, group: str, respondents: int | None, **shares: str) -> None:
    """Published results of ``sat``: answer level → share (percent)."""
    for answer, share in shares.items():
        AggregateResult.objects.create(
            survey=kit.survey, question=kit.questions["sat"], group=group,
            answer=answer.removeprefix("level_"), respondents=respondents,
            share=Decimal(share), source="Evaluación final, mayo 2023, p. 41",
        )  # fmt: skip


def snapshot(survey: Survey) -> list[tuple]:
    """Every response and answer of the survey, with their ids: equal snapshots mean
    nothing was created, changed or recreated."""
    responses = [
        ("response", r.pk, r.external_id, r.source, r.submitted_at, r.city_id, r.sex,
         r.age_group, r.migratory_status, r.institution_type, r.language)
        for r in Response.objects.filter(survey=survey).order_by("external_id")
    ]  # fmt: skip
    answers = [
        ("answer", a.pk, a.response.external_id, a.question.code, a.number, a.choices, a.text)
        for a in Answer.objects.filter(response__survey=survey)
        .select_related("response", "question")
        .order_by("response__external_id", "question__order")
    ]
    return responses + answers
