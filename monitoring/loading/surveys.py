"""The survey sections of a programme document: reusable answer scales, and surveys with their
sections, questions and choices, published results (for surveys whose micro-data we do not
have) and responses with their answers (an assessment's scored items, say).

Records are matched by their natural keys (scale code; survey code and wave; question code;
published result by question, group and answer; response by external id), so loading twice
changes nothing. An answer the document no longer gives is removed: for an assessment, a
cell without a level is "not assessed", which is not a zero."""

import datetime as dt
from typing import TYPE_CHECKING, Any

from surveys.models import (
    AggregateResult,
    Answer,
    Choice,
    Question,
    Response,
    Scale,
    ScaleLevel,
    Section,
    Survey,
)

from .dates import parse_date
from .upsert import LoadError, to_optional_decimal

if TYPE_CHECKING:
    from .programme import ProgrammeLoader


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def _bilingual(data: dict, *fields: str) -> dict[str, str]:
    return {f"{f}_{lang}": _text(data, f"{f}_{lang}") for f in fields for lang in ("es", "en")}


def load_surveys(loader: "ProgrammeLoader") -> None:
    scales = {s["code"]: _scale(loader, s) for s in loader.doc.get("scales", [])}
    for data in loader.doc.get("surveys", []):
        _survey(loader, data, scales)


def _scale(loader: "ProgrammeLoader", data: dict) -> Scale:
    record = f"scale {data.get('code')}"
    scale = loader.up.save(Scale, record, {"code": data["code"]}, _bilingual(data, "name"))
    for level in data.get("levels", []):
        loader.up.save(
            ScaleLevel,
            f"{record} › level {level.get('value')}",
            {"scale_id": scale.pk, "value": level.get("value")},
            {**_bilingual(level, "label"), "top_box": bool(level.get("top_box", False))},
        )
    return scale


def _survey(loader: "ProgrammeLoader", data: dict, scales: dict[str, Scale]) -> Survey:
    record = f"survey {data.get('code')}"
    period = loader._ref(loader.periods, "period", record, "period", data.get("period"))
    fielded = data.get("fielded_on")
    survey = loader.up.save(
        Survey,
        record,
        {"programme_id": loader.programme.pk, "code": data["code"], "wave": data.get("wave", 1)},
        {
            **_bilingual(data, "title", "description"),
            "kind": data.get("kind", Survey.Kind.RESPONSES),
            "access": data.get("access", Survey.Access.TOKEN),
            "status": data.get("status", Survey.Status.CLOSED),
            "period_id": period.pk if period else None,
            "invited": data.get("invited"),
            "attributes": data.get("attributes", []),
            "fielded_on": parse_date(record, "fielded_on", fielded) if fielded else None,
            "source": _text(data, "source"),
        },
    )
    questions = _questions(loader, survey, record, data, scales)
    for result in data.get("results", []):
        _result(loader, survey, record, result, questions)
    for response in data.get("responses", []):
        _response(loader, survey, record, response, questions)
    return survey


def _questions(
    loader: "ProgrammeLoader", survey: Survey, record: str, data: dict, scales: dict[str, Scale]
) -> dict[str, Question]:
    """The survey's questions in document order (numbered across sections), with their
    sections and choices; skip logic refers to earlier questions by code."""
    questions: dict[str, Question] = {}
    blocks = [(None, data.get("questions", []))]
    for n, s in enumerate(data.get("sections", []), start=1):
        section = loader.up.save(
            Section,
            f"{record} › section {n}",
            {"survey_id": survey.pk, "order": n},
            _bilingual(s, "title"),
        )
        blocks.append((section, s.get("questions", [])))
    for section, items in blocks:
        for q in items:
            where = f"{record} › question {q.get('code')}"
            scale = loader._ref(scales, "scale", where, "scale", q.get("scale"))
            show_if = loader._ref(questions, "question", where, "show_if", q.get("show_if"))
            q = {**q, "order": q.get("order", len(questions) + 1)}
            questions[q["code"]] = _question(loader, survey, where, q, section, scale, show_if)
    return questions


def _question(
    loader: "ProgrammeLoader",
    survey: Survey,
    record: str,
    q: dict,
    section: Section | None,
    scale: Scale | None,
    show_if: Question | None,
) -> Question:
    question = loader.up.save(
        Question,
        record,
        {"survey_id": survey.pk, "code": q["code"]},
        {
            **_bilingual(q, "text", "help"),
            "order": q["order"],
            "type": q.get("type"),
            "section_id": section.pk if section else None,
            "scale_id": scale.pk if scale else None,
            "required": bool(q.get("required", False)),
            "show_if_id": show_if.pk if show_if else None,
            "show_if_values": q.get("show_if_values", []),
        },
    )
    for n, c in enumerate(q.get("choices", []), start=1):
        loader.up.save(
            Choice,
            f"{record} › choice {c.get('value')}",
            {"question_id": question.pk, "value": c.get("value")},
            {**_bilingual(c, "label"), "order": n},
        )
    return question


def _result(
    loader: "ProgrammeLoader",
    survey: Survey,
    record: str,
    r: dict,
    questions: dict[str, Question],
) -> None:
    where = f"{record} › result {r.get('question')}/{r.get('group', 'all')}/{r.get('answer')}"
    question = loader._ref(questions, "question", where, "question", r.get("question"))
    if question is None:
        raise LoadError(where, "question", "a published result needs its question.")
    loader.up.save(
        AggregateResult,
        where,
        {"question_id": question.pk, "group": r.get("group", "all"), "answer": str(r["answer"])},
        {
            "survey_id": survey.pk,
            "respondents": r.get("respondents"),
            "count": r.get("count"),
            "share": to_optional_decimal(where, "share", r.get("share")),
            "source": _text(r, "source"),
        },
    )


def _noon(record: str, raw: Any) -> dt.datetime:
    """A day given without a time, stored as noon UTC of that day."""
    return dt.datetime.combine(parse_date(record, "submitted_at", raw), dt.time(12), tzinfo=dt.UTC)


def _response(
    loader: "ProgrammeLoader",
    survey: Survey,
    record: str,
    r: dict,
    questions: dict[str, Question],
) -> None:
    where = f"{record} › response {r.get('external_id')}"
    if not r.get("external_id"):
        raise LoadError(where, "external_id", "a loaded response needs its external id.")
    city = loader._ref(loader.cities, "city", where, "city", r.get("city"))
    response = loader.up.save(
        Response,
        where,
        {"survey_id": survey.pk, "external_id": r["external_id"]},
        {
            "source": r.get("source", Response.Source.UPLOAD),
            "submitted_at": _noon(where, r.get("submitted_at")),
            "respondent": _text(r, "respondent"),
            "city_id": city.pk if city else None,
            **{k: _text(r, k) for k in ("language", "sex", "age_group", "institution_type")},
        },
    )
    given = set()
    for a in r.get("answers", []):
        question = loader._ref(questions, "question", where, "answers", a.get("question"))
        if question is None:
            raise LoadError(where, "answers", "an answer needs its question.")
        given.add(question.pk)
        loader.up.save(
            Answer,
            f"{where} › answer {a.get('question')}",
            {"response_id": response.pk, "question_id": question.pk},
            {
                "number": to_optional_decimal(where, "number", a.get("number")),
                "choices": a.get("choices", []),
                "text": _text(a, "text"),
                "evidence": _text(a, "evidence"),
            },
        )
    # A cell the document no longer scores is not assessed: no answer, rather than a stale one.
    removed, _ = Answer.objects.filter(response=response).exclude(question_id__in=given).delete()
    if removed:
        loader.up.updated[str(Answer._meta.verbose_name_plural)] += removed
