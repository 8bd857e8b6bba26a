"""Survey pages for programme members (DESIGN §7): the list of surveys, a survey's results
(filters by respondent attribute, a breakdown by one, charts with their CSV, tables, published
results beside them), the CSV/XLSX export of those results, and the upload of responses. Each
view: fetch and authorise → read the filters → one selector and pure computations → render.
Small groups are withheld from whoever is not the survey's owner (``surveys.disclosure``)."""

import io
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from budgets.forms import UploadForm
from budgets.imports import UploadInvalid, UploadRefused
from indicators.charts import figure_json
from indicators.permissions import Access, access_for
from monitoring.exports import csv_response
from monitoring.models import Programme

from . import charts
from .disclosure import MAX_COMBINED, Disclosure
from .imports import import_responses
from .models import AggregateResult, Invitation, Question, Response, Survey
from .permissions import sees_small_groups
from .results import (
    ATTRIBUTES,
    CHARTED,
    EXPORT_COLUMNS,
    ROW_COLUMNS,
    QuestionResults,
    SurveyData,
    attribute_values,
    chart_options,
    export_rows,
    published_respondents,
    response_rate,
    result_rows,
    survey_results_data,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ATTRIBUTE_LABELS = {
    "city": gettext_lazy("City"),
    "sex": gettext_lazy("Sex"),
    "age_group": gettext_lazy("Age group"),
    "migratory_status": gettext_lazy("Migratory status"),
    "institution_type": gettext_lazy("Institution type"),
}


# ---- who may do what (pure predicates over the viewer's access) ------------------------


def can_upload_responses(access: Access) -> bool:
    """Responses are loaded by the programme admin or the Resident Coordinator Office."""
    return access.is_admin or access.is_rco


def can_read_text_answers(access: Access) -> bool:
    """Free-text answers may name people: the RCO and the admin read them; others count them."""
    return access.is_admin or access.is_rco


def _programme_for(request: HttpRequest, code: str) -> tuple[Programme, Access]:
    """The programme and the viewer's access; 404 for whoever is not a member."""
    programme = Programme.objects.filter(code=code).first()
    access = access_for(request.user, programme) if programme else None
    if programme is None or access is None or not access.is_member:
        raise Http404
    return programme, access


def _survey_for(
    request: HttpRequest, code: str, survey_code: str, wave: int
) -> tuple[Survey, Access]:
    programme, access = _programme_for(request, code)
    survey = get_object_or_404(Survey, programme=programme, code=survey_code, wave=wave)
    survey.programme = programme  # already fetched
    return survey, access


# ---- the list -----------------------------------------------------------------------------


def _count(model: Any, **where: Any) -> Coalesce:
    rows = model.objects.filter(survey=OuterRef("pk"), **where).order_by().values("survey")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


@login_required
@require_GET
def survey_list(request: HttpRequest, code: str) -> HttpResponse:
    programme, access = _programme_for(request, code)
    published_n = AggregateResult.objects.filter(survey=OuterRef("pk"), group="all")
    surveys = Survey.objects.filter(programme=programme).annotate(
        respondents=_count(Response),
        invitations_issued=_count(Invitation),
        published_n=Subquery(
            published_n.order_by().values("survey").annotate(n=Max("respondents")).values("n"),
            output_field=IntegerField(),
        ),
    )
    rows = []
    for s in surveys:
        # A publication's respondents are those it printed for the whole group.
        answered = s.published_n if s.kind == Survey.Kind.AGGREGATE else s.respondents
        rate = response_rate(answered or 0, s.invitations_issued, s.invited)
        rows.append({"survey": s, "respondents": answered, "rate": rate if answered else None,
                     "denominator": s.invitations_issued or s.invited})  # fmt: skip
    context = {
        "programme": programme,
        "rows": rows,
        "can_upload": can_upload_responses(access),
    }
    return render(request, "surveys/list.html", context)


# ---- the results --------------------------------------------------------------------------


class ResultsFilterForm(forms.Form):
    """Respondents kept by attribute value, and an attribute to break results down by; the
    values offered are those respondents gave (no query of its own)."""

    def __init__(
        self, attributes: list[str], data_rows: SurveyData, *args: Any, filters: bool = True
    ) -> None:
        super().__init__(*args)
        self.attributes = attributes if filters else []
        self.breakdowns = attributes
        for name in self.attributes:
            choices = [("", _("All")), *attribute_values(data_rows, name)]
            self.fields[name] = forms.ChoiceField(
                label=ATTRIBUTE_LABELS[name], choices=choices, required=False
            )
        by = [("", _("No breakdown")), *((a, ATTRIBUTE_LABELS[a]) for a in attributes)]
        self.fields["by"] = forms.ChoiceField(label=_("Break down by"), choices=by, required=False)

    def selection(self) -> tuple[dict[str, str], str | None]:
        """The valid filters and breakdown; an invalid one is dropped (the form says so)."""
        if not self.is_bound:
            return {}, None
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        filters = {a: data[a] for a in self.attributes if data.get(a)}
        return filters, data.get("by") or None


def _attributes(survey: Survey, data: SurveyData) -> list[str]:
    """The attributes to filter and break down by: those the survey asks or respondents
    gave; for a publication, those its groups are printed by."""
    if survey.kind == Survey.Kind.AGGREGATE:
        wanted = {r["group"].partition("=")[0] for r in data.aggregates if "=" in r["group"]}
    else:
        wanted = {*survey.attributes, *(a for r in data.responses for a in ATTRIBUTES if r.get(a))}
    return [a for a in ATTRIBUTES if a in wanted]


@dataclass
class Chart:
    id: str
    title: str
    figure: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Block:
    """One question on the page: its results, chart and table."""

    results: QuestionResults
    kind: str
    chart: Chart | None
    columns: list[str]
    table: list[dict[str, Any]]


def _block(results: QuestionResults) -> Block:
    question = results.question
    rows = result_rows(results)
    chart = None
    if question.type in CHARTED:
        title = f"{question.code} — {question.text[:90]}"
        options = chart_options(question)
        scale = question.type == Question.Type.SCALE
        build = charts.build_scale_figure if scale else charts.build_choice_figure
        prefix = "published" if results.published else "q"
        drawn = [row for row in rows if not row["suppressed"]]  # a withheld group: no bar
        chart = Chart(f"{prefix}-{slugify(question.code)}", title,
                      figure_json(build(options, drawn, title)), rows)  # fmt: skip
    answers = list(dict.fromkeys(c.answer for r in results.results for c in r.cells))
    labels = {c.answer: c.label for r in results.results for c in r.cells}
    table = [
        {"result": r, "cells": [next((c for c in r.cells if c.answer == a), None) for a in answers]}
        for r in results.results
    ]
    kind = str(Question.Type(question.type).label)
    return Block(results, kind, chart, [labels[a] for a in answers], table)


@dataclass
class Computed:
    data: SurveyData
    form: ResultsFilterForm
    filters: dict[str, str]
    own: list[QuestionResults]  # from the survey's responses
    published: list[QuestionResults]
    kept: int | None  # respondents the filters keep (None: withheld from this viewer)
    withheld: bool  # the filters keep a group withheld from this viewer: no figures
    minimum: int | None  # the smallest group shown (None: every group is)


def _computed(request: HttpRequest, survey: Survey, access: Access) -> Computed:
    """The results for the filters and breakdown in the query string (a publication's only
    break down: it has no responses to filter), small groups withheld as the viewer must."""
    data = survey_results_data(survey)
    aggregate = survey.kind == Survey.Kind.AGGREGATE
    form = ResultsFilterForm(
        _attributes(survey, data), data, request.GET or None, filters=not aggregate
    )
    filters, by = form.selection()
    shown = Disclosure(survey, data, full=sees_small_groups(access)).results(filters, by)
    return Computed(data, form, filters, shown.own, shown.published, shown.kept,
                    shown.withheld, shown.minimum)  # fmt: skip


def _sections(
    survey: Survey, blocks: list[Block], published: list[Block], *, withheld: bool
) -> list[dict]:
    """The survey's own results (none when the filters keep a withheld group), then the
    published ones (a publication's survey: only those)."""
    aggregate = survey.kind == Survey.Kind.AGGREGATE
    own = (
        []
        if aggregate
        else [{"id": "responses", "blocks": blocks, "published": False, "withheld": withheld}]
    )
    printed = [{"id": "published", "blocks": published, "published": True}]
    return own + (printed if published or aggregate else [])


def _response_rate(survey: Survey, computed: Computed) -> dict[str, Any]:
    """The tiles: respondents (a publication's: those it printed), invited, response rate."""
    data = computed.data
    if survey.kind == Survey.Kind.AGGREGATE:
        answered = published_respondents(data)
    else:
        answered = len(data.responses)
    return {
        "respondents": answered,
        "kept": computed.kept,
        "filtered": bool(computed.filters),
        "invitations": data.invitations,
        "denominator": data.invitations or survey.invited,
        "rate": response_rate(answered, data.invitations, survey.invited) if answered else None,
    }


def _chart_csv(survey: Survey, blocks: list[Block], wanted: str | None) -> HttpResponse | None:
    """``?download=<chart>``: that chart's rows as CSV."""
    for block in blocks:
        if block.chart and block.chart.id == wanted:
            body = ([row.get(key) for key, _h in ROW_COLUMNS] for row in block.chart.rows)
            name = f"{survey.programme.code}-{survey.code}-{survey.wave}-{block.chart.id}"
            return csv_response(name, [h for _k, h in ROW_COLUMNS], body)
    return None


@login_required
@require_GET
def survey_results(request: HttpRequest, code: str, survey_code: str, wave: int) -> HttpResponse:
    survey, access = _survey_for(request, code, survey_code, wave)
    computed = _computed(request, survey, access)
    if not can_read_text_answers(access):  # not even into the template
        for result in (r for block in computed.own for r in block.results):
            result.texts = []
    blocks = [_block(b) for b in computed.own]
    published = [_block(b) for b in computed.published]
    download = _chart_csv(survey, blocks + published, request.GET.get("download"))
    if download is not None:
        return download
    query = request.GET.copy()
    query.pop("download", None)
    context = {
        "programme": survey.programme,
        "survey": survey,
        "form": computed.form,
        "sections": _sections(survey, blocks, published, withheld=computed.withheld),
        "can_upload": can_upload_responses(access) and survey.kind != Survey.Kind.AGGREGATE,
        "can_read_texts": can_read_text_answers(access),
        "query": query.urlencode(),
        "withheld": computed.withheld,
        "minimum": computed.minimum,
        "combined": MAX_COMBINED,
        **_response_rate(survey, computed),
    }
    return render(request, "surveys/results.html", context)


# ---- the export ---------------------------------------------------------------------------


def _xlsx_value(sheet: Any, value: Any) -> Any:
    """Text stays text: a cell that starts with "=" is never written as a formula."""
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def _xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Results"))
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_value(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@login_required
@require_GET
def export(request: HttpRequest, code: str, survey_code: str, wave: int, fmt: str) -> HttpResponse:
    survey, access = _survey_for(request, code, survey_code, wave)
    computed = _computed(request, survey, access)
    records = export_rows([*computed.own, *computed.published])
    header = [h for _k, h in EXPORT_COLUMNS]
    rows = [[r.get(k) for k, _h in EXPORT_COLUMNS] for r in records]
    name = f"{survey.programme.code}-{survey.code}-{survey.wave}-results"
    if fmt == "csv":
        return csv_response(name, header, rows)
    response = HttpResponse(_xlsx(header, rows), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.xlsx")
    return response


# ---- the upload ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, code: str, survey_code: str, wave: int) -> HttpResponse:
    survey, access = _survey_for(request, code, survey_code, wave)
    if not can_upload_responses(access):
        raise PermissionDenied
    if survey.kind == Survey.Kind.AGGREGATE:
        raise Http404  # published results have no responses to upload
    form = UploadForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        try:
            summary = import_responses(
                file=form.cleaned_data["file"], survey=survey, actor=request.user
            )
        except UploadRefused as refused:
            form.add_error("file", str(refused))
        except UploadInvalid as invalid:
            problems = invalid.problems
        else:
            counts = {"created": summary.created, "updated": summary.updated,
                      "unchanged": summary.unchanged}  # fmt: skip
            message = _(
                "Responses added: %(created)d; updated: %(updated)d; unchanged: %(unchanged)d."
            )
            messages.success(request, message % counts)
            return redirect("surveys:results", survey.programme.code, survey.code, survey.wave)
    questions = survey.questions.select_related("scale").prefetch_related(
        "choices", "scale__levels"
    )
    context = {
        "programme": survey.programme,
        "survey": survey,
        "form": form,
        "problems": problems,
        "questions": questions.order_by("order", "id"),
        "types": Question.Type,
    }
    return render(request, "surveys/upload.html", context, status=400 if form.is_bound else 200)
