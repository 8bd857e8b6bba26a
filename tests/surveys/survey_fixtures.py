"""A small survey built in code for the public page tests: the satisfaction survey of a
migrant resource centre, in Spanish and English, with every answer type and a skip chain.

    section "Your visit"
      sat        scale, 5 levels (4 and 5 top box)        required
      why        text, only if sat is 1 or 2              required
      service    single choice: jobs, legal, health       required
      needs      multiple choice: housing, school, docs   optional
      age        number 0–120                             required
    section "Follow-up"
      referred   yes/no                                   required
      where      single: municipal, ngo; only if referred = yes          required
      useful     scale; only if where = municipal (A → B → C)           required
      comments   text                                     optional

It asks the city (among the programme's), sex and age group."""

from dataclasses import dataclass, field
from typing import Any

from monitoring.models import Programme
from surveys import services
from surveys.models import Choice, Invitation, Question, Scale, ScaleLevel, Section, Survey

SAT_LEVELS = [
    (1, "Muy insatisfecho/a", "Very dissatisfied", False),
    (2, "Insatisfecho/a", "Dissatisfied", False),
    (3, "Ni satisfecho/a ni insatisfecho/a", "Neither satisfied nor dissatisfied", False),
    (4, "Satisfecho/a", "Satisfied", True),
    (5, "Muy satisfecho/a", "Very satisfied", True),
]
TEXTS = {
    "sat": ("¿Qué tan satisfecho/a está con la atención recibida?",
            "How satisfied are you with the service you received?"),
    "why": ("¿Qué podríamos mejorar?", "What could we improve?"),
    "service": ("¿Qué servicio buscaba?", "Which service were you looking for?"),
    "needs": ("¿Qué otras necesidades tiene?", "What other needs do you have?"),
    "age": ("¿Qué edad tiene?", "How old are you?"),
    "referred": ("¿Le derivaron a otro servicio?", "Were you referred to another service?"),
    "where": ("¿A dónde le derivaron?", "Where were you referred to?"),
    "useful": ("¿Qué tan útil fue la derivación municipal?",
               "How useful was the municipal referral?"),
    "comments": ("Comentarios", "Comments"),
}  # fmt: skip
CHOICES = {
    "service": [("jobs", "Empleo", "Jobs"), ("legal", "Orientación legal", "Legal advice"),
                ("health", "Salud", "Health")],
    "needs": [("housing", "Vivienda", "Housing"), ("school", "Escuela", "School"),
              ("docs", "Documentos", "Documents")],
    "where": [("municipal", "Oficina municipal", "Municipal office"),
              ("ngo", "Organización de la sociedad civil", "Civil society organisation")],
}  # fmt: skip


@dataclass
class SurveyKit:
    survey: Survey
    questions: dict[str, Question] = field(default_factory=dict)

    @property
    def key(self) -> str:
        assert self.survey.public_key
        return self.survey.public_key

    def invite(self, label: str = "Ana") -> tuple[Invitation, str]:
        return services.invitations_issue(survey=self.survey, labels=[label])[0]

    def text(self, code: str, language: str = "en") -> str:
        return TEXTS[code][language == "en"]


def answers(**changes: Any) -> dict[str, Any]:
    """A complete, valid response as posted; ``name=None`` leaves a field out."""
    data: dict[str, Any] = {
        "q_sat": "5", "q_service": "jobs", "q_needs": ["housing", "docs"], "q_age": "34",
        "q_referred": "0", "q_comments": "Muy buena atención",
        "city": "SCL", "sex": "female", "age_group": "adult",
    }  # fmt: skip
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def _scale(code: str) -> Scale:
    scale = Scale.objects.create(code=code, name_es="Satisfacción", name_en="Satisfaction")
    for value, es, en, top in SAT_LEVELS:
        ScaleLevel.objects.create(scale=scale, value=value, label_es=es, label_en=en, top_box=top)
    return scale


def build_survey(
    programme: Programme,
    *,
    access: str = Survey.Access.OPEN,
    status: str = Survey.Status.OPEN,
    code: str = "MRRC-SAT",
) -> SurveyKit:
    survey = Survey.objects.create(
        programme=programme, code=code, access=access,
        title_es="Satisfacción con el centro de atención", title_en="Satisfaction with the centre",
        description_es="Sus respuestas son anónimas.", description_en="Your answers are anonymous.",
        attributes=["city", "sex", "age_group"],
    )  # fmt: skip
    kit = SurveyKit(survey=survey)
    scale = _scale(f"{code}-SAT5")
    visit = Section.objects.create(
        survey=survey, order=1, title_es="Su visita", title_en="Your visit"
    )
    follow = Section.objects.create(
        survey=survey, order=2, title_es="Seguimiento", title_en="Follow-up"
    )
    q = kit.questions
    q["sat"] = _question(survey, visit, "sat", 1, Question.Type.SCALE, scale=scale)
    q["why"] = _question(survey, visit, "why", 2, "text", show_if=q["sat"], values=[1, 2])
    q["service"] = _question(survey, visit, "service", 3, Question.Type.SINGLE)
    q["needs"] = _question(survey, visit, "needs", 4, Question.Type.MULTIPLE, required=False)
    q["age"] = _question(survey, visit, "age", 5, Question.Type.NUMBER, min_value=0, max_value=120)
    q["referred"] = _question(survey, follow, "referred", 6, Question.Type.YES_NO)
    q["where"] = _question(survey, follow, "where", 7, "single", show_if=q["referred"], values=[1])
    q["useful"] = _question(
        survey, follow, "useful", 8, "scale", scale=scale, show_if=q["where"], values=["municipal"]
    )
    q["comments"] = _question(survey, follow, "comments", 9, Question.Type.TEXT, required=False)
    # Opened (it gets its public key), then put back to draft or closed if asked.
    services.survey_open(survey=survey)
    if status != Survey.Status.OPEN:
        Survey.objects.filter(pk=survey.pk).update(status=status)
        survey.status = status
    return kit


def _question(survey, section, code, order, type_, *, show_if=None, values=(), **extra):
    es, en = TEXTS[code]
    question = Question.objects.create(
        survey=survey, section=section, code=code, order=order, type=type_, text_es=es,
        text_en=en, show_if=show_if, show_if_values=list(values), **extra,
    )  # fmt: skip
    for position, (value, label_es, label_en) in enumerate(CHOICES.get(code, [])):
        Choice.objects.create(
            question=question, value=value, order=position, label_es=label_es, label_en=label_en
        )
    return question
