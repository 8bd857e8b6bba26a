"""The assessment page (DESIGN §7): for the members of a programme, a survey of kind
"assessment" as a respondent × item heat map (municipality × indicator, for the municipal
integration-policy assessment) and each respondent's score per dimension with its coverage.
``?download=<chart>`` gives a chart's rows as CSV, like the dashboards. A fixed number of
queries, whatever the data."""

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from indicators import charts
from indicators.dashboards import Chart
from monitoring.exports import csv_response
from monitoring.models import Programme
from monitoring.permissions import Viewer
from monitoring.selectors import programme_get_for_user

from .assessment import (
    Cell,
    Cells,
    Dimension,
    Item,
    Score,
    build_assessment_heatmap_figure,
    build_dimension_scores_figure,
    dimension_scores,
    evidence_label,
    heatmap_rows,
    level_legend,
)
from .models import Answer, Question, ScaleLevel, Survey

HEATMAP_COLUMNS = [
    ("unit", "respondent"),
    ("dimension", "dimension"),
    ("item", "item"),
    ("item_text", "item_text"),
    ("level", "level"),
    ("level_label", "level_label"),
    ("evidence", "evidence"),
    ("finding", "finding"),
]
SCORE_COLUMNS = [
    ("unit", "respondent"),
    ("dimension", "dimension"),
    ("score", "mean_level"),
    ("assessed", "items_assessed"),
    ("items", "items"),
]


@dataclass
class Assessment:
    """An assessment survey as the page draws it."""

    survey: Survey
    dimensions: list[Dimension]
    units: list[str]
    cells: Cells
    levels: dict[int, str]


def assessment_get_for_user(
    *, user: Viewer, code: str, survey_code: str
) -> tuple[Programme, Survey]:
    """The programme and its assessment survey (latest wave), if the user is a member; 404
    otherwise."""
    programme = programme_get_for_user(user=user, code=code)
    survey = (
        Survey.objects.filter(programme=programme, code=survey_code, kind=Survey.Kind.ASSESSMENT)
        .order_by("-wave")
        .first()
    )
    if survey is None:
        raise Http404
    return programme, survey


def _dimensions(survey: Survey) -> tuple[list[Dimension], dict[int, str], set[int]]:
    """The survey's sections as dimensions of its scored items; also each item's code by
    question id, and the scales they use."""
    questions = list(
        Question.objects.filter(survey=survey, type=Question.Type.SCALE)
        .select_related("section")
        .order_by("section__order", "order", "id")
    )
    by_section: dict[Any, list[Question]] = defaultdict(list)
    for q in questions:
        by_section[q.section].append(q)
    dimensions = [
        Dimension(
            str(section.title) if section else _("Other items"),
            tuple(Item(q.code, str(q.text)) for q in items),
        )
        for section, items in by_section.items()
    ]
    return (
        dimensions,
        {q.pk: q.code for q in questions},
        {q.scale_id for q in questions if q.scale_id},
    )


def assessment_data(survey: Survey) -> Assessment:
    """Dimensions, respondents (in the order they were recorded), cells and level labels."""
    dimensions, codes, scales = _dimensions(survey)
    levels = {
        level.value: str(level.label)
        for level in ScaleLevel.objects.filter(scale_id__in=scales).order_by("value")
    }
    names: dict[int, str] = {}
    for pk, respondent, external_id in survey.responses.order_by("submitted_at", "id").values_list(
        "id", "respondent", "external_id"
    ):
        name = respondent or external_id or f"#{pk}"
        names[pk] = name if name not in names.values() else f"{name} ({external_id or pk})"
    cells: Cells = {}
    answers = Answer.objects.filter(response__survey=survey, question_id__in=codes)
    for response_id, question_id, number, evidence, text in answers.values_list(
        "response_id", "question_id", "number", "evidence", "text"
    ):
        level = None if number is None else int(number.to_integral_value())
        cells[(names[response_id], codes[question_id])] = Cell(level, evidence, text)
    return Assessment(survey, dimensions, list(names.values()), cells, levels)


def _charts(data: Assessment) -> tuple[Chart, Chart, list[Score]]:
    scores = dimension_scores(data.dimensions, data.units, data.cells)
    title = _("Level of each item")
    heatmap = Chart(
        "heatmap",
        title,
        charts.figure_json(
            build_assessment_heatmap_figure(
                data.dimensions, data.units, data.cells, data.levels, title
            )
        ),
        heatmap_rows(data.dimensions, data.units, data.cells, data.levels),
        HEATMAP_COLUMNS,
    )
    title = _("Score per dimension (mean level over the items assessed)")
    top = max(data.levels, default=0)
    figure = build_dimension_scores_figure(data.dimensions, scores, top, title)
    rows = [asdict(s) for s in scores]
    return heatmap, Chart("scores", title, charts.figure_json(figure), rows, SCORE_COLUMNS), scores


def _download(programme: Programme, survey: Survey, chart: Chart) -> HttpResponse:
    body = ([row.get(key) for key, _label in chart.columns] for row in chart.rows)
    header = [label for _key, label in chart.columns]
    return csv_response(f"{programme.code}-{survey.code}-{chart.id}", header, body)


def _tables(data: Assessment, scores: list[Score]) -> dict[str, Any]:
    """The page's tables: scores by respondent, the heat map as rows, the legends."""
    items = [i for d in data.dimensions for i in d.items]
    by_unit: dict[str, list[Score]] = defaultdict(list)
    for score in scores:
        by_unit[score.unit].append(score)
    used = sorted({cell.evidence for cell in data.cells.values()} - {""})
    return {
        "score_table": list(by_unit.items()),
        "grid": [(u, [data.cells.get((u, i.code)) for i in items]) for u in data.units],
        "items": items,
        "levels": level_legend(data.levels),
        "evidence": [(code, evidence_label(code)) for code in used],
    }


@login_required
@require_GET
def assessment(request: HttpRequest, code: str, survey_code: str) -> HttpResponse:
    programme, survey = assessment_get_for_user(
        user=request.user, code=code, survey_code=survey_code
    )
    data = assessment_data(survey)
    heatmap, scores_chart, scores = _charts(data)
    for chart in (heatmap, scores_chart):
        if chart.id == request.GET.get("download"):
            return _download(programme, survey, chart)
    context = {"programme": programme, "survey": survey, "data": data, "query": ""}
    context |= {"heatmap": heatmap, "scores_chart": scores_chart, **_tables(data, scores)}
    return render(request, "surveys/assessment.html", context)
