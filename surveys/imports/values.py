"""A cell's value, checked and parsed per question type (number, text, scale, yes/no, single
and multiple choice; a Kobo question's columns per option) or per response field (city, sex,
language, submission time, other attributes), against the survey's ``Lookups``. A value that
cannot be used raises ``Refused`` with the reason."""

import contextlib
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from budgets.imports import fold
from monitoring.models import City

from ..models import Question, Response, Survey
from ..results import Option, QuestionSpec, question_specs
from .cells import cell_text

Type = Question.Type
TEXT_MAX = 5000  # as the public form allows
NUMBER_LIMIT = Decimal(10) ** 10  # Answer.number: 14 digits, 4 of them decimals
SEXES = {
    "female": "female", "f": "female", "mujer": "female", "femenino": "female",
    "male": "male", "m": "male", "hombre": "male", "masculino": "male",
    "other": "other", "otro": "other", "otra": "other",
}  # fmt: skip
LANGUAGES = {"es": "es", "espanol": "es", "spanish": "es", "en": "en", "ingles": "en",
             "english": "en"}  # fmt: skip


class Refused(ValueError):
    """One cell's value cannot be used; the message says why."""


def refuse(message: str, **params: Any) -> Refused:
    return Refused(message % params if params else message)


@dataclass
class Lookups:
    """What the rows are checked against, read once."""

    questions: list[QuestionSpec]
    by_code: dict[str, QuestionSpec]
    by_name: dict[str, QuestionSpec]  # folded code and texts
    cities: dict[str, City]  # folded code and names


def lookups_for(survey: Survey) -> Lookups:
    specs = question_specs(survey)
    cities: dict[str, City] = {}
    for city in survey.programme.cities.all():
        for name in (city.code, city.name_es, city.name_en):
            cities.setdefault(fold(name), city)
    by_name = {name: q for q in reversed(specs) for name in q.names}
    return Lookups(specs, {q.code: q for q in specs}, by_name, cities)


def find_option(question: QuestionSpec, text: str) -> Option | None:
    folded = fold(text)
    return next((o for o in question.options if folded in o.aliases), None)


def _refused_option(question: QuestionSpec, value: str) -> Refused:
    keys = ", ".join(o.key for o in question.options)
    if question.type == Type.YES_NO:
        return refuse(_("Write yes or no (sí/no, 1/0, true/false), not “%(value)s”."), value=value)
    if question.type == Type.SCALE:
        message = _("Not a level of the scale: “%(value)s” (the levels are %(keys)s).")
    else:
        message = _("Not one of the choices: “%(value)s” (the choices are %(keys)s).")
    return refuse(message, value=value, keys=keys)


def _choices(question: QuestionSpec, text: str, kobo: bool) -> list[str]:
    """Values separated by ``;`` (Kobo: by spaces, unless it is one label with spaces)."""
    one_label = find_option(question, text) is not None
    parts = text.split(";") if ";" in text or not kobo or one_label else text.split()
    chosen = set()
    for part in (p.strip() for p in parts if p.strip()):
        option = find_option(question, part)
        if option is None:
            raise _refused_option(question, part)
        chosen.add(option.key)
    return [o.key for o in question.options if o.key in chosen]


def _number(question: QuestionSpec, cell: Any) -> Decimal:
    text = cell_text(cell).replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # a decimal comma
    try:
        number = None if isinstance(cell, bool) else Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise refuse(_("Not a number: “%(value)s”."), value=cell_text(cell))
    low, high = question.min_value, question.max_value
    if low is not None and number < low:
        raise refuse(_("The lowest answer is %(min)s."), min=format(low.normalize(), "f"))
    if high is not None and number > high:
        raise refuse(_("The highest answer is %(max)s."), max=format(high.normalize(), "f"))
    if abs(number) >= NUMBER_LIMIT:
        raise refuse(_("This number is too large."))
    # Spreadsheets store binary fractions (0.1 + 0.2 = 0.30000000000000004): 4 decimals kept.
    return number.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def answer_value(cell: Any, question: QuestionSpec, kobo: bool) -> dict[str, Any] | None:
    """The answer's stored fields (number, choices, text), or None when the cell is blank."""
    text = cell_text(cell)
    value: dict[str, Any] = {"number": None, "choices": [], "text": ""}
    if not text:
        return None
    if question.type == Type.NUMBER:
        return {**value, "number": _number(question, cell)}
    if question.type == Type.TEXT:
        if len(text) > TEXT_MAX:
            raise refuse(_("At most %(max)d characters."), max=TEXT_MAX)
        return {**value, "text": text}
    if question.type == Type.MULTIPLE:
        return {**value, "choices": _choices(question, text, kobo)}
    option = find_option(question, text)
    if option is None:
        raise _refused_option(question, text)
    if question.type == Type.SINGLE:
        return {**value, "choices": [option.key]}
    return {**value, "number": Decimal(option.key)}


def from_options(
    _cell: Any, question: QuestionSpec, cells: dict[str, Any]
) -> dict[str, Any] | None:
    """A Kobo multiple-choice answer from its columns per option (1 chosen, 0 or blank not)."""
    marks = {key: fold(cell_text(cell)) for key, cell in cells.items()}
    if any(mark not in ("", "0", "1", "true", "false") for mark in marks.values()):
        raise refuse(_("Write 1 or 0 in the columns of each option."))
    chosen = [o.key for o in question.options if marks.get(o.key) in ("1", "true")]
    return {"number": None, "choices": chosen, "text": ""} if chosen else None


def _parse_moment(text: str) -> dt.datetime | None:
    """ISO 8601 (as Kobo writes it), or day/month/year as Spanish spreadsheets do."""
    try:
        day = parse_date(text) if len(text) == 10 else None
        moment = dt.datetime.combine(day, dt.time()) if day else parse_datetime(text)
    except ValueError:  # well-formed, but no such day
        return None
    for pattern in ("%d/%m/%Y %H:%M", "%d/%m/%Y"):
        with contextlib.suppress(ValueError):
            moment = moment or dt.datetime.strptime(text, pattern)
    return moment


def _moment(cell: Any, kobo: bool) -> dt.datetime | None:
    text = cell_text(cell)
    if isinstance(cell, dt.datetime):
        moment: dt.datetime | None = cell
    elif isinstance(cell, dt.date):
        moment = dt.datetime.combine(cell, dt.time())
    else:
        moment = _parse_moment(text) if text else None
        if not text:
            return None
    if moment is None:
        message = _("Not a date and time: “%(value)s” (write YYYY-MM-DD HH:MM).")
        raise refuse(message, value=text)
    if timezone.is_naive(moment):  # Kobo's _submission_time is UTC; others are local time
        moment = timezone.make_aware(moment, dt.UTC if kobo else None)
    return moment


FIELD_REFUSALS = {
    "city": gettext_lazy("Not a city of this programme: “%(value)s”."),
    "sex": gettext_lazy("Write female, male or other, not “%(value)s”."),
    "language": gettext_lazy("Write es or en, not “%(value)s”."),
}


def field_value(cell: Any, name: str, look: Lookups, kobo: bool) -> Any:
    """A response field (attribute, submission time, language) from its cell."""
    text = cell_text(cell)
    if name == "submitted_at":
        return _moment(cell, kobo)
    if not text:
        return None if name == "city" else ""
    lists: dict[str, dict[str, Any]] = {"city": look.cities, "sex": SEXES, "language": LANGUAGES}
    known = lists.get(name)
    if known is not None:
        if fold(text) not in known:
            raise refuse(str(FIELD_REFUSALS[name]), value=text)
        return known[fold(text)]
    limit = getattr(Response._meta.get_field(name), "max_length", None) or 0
    if len(text) > limit:
        raise refuse(_("At most %(max)d characters."), max=limit)
    return text
