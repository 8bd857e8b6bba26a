"""Survey results (DESIGN §7): response rate, distribution per question, top-box share, mean
and yes share, for all respondents or broken down by a respondent attribute, each with its n
and a warning under 30 respondents; published results (no micro-data) in the same shape.

Computations are pure functions of plain rows (dicts), so they are tested without a database;
``survey_results_data`` fetches those rows in a fixed number of queries, whatever the data.
The shapes (``QuestionSpec``, ``Result``, ``SurveyData``…) are in ``surveys.results_types``,
re-exported here."""

from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from budgets.imports import fold

from . import skip
from .models import AggregateResult, Answer, Choice, Question, Response, ScaleLevel, Survey
from .results_types import SMALL_N as SMALL_N  # re-exported: the charts warn by it too
from .results_types import Cell, Option, QuestionResults, QuestionSpec, Result, SurveyData

Type = Question.Type
ATTRIBUTES = ("city", "sex", "age_group", "migratory_status", "institution_type")
ALL = "all"  # the group of every respondent, as AggregateResult writes it
CHARTED = (Type.SCALE, Type.SINGLE, Type.MULTIPLE, Type.YES_NO)
YES_ALIASES = frozenset({"1", "yes", "si", "true", "y", "s"})
NO_ALIASES = frozenset({"0", "no", "false", "n"})


def percent(count: int, n: int | None) -> Decimal | None:
    """A share of ``n`` in percent, to one decimal, rounded half up like the tables."""
    if not n:
        return None
    return (Decimal(100 * count) / n).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def response_rate(respondents: int, invitations: int, invited: int | None) -> Decimal | None:
    """Respondents over the invitations issued, else over the number declared invited."""
    return percent(respondents, invitations or invited)


def answer_keys(question: QuestionSpec, row: dict[str, Any]) -> list[str]:
    """The option keys an answer row gives (empty for numbers and text)."""
    if question.type in (Type.SCALE, Type.YES_NO):
        number = row.get("number")
        return [] if number is None else [str(int(Decimal(number)))]
    if question.type in (Type.SINGLE, Type.MULTIPLE):
        return list(dict.fromkeys(str(c) for c in row.get("choices") or []))
    return []


def is_answered(question: QuestionSpec, row: dict[str, Any] | None) -> bool:
    if row is None:
        return False
    if question.type == Type.TEXT:
        return bool((row.get("text") or "").strip())
    if question.type == Type.NUMBER:
        return row.get("number") is not None
    return bool(answer_keys(question, row))


def question_result(
    question: QuestionSpec, rows: list[dict[str, Any]], group: str, label: str
) -> Result:
    """Distribution (shares of the respondents who answered; for multiple choice they may add
    up to more than 100), top-box share and mean (scale), mean (number), texts (text)."""
    answered = [r for r in rows if is_answered(question, r)]
    n = len(answered)
    counts = Counter(k for r in answered for k in answer_keys(question, r))
    cells = [
        Cell(o.key, o.label, counts[o.key], percent(counts[o.key], n), o.top_box)
        for o in question.options
    ]
    result = Result(group, label, n, cells)
    if question.type == Type.SCALE:
        result.top_box = percent(sum(c.count or 0 for c in cells if c.top_box), n)
    if question.type in (Type.SCALE, Type.NUMBER) and n:
        total = sum((Decimal(r["number"]) for r in answered), Decimal(0))
        result.mean = (total / n).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if question.type == Type.TEXT:
        result.texts = [r["text"].strip() for r in answered]
    return result


def matches(response: dict[str, Any], filters: dict[str, str]) -> bool:
    return all((response.get(name) or "") == value for name, value in filters.items())


def group_label(data: SurveyData, attribute: str, value: str) -> str:
    if not value:
        return _("not stated")
    return data.group_labels.get((attribute, value), value)


def attribute_values(data: SurveyData, attribute: str) -> list[tuple[str, str]]:
    """The values respondents gave for an attribute, with their labels, for the filters."""
    values = sorted({r.get(attribute) or "" for r in data.responses} - {""})
    return [(v, group_label(data, attribute, v)) for v in values]


def _groups(
    data: SurveyData, respondents: list[dict[str, Any]], by: str | None
) -> list[tuple[str, str, set[int]]]:
    """(group key, label, response ids): everyone, then each value of ``by``."""
    groups = [(ALL, _("all respondents"), {r["id"] for r in respondents})]
    if by:
        values: dict[str, set[int]] = {}
        for r in respondents:
            values.setdefault(r.get(by) or "", set()).add(r["id"])
        for value in sorted(values, key=lambda v: (not v, group_label(data, by, v))):
            groups.append((f"{by}={value}", group_label(data, by, value), values[value]))
    return groups


def _shown_to(data: SurveyData, by_question: dict[int, dict[int, dict]]) -> dict[int, frozenset]:
    """Per respondent, the questions skip logic showed them (empty when no question has a
    condition: everything was shown to everyone)."""
    if not any(q.show_if_id for q in data.questions):
        return {}
    conditions = {q.id: skip.condition(q.show_if_id, q.show_if_values) for q in data.questions}
    given: dict[int, dict[int, frozenset[str]]] = {}
    for qid, rows in by_question.items():
        for rid, row in rows.items():
            value = row["choices"] or row["number"]
            given.setdefault(rid, {})[qid] = skip.tokens(row["text"] if value is None else value)
    return {r["id"]: skip.shown(conditions, given.get(r["id"], {})) for r in data.responses}


def compute_results(
    data: SurveyData, filters: dict[str, str] | None = None, by: str | None = None
) -> list[QuestionResults]:
    """Every question's result for the respondents the filters keep, and per value of ``by``;
    a question behind skip logic also says how many it was shown to."""
    respondents = [r for r in data.responses if matches(r, filters or {})]
    groups = _groups(data, respondents, by)
    by_question: dict[int, dict[int, dict[str, Any]]] = {}
    for row in data.answers:
        by_question.setdefault(row["question_id"], {})[row["response_id"]] = row
    shown_to = _shown_to(data, by_question)
    out = []
    for question in data.questions:
        answers = by_question.get(question.id, {})
        results = []
        for key, label, ids in groups:
            rows = [answers[rid] for rid in ids if rid in answers]
            result = question_result(question, rows, key, label)
            if question.show_if_id:
                result.shown = sum(1 for rid in ids if question.id in shown_to.get(rid, ()))
            results.append(result)
        out.append(QuestionResults(question, results))
    return out


def _printed_cell(question: QuestionSpec, row: dict[str, Any], n: int | None) -> Cell:
    """One printed share as a cell: a level or choice (by value or label), or a combined
    answer ("4+5", "b+c") whose parts are; otherwise the answer as printed."""
    answer = str(row["answer"])
    whole = _option_for(question, answer)
    parts = [whole] if whole else [_option_for(question, p) for p in answer.split("+")]
    share = row.get("share")
    if share is None and row.get("count") is not None:
        share = percent(row["count"], n)
    if not all(parts):
        return Cell(answer, answer, row.get("count"), share)
    chosen = [o for o in question.options if o in parts]  # in scale or choice order
    key, label = "+".join(o.key for o in chosen), " + ".join(o.label for o in chosen)
    return Cell(key, label, row.get("count"), share, all(o.top_box for o in chosen))


def _option_for(question: QuestionSpec, answer: str) -> Option | None:
    folded = fold(answer)
    return next((o for o in question.options if folded in o.aliases), None)


def published_result(question: QuestionSpec, rows: list[dict[str, Any]], label: str) -> Result:
    """A publication's printed shares as a result, matched to the scale or choices; top-box
    share and mean only when what was printed allows them."""
    n = next((r["respondents"] for r in rows if r.get("respondents") is not None), None)
    printed = {cell.answer: cell for cell in (_printed_cell(question, r, n) for r in rows)}
    cells = [
        printed.pop(o.key, Cell(o.key, o.label, None, None, o.top_box)) for o in question.options
    ] + list(printed.values())
    result = Result(rows[0]["group"], label, n, cells)
    if question.type == Type.SCALE:
        result.top_box, result.mean = _published_scale(question, cells)
    return result


def _published_scale(
    question: QuestionSpec, cells: list[Cell]
) -> tuple[Decimal | None, Decimal | None]:
    """Top box: when the printed shares cover the top-box levels exactly once (a level or a
    combined "4+5"), or when every share was printed (the rest are zero). Mean: only when
    every printed share is one level and they add up to about 100 %."""
    zero = Decimal(0)
    printed = [c for c in cells if c.share is not None]
    total = sum((c.share or zero for c in printed), zero)
    complete = abs(total - 100) <= 1
    tops = {o.key for o in question.options if o.top_box}
    covering = [c for c in printed if set(c.answer.split("+")) <= tops]
    covered = [part for c in covering for part in c.answer.split("+")]
    top_box: Decimal | None = None
    if tops and len(covered) == len(set(covered)) and (set(covered) == tops or complete):
        top_box = sum((c.share or zero for c in covering), zero)
    values = {o.key: o.value or zero for o in question.options}
    mean: Decimal | None = None
    if complete and all(c.answer in values for c in printed):
        weighted = sum((values[c.answer] * (c.share or zero) for c in printed), zero)
        mean = (weighted / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return top_box, mean


def published_results(data: SurveyData, by: str | None = None) -> list[QuestionResults]:
    """Published results per question: the whole group and the groups of ``by``; when the
    publication printed neither, every group it printed."""
    by_question: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for row in data.aggregates:
        by_question.setdefault(row["question_id"], {}).setdefault(row["group"], []).append(row)
    out = []
    for question in data.questions:
        printed = by_question.get(question.id)
        if not printed:
            continue
        wanted = [g for g in printed if g == ALL or (by and g.startswith(f"{by}="))]
        results = [
            published_result(question, printed[g], _published_label(data, g))
            for g in sorted(wanted or printed, key=lambda g: (g != ALL, g))
        ]
        sources = dict.fromkeys(r["source"] for rows in printed.values() for r in rows)
        out.append(QuestionResults(question, results, True, "; ".join(s for s in sources if s)))
    return out


def published_respondents(data: SurveyData) -> int | None:
    """A publication's respondents: the most it printed for the whole group."""
    printed = [r["respondents"] for r in data.aggregates if r["group"] == ALL and r["respondents"]]
    return max(printed, default=None)


def _published_label(data: SurveyData, group: str) -> str:
    if group == ALL:
        return _("all respondents")
    attribute, _sep, value = group.partition("=")
    return group_label(data, attribute, value)


def result_rows(block: QuestionResults) -> list[dict[str, Any]]:
    """One row per group and answer: what a chart draws, its CSV gives and the export lists
    (a withheld group keeps its rows, with no figure and the reason it is withheld)."""
    rows = []
    for r in block.results:
        base = {"question": block.question.code, "group": r.group_label, "respondents": r.n}
        small = None if r.withheld else r.small  # a withheld group has no n to judge
        summary = {"top_box": r.top_box, "mean": r.mean, "small_n": small,
                   "suppressed": r.withheld or None}  # fmt: skip
        for c in r.cells or [Cell("", "", None, None)]:
            answer = {"answer": c.answer, "label": c.label, "count": c.count, "share": c.share}
            rows.append({**base, **answer, **summary})
    return rows


def chart_options(question: QuestionSpec) -> list[dict[str, Any]]:
    return [{"answer": o.key, "label": o.label, "top_box": o.top_box} for o in question.options]


ROW_COLUMNS = [
    ("group", "group"), ("respondents", "respondents"), ("answer", "answer"),
    ("label", "answer_label"), ("count", "count"), ("share", "share_pct"),
    ("top_box", "top_box_pct"), ("mean", "mean"), ("small_n", "fewer_than_30"),
    ("suppressed", "suppressed"),
]  # fmt: skip
EXPORT_COLUMNS = [
    ("question", "question"), ("question_text", "question_text"), ("type", "type"),
    ("results", "results"), *ROW_COLUMNS, ("source", "source"),
]  # fmt: skip


def export_rows(blocks: Iterable[QuestionResults]) -> list[dict[str, Any]]:
    """The per-question results for the CSV/XLSX export, keyed as ``EXPORT_COLUMNS``."""
    out = []
    for block in blocks:
        q = block.question
        about = {"question_text": q.text, "type": q.type, "source": block.source,
                 "results": "published" if block.published else "responses"}  # fmt: skip
        out += [{**row, **about} for row in result_rows(block)]
    return out


# ---- the one selector -------------------------------------------------------------------


def _aliases(*names: Any) -> frozenset[str]:
    return frozenset(fold(n) for n in names)


def _options(question: Question, levels: list[ScaleLevel], choices: list[Choice]) -> tuple:
    if question.type == Type.SCALE:
        return tuple(
            Option(str(lv.value), lv.label, lv.top_box, Decimal(lv.value),
                   _aliases(lv.value, lv.label_es, lv.label_en))
            for lv in levels
        )  # fmt: skip
    if question.type in (Type.SINGLE, Type.MULTIPLE):
        return tuple(
            Option(c.value, c.label, aliases=_aliases(c.value, c.label_es, c.label_en))
            for c in choices
        )
    if question.type == Type.YES_NO:
        yes, no = (
            Option("1", _("yes"), aliases=YES_ALIASES),
            Option("0", _("no"), aliases=NO_ALIASES),
        )
        return (yes, no)
    return ()


def question_specs(survey: Survey) -> list[QuestionSpec]:
    """The survey's questions with their options, in three queries."""
    questions = list(survey.questions.order_by("order", "id"))
    scale_ids = {q.scale_id for q in questions if q.scale_id}
    levels: dict[int, list[ScaleLevel]] = {}
    for level in ScaleLevel.objects.filter(scale_id__in=scale_ids).order_by("value"):
        levels.setdefault(level.scale_id, []).append(level)
    choices: dict[int, list[Choice]] = {}
    for choice in Choice.objects.filter(question__survey=survey).order_by("order", "id"):
        choices.setdefault(choice.question_id, []).append(choice)
    return [
        QuestionSpec(
            q.pk,
            q.code,
            q.type,
            q.text,
            _options(q, levels.get(q.scale_id or 0, []), choices.get(q.pk, [])),
            q.show_if_id,
            frozenset(str(v) for v in q.show_if_values or []),
            q.min_value,
            q.max_value,
            _aliases(q.code, q.text_es, q.text_en),
        )
        for q in questions
    ]


def survey_results_data(survey: Survey) -> SurveyData:
    """Everything the results page computes from, in eight queries."""
    labels = {("sex", value): str(label) for value, label in Response.Sex.choices}
    # The programme's cities name the groups of responses and of published results alike.
    labels.update({("city", c.code): c.name for c in survey.programme.cities.all()})
    responses = [
        {**row, "city": row.pop("city__code") or ""}
        for row in survey.responses.values("id", "city__code", *ATTRIBUTES[1:])
    ]
    answers = [
        dict(row)
        for row in Answer.objects.filter(response__survey=survey).values(
            "response_id", "question_id", "number", "choices", "text"
        )
    ]
    aggregates = [
        dict(row)
        for row in AggregateResult.objects.filter(survey=survey).values(
            "question_id", "group", "answer", "respondents", "count", "share", "source"
        )
    ]
    return SurveyData(
        question_specs(survey), responses, answers, aggregates, survey.invitations.count(), labels
    )
