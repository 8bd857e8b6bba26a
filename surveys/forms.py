"""The public response form: one field per question, by type, the respondent attributes the
survey asks, and (on open links) a honeypot. Every refusal names the question it is about.

No field is "required" in Django's sense: whether a question must be answered depends on skip
logic, which needs the other answers, so ``ResponseForm.clean`` decides it, and drops what was
posted for hidden questions."""

import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from monitoring.models import City

from . import skip
from .models import Question, Response, Section, Survey

TEXT_MAX = 5000
# Answer.number holds 14 digits, 4 of them decimals.
NUMBER_DECIMALS = 4
NUMBER_LIMIT = Decimal(10) ** 10
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")

# Codes as the programme's disaggregation categories name them, so results split the same way.
AGE_GROUPS = [
    ("youth", gettext_lazy("Under 29")),
    ("adult", gettext_lazy("29 to 59")),
    ("older", gettext_lazy("60 or over")),
    ("not_recorded", gettext_lazy("I prefer not to say")),
]
SEXES = [
    (Response.Sex.FEMALE.value, gettext_lazy("Female")),
    (Response.Sex.MALE.value, gettext_lazy("Male")),
    (Response.Sex.OTHER.value, gettext_lazy("Other, or I prefer not to say")),
]
MIGRATORY_STATUSES = [
    ("national", gettext_lazy("National of this country")),
    ("regular_migrant", gettext_lazy("Migrant with a regular status")),
    ("irregular_migrant", gettext_lazy("Migrant with an irregular status")),
    ("refugee", gettext_lazy("Refugee")),
    ("asylum_seeker", gettext_lazy("Asylum seeker")),
    ("returnee", gettext_lazy("Returnee")),
    ("not_recorded", gettext_lazy("I prefer not to say")),
]
INSTITUTION_TYPES = [
    ("local_government", gettext_lazy("Local or city government")),
    ("national_government", gettext_lazy("National government")),
    ("civil_society", gettext_lazy("Civil society or community organisation")),
    ("private_sector", gettext_lazy("Company or employers' organisation")),
    ("workers", gettext_lazy("Trade union")),
    ("academia", gettext_lazy("University or research centre")),
    ("international", gettext_lazy("UN agency or international organisation")),
    ("other", gettext_lazy("Other")),
]
ATTRIBUTES = ["city", "sex", "age_group", "migratory_status", "institution_type"]
HONEYPOT = "website"

AnswerValue = Decimal | list[str] | str


@dataclass
class Questionnaire:
    """A survey with everything its page needs, fetched once: questions in page order
    (sections in order; questions without a section first) with their choices and levels."""

    survey: Survey
    groups: list[tuple[Section | None, list[Question]]]
    cities: list[City] = field(default_factory=list)

    @property
    def questions(self) -> list[Question]:
        return [q for _section, questions in self.groups for q in questions]


def questionnaire_load(survey: Survey) -> Questionnaire:
    questions = list(
        survey.questions.select_related("scale")
        .prefetch_related("choices", "scale__levels")
        .order_by("order", "id")
    )
    sections = list(survey.sections.all())
    groups: list[tuple[Section | None, list[Question]]] = [
        (None, [q for q in questions if q.section_id is None])
    ]
    groups += [(s, [q for q in questions if q.section_id == s.pk]) for s in sections]
    cities = []
    if "city" in survey.attributes:
        cities = list(survey.programme.cities.order_by("code"))
    return Questionnaire(survey=survey, groups=[g for g in groups if g[1]], cities=cities)


def field_name(question: Question) -> str:
    return f"q_{question.code}"


def named(message: str, label: str, **params: Any) -> str:
    """A refusal about one question: ``message`` with the question's (shortened) text."""
    return message % {"question": Truncator(label).chars(90), **params}


def _plain(number: Decimal) -> str:
    """A bound as the active language writes numbers: 120, 2,5 (es) or 2.5 (en)."""
    return number_format(number.normalize())


class AnswerField(forms.Field, ABC):
    """One question's answer. ``parse`` turns what was posted into the stored value or raises
    a refusal naming the question; an empty answer is None (skip logic judges it)."""

    def __init__(self, question: Question, **kwargs: Any) -> None:
        super().__init__(required=False, label=question.text, help_text=question.help, **kwargs)
        self.question = question

    def clean(self, value: Any) -> AnswerValue | None:
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        return self.parse(value)

    def refuse(self, message: str, **params: Any) -> ValidationError:
        return ValidationError(named(message, self.question.text, **params), code="invalid")

    @abstractmethod
    def parse(self, value: Any) -> AnswerValue:
        """The stored value of what was posted (each kind of question says how)."""


class OneOfField(AnswerField, forms.ChoiceField):
    """Scale, single choice and yes/no: radio buttons; the value must be one offered."""

    def __init__(self, question: Question, choices: list[tuple[str, str]], message: str) -> None:
        super().__init__(question, choices=choices, widget=forms.RadioSelect)
        self.allowed = {value for value, _label in choices}
        self.message = message

    def parse(self, value: Any) -> AnswerValue:
        if not isinstance(value, str) or value not in self.allowed:
            raise self.refuse(self.message)
        return value if self.question.type == Question.Type.SINGLE else Decimal(value)


class SomeOfField(AnswerField, forms.MultipleChoiceField):
    """Multiple choice: checkboxes; each value must be one offered; kept in the order offered."""

    def __init__(self, question: Question, choices: list[tuple[str, str]]) -> None:
        super().__init__(question, choices=choices, widget=forms.CheckboxSelectMultiple)
        self.offered = [value for value, _label in choices]

    def parse(self, value: Any) -> AnswerValue:
        values = [value] if isinstance(value, str) else list(value)
        if any(not isinstance(v, str) or v not in self.offered for v in values):
            raise self.refuse(_("“%(question)s”: choose only among the options offered."))
        return [v for v in self.offered if v in values]


class NumberField(AnswerField):
    """A number, with a decimal point or a decimal comma (a text input: a number input sends
    nothing at all when the browser dislikes what was typed), within the question's bounds."""

    def __init__(self, question: Question) -> None:
        attrs = {"inputmode": "decimal", "autocomplete": "off", "class": "number"}
        super().__init__(question, widget=forms.TextInput(attrs=attrs))
        self.range = _range(question.min_value, question.max_value)

    def parse(self, value: Any) -> AnswerValue:
        text = str(value).strip().replace(" ", "")
        try:
            number = Decimal(text.replace(",", ".")) if _NUMBER.match(text) else None
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            number = None
        if number is None:
            raise self.refuse(_("“%(question)s”: write a number (for example 12 or 12.5)."))
        low, high = self.question.min_value, self.question.max_value
        if low is not None and number < low:
            raise self.refuse(_("“%(question)s”: the lowest answer is %(min)s."), min=_plain(low))
        if high is not None and number > high:
            raise self.refuse(_("“%(question)s”: the highest answer is %(max)s."), max=_plain(high))
        if abs(number) >= NUMBER_LIMIT:
            raise self.refuse(_("“%(question)s”: this number is too large."))
        if -int(number.normalize().as_tuple().exponent) > NUMBER_DECIMALS:
            raise self.refuse(_("“%(question)s”: use at most 4 decimals."))
        return number


def _range(low: Decimal | None, high: Decimal | None) -> str:
    if low is not None and high is not None:
        return _("Between %(min)s and %(max)s.") % {"min": _plain(low), "max": _plain(high)}
    if low is not None:
        return _("%(min)s or more.") % {"min": _plain(low)}
    if high is not None:
        return _("At most %(max)s.") % {"max": _plain(high)}
    return ""


class TextField(AnswerField):
    def __init__(self, question: Question) -> None:
        attrs = {"rows": 4, "maxlength": TEXT_MAX}
        super().__init__(question, widget=forms.Textarea(attrs=attrs))

    def parse(self, value: Any) -> AnswerValue:
        text = str(value).strip()
        if "\x00" in text:  # no database stores it (PostgreSQL refuses the whole response)
            raise self.refuse(_("“%(question)s”: remove the null character from the answer."))
        if len(text) > TEXT_MAX:
            raise self.refuse(
                _("“%(question)s”: at most %(limit)s characters (this answer has %(count)s)."),
                limit=TEXT_MAX,
                count=len(text),
            )
        return text


def answer_field(question: Question) -> AnswerField:
    kind = Question.Type
    if question.type == kind.SCALE:
        scale = question.scale.levels.all() if question.scale else []  # a constraint: never None
        levels = [(str(level.value), level.label) for level in scale]
        return OneOfField(question, levels, _("“%(question)s”: choose one of the levels shown."))
    if question.type == kind.YES_NO:
        return OneOfField(
            question, [("1", _("Yes")), ("0", _("No"))], _("“%(question)s”: answer yes or no.")
        )
    choices = [(c.value, c.label) for c in question.choices.all()]
    if question.type == kind.SINGLE:
        return OneOfField(question, choices, _("“%(question)s”: choose one of the options shown."))
    if question.type == kind.MULTIPLE:
        return SomeOfField(question, choices)
    if question.type == kind.NUMBER:
        return NumberField(question)
    return TextField(question)


def attribute_field(name: str, cities: list[City]) -> forms.ChoiceField:
    """A respondent attribute: one choice among fixed options (the programme's cities for the
    city), so results can be split by it."""
    labels = {
        "city": (_("City"), [(c.code, c.name) for c in cities]),
        "sex": (_("Sex"), SEXES),
        "age_group": (_("Age"), AGE_GROUPS),
        "migratory_status": (_("Migratory status"), MIGRATORY_STATUSES),
        "institution_type": (_("Type of institution you work for"), INSTITUTION_TYPES),
    }
    label, choices = labels[name]
    invalid = named(_("“%(question)s”: choose one of the options shown."), str(label))
    messages = {
        "required": named(_("“%(question)s”: this question needs an answer."), str(label)),
        # Django formats this one with the refused value: a "%" in it must stay one.
        "invalid_choice": invalid.replace("%", "%%"),
    }
    return forms.ChoiceField(
        label=label, choices=choices, widget=forms.RadioSelect, error_messages=messages
    )


@dataclass
class QuestionSlot:
    """One question as the page shows it: its field, and its condition for survey.js."""

    question: Question
    bound: forms.BoundField
    show_if: str = ""
    show_if_values: list[str] = field(default_factory=list)
    hint: str = ""

    @property
    def show_if_json(self) -> str:
        return json.dumps(self.show_if_values)

    @property
    def grouped(self) -> bool:
        """Radio buttons or checkboxes, under a legend; else one input with its label."""
        return isinstance(self.bound.field, forms.ChoiceField)


class ResponseForm(forms.Form):
    """The answers to a questionnaire. ``answers`` and ``attributes`` hold what is valid and
    shown once ``is_valid()``; hidden questions are neither required nor kept."""

    def __init__(self, questionnaire: Questionnaire, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        survey = questionnaire.survey
        for question in questionnaire.questions:
            self.fields[field_name(question)] = answer_field(question)
        for name in ATTRIBUTES:
            if name in survey.attributes:
                self.fields[name] = attribute_field(name, questionnaire.cities)
        if survey.access == Survey.Access.OPEN:
            # Hidden from people (CSS, aria-hidden, out of tab order); bots fill in every field.
            attrs = {"autocomplete": "off", "tabindex": "-1"}
            self.fields[HONEYPOT] = forms.CharField(
                required=False, label=_("Leave this empty"), widget=forms.TextInput(attrs=attrs)
            )
        self.answers: dict[Question, AnswerValue] = {}
        self.attributes: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get(HONEYPOT):
            raise ValidationError(_("Your answers could not be accepted."), code="honeypot")
        questions = self.questionnaire.questions
        shown = skip.shown(
            {q.pk: skip.condition(q.show_if_id, q.show_if_values) for q in questions},
            {q.pk: skip.tokens(data.get(field_name(q))) for q in questions},
        )
        for question in questions:
            name = field_name(question)
            value = data.pop(name, None)
            if question.pk not in shown:
                self.errors.pop(name, None)  # whatever was posted for it is discarded
            elif value is not None:
                self.answers[question] = value
            elif question.required and name not in self.errors:
                message = _("“%(question)s”: this question needs an answer.")
                self.add_error(name, named(message, question.text))
        cities = {c.code: c for c in self.questionnaire.cities}
        self.attributes = {n: data[n] for n in ATTRIBUTES if data.get(n)}
        if "city" in self.attributes:
            self.attributes["city"] = cities[self.attributes["city"]]
        return data

    def slots(self) -> list[tuple[Section | None, list[QuestionSlot]]]:
        """The questions by section, with the conditions survey.js applies as you answer. A
        question that depends on one outside the survey is never shown (nor asked)."""
        by_id = {q.pk: q for q in self.questionnaire.questions}
        groups = []
        for section, questions in self.questionnaire.groups:
            row = []
            for q in questions:
                slot = QuestionSlot(question=q, bound=self[field_name(q)])
                rule = skip.condition(q.show_if_id, q.show_if_values)
                if rule is not None:
                    if rule.on not in by_id:
                        continue
                    slot.show_if = field_name(by_id[rule.on])
                    slot.show_if_values = sorted(rule.values)
                    slot.hint = self._hint(by_id[rule.on], rule.values)
                row.append(slot)
            groups.append((section, row))
        return groups

    def _hint(self, controller: Question, values: frozenset[str]) -> str:
        """For people without JavaScript, who see every question: when to answer this one."""
        offered = getattr(self.fields[field_name(controller)], "choices", [])
        labels = [str(label) for value, label in offered if skip.token(value) in values]
        message = _("Answer only if you answered “%(answers)s” to “%(question)s”.")
        return named(message, controller.text, answers="” / “".join(labels or sorted(values)))

    def attribute_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ATTRIBUTES if name in self.fields]
