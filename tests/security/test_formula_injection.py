"""Formula injection (issue 8, item 2): a spreadsheet runs a cell that starts with =, +, -, @
(or a tab or carriage return before one) as a formula. Every free-text field that can reach an
export gets such a text here (indicator, outcome, city and agency names, narratives, comments,
sources, notes, reasons, survey titles, questions, choices and respondents, deliverables...),
and every export is downloaded: the results table (CSV, XLSX; JSON is no spreadsheet and keeps
the text as it is), the budget (each CSV table and the XLSX), survey results (the export page
and the survey's own CSV/XLSX), every chart's CSV on every dashboard (indicators, budget,
surveys, assessment), each indicator's sources, the deliverables inventory, the upload
template, the quarterly report's workbook and the API's export endpoints.

In a CSV, no cell may start a formula unless it is a number; in an XLSX no cell is a formula
(openpyxl's data type "f"). Numbers stay numbers: a negative amount is written -5 in a CSV
(not '-5) and is a number cell in an XLSX."""

import csv
import io
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from django.db import models
from django.db.models import Value
from django.db.models.functions import Cast, Concat
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from budgets.models import BudgetLine, BudgetRevision, Expenditure
from budgets.tasks import recompute_budget
from indicators import services
from indicators.models import Deliverable, Indicator, ProgressReport
from indicators.selectors.reports import activities_in_scope, indicators_in_scope
from indicators.tasks import recompute_all
from monitoring.exports import spreadsheet_safe
from monitoring.models import Agency, ApiToken, City, Programme, ReportingPeriod
from surveys.models import Survey
from tests.security.fuzzing import FORMULA, FORMULA_STARTS
from tests.surveys.survey_fixtures import answers, build_survey

pytestmark = pytest.mark.django_db

MARK = "evil.example"  # in every poisoned text long enough to hold FORMULA
SHORT = "=1+1"  # for fields too short for FORMULA
FIGURES = {"count": "5", "percent": "60", "yes_no": "1", "level": "2", "amount": "100"}
SKIPPED_NAMES = {"code", "currency", "public_key", "token_hash", "prefix", "key_digest", "value"}
# Free text that reaches exports, by model (app label.model): every text field of these models
# except codes, keys and fields with choices.
POISONED_MODELS = [
    "monitoring.Country", "monitoring.City", "monitoring.Agency", "monitoring.Programme",
    "monitoring.Outcome", "monitoring.Output", "monitoring.Activity",
    "indicators.DisaggregationDimension", "indicators.DisaggregationCategory",
    "indicators.Indicator", "indicators.IndicatorValue", "indicators.ValueComponent",
    "indicators.ProgressReport", "indicators.Baseline", "indicators.Target",
    "indicators.TargetRevision", "indicators.Restatement", "indicators.ActivityProgress",
    "indicators.Deliverable",
    "budgets.BudgetCategory", "budgets.BudgetLine", "budgets.BudgetRevision",
    "budgets.StatedTotal", "budgets.Transfer", "budgets.NoCostExtension", "budgets.Expenditure",
    "surveys.Scale", "surveys.ScaleLevel", "surveys.Survey", "surveys.Section",
    "surveys.Question", "surveys.Choice", "surveys.Response", "surveys.Answer",
    "surveys.AggregateResult",
]  # fmt: skip
# Fields whose content is a structure the code reads, not free text.
STRUCTURED = {("surveys.AggregateResult", "group"), ("surveys.AggregateResult", "answer")}


def poison(model: type[models.Model]) -> list[str]:
    """Every free-text field of ``model`` set to a formula, with the row's id so that no
    unique constraint minds; text_value only where a text indicator has one."""
    label = model._meta.label
    done = []
    for field in model._meta.concrete_fields:
        if (
            not isinstance(field, (models.CharField, models.TextField))
            or isinstance(field, (models.URLField, models.EmailField, models.FileField))
            or field.choices
            or field.name in SKIPPED_NAMES
            or (label, field.name) in STRUCTURED
        ):
            continue
        length = field.max_length or 10_000
        if length < len(SHORT) + 12:  # a language or other short code: no room for a formula
            continue
        text = FORMULA if length >= len(FORMULA) + 12 else SHORT
        qs = model._default_manager.all()
        if field.name == "text_value":
            qs = qs.exclude(text_value="")
        elif field.name == "evidence":  # an assessment's evidence: a short label
            qs = qs.exclude(evidence="")
        qs.update(**{field.name: Concat(Value(text + " #"), Cast("pk", models.CharField()))})
        done.append(field.name)
    return done


# ---- the data ------------------------------------------------------------------------------


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def _approved_report(programme: Programme) -> ProgressReport:
    """ILO's report for Santiago, 2023-Q2, approved: figures, activities, a deliverable."""
    scope: dict[str, Any] = {
        "programme": programme,
        "agency": Agency.objects.get(code="ILO"),
        "city": City.objects.get(code="SCL"),
    }
    period = ReportingPeriod.objects.get(programme=programme, code="2023-Q2")
    slot: dict[str, Any] = {**scope, "period": period}
    indicators = indicators_in_scope(**scope)
    activities = [
        services.ActivityEntry(a, status="in_progress", progress=40, comment="x")
        for a in activities_in_scope(**scope)
    ]
    coordinator = _user("coord.ilo.scl")
    entries = [
        services.Entry(indicator=i, value=Decimal(FIGURES[i.measure]), comment="c")
        for i in indicators
    ]
    report = services.report_save(
        **slot, expected_version=0, entries=entries, activities=activities,
        narrative_es="n", narrative_en="n", actor=coordinator,
    )  # fmt: skip
    report = services.report_save(
        **slot, expected_version=report.version, entries=[], activities=activities,
        narrative_es="n", narrative_en="n", actor=coordinator, submit=True, in_scope=indicators,
    )  # fmt: skip
    report = services.report_approve(report=report, actor=_user("approver.ilo"))
    Deliverable.objects.create(
        programme=programme, activity=activities[0].activity, report=report,
        agency=scope["agency"], city=scope["city"], title_es="d", title_en="d",
        kind=Deliverable.Kind.STUDY, date=slot["period"].end_date,
    )  # fmt: skip
    return report


def _overspend(programme: Programme) -> BudgetLine:
    """An approved expenditure above its line's amount: a negative balance in the exports."""
    spent = Expenditure.objects.filter(
        line__programme=programme, line__view="line", status=Expenditure.Status.APPROVED
    ).select_related("line")
    expenditure = spent.first()
    assert expenditure is not None
    line = expenditure.line
    Expenditure.objects.filter(pk=expenditure.pk).update(amount=line.amount + Decimal("12345.67"))
    return line


@pytest.fixture
def poisoned(ciudades, settings):
    """Ciudades with a formula in every free-text field, an approved quarterly report with a
    deliverable, a questionnaire with answers, an overspent budget line; figures recomputed."""
    settings.SURVEY_RESPONSES_PER_HOUR_PER_ADDRESS = 100
    _approved_report(ciudades)
    kit = build_survey(ciudades, code="FORMULA-SAT")
    for n in range(3):
        phone = Client(REMOTE_ADDR=f"10.9.0.{n + 1}")
        response = phone.post(
            reverse("survey_public:open", args=[kit.key]), answers(q_comments=FORMULA)
        )
        assert response.status_code == 302
    # The questionnaire's city, sex and age attributes break its results down too.
    line = _overspend(ciudades)
    BudgetRevision.objects.create(
        line=line, old_amount=line.amount, new_amount=line.amount + 1, reason="r",
        status=BudgetRevision.Status.APPROVED, decided_at=timezone.now(),
    )  # fmt: skip
    from django.apps import apps

    fields = {label: poison(apps.get_model(label)) for label in POISONED_MODELS}
    assert fields["indicators.Indicator"] and fields["budgets.Expenditure"]
    recompute_budget(ciudades.pk)
    recompute_all()
    return kit


# ---- reading the files ---------------------------------------------------------------------


def is_number(text: str) -> bool:
    try:
        Decimal(text.replace(",", ""))
    except (InvalidOperation, ValueError):
        return False
    return bool(re.fullmatch(r"-?[0-9][0-9,]*(\.[0-9]+)?([eE][+-]?[0-9]+)?%?", text))


class Findings:
    """What the downloads hold: formulas, numbers written as text, and where the poisoned
    text was found (neutralised)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.marked: dict[str, int] = {}
        self.negatives: dict[str, int] = {}

    def csv(self, name: str, content: bytes) -> None:
        text = content.decode("utf-8-sig")
        dialect = csv.Sniffer().sniff(text[:2000], delimiters=",;") if text else csv.excel
        for r, row in enumerate(csv.reader(io.StringIO(text), dialect)):
            for c, cell in enumerate(row):
                self._cell(name, f"row {r + 1} col {c + 1}", cell)

    def _cell(self, name: str, where: str, cell: str) -> None:
        if MARK in cell or cell.startswith(SHORT):
            self.marked[name] = self.marked.get(name, 0) + 1
        if cell.startswith(FORMULA_STARTS) and not is_number(cell):
            self.problems.append(f"{name} {where}: a formula: {cell[:60]!r}")
        if cell.startswith("'") and is_number(cell[1:]):
            self.problems.append(f"{name} {where}: a number written as text: {cell!r}")
        if cell.startswith("-") and is_number(cell):
            self.negatives[name] = self.negatives.get(name, 0) + 1

    def xlsx(self, name: str, content: bytes) -> None:
        book = load_workbook(io.BytesIO(content))  # not read-only: the data types as stored
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    where = f"{sheet.title}!{cell.coordinate}"
                    value = cell.value
                    if cell.data_type == "f":
                        self.problems.append(f"{name} {where}: a formula: {str(value)[:60]!r}")
                        continue
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        if value < 0:
                            self.negatives[name] = self.negatives.get(name, 0) + 1
                        continue
                    if not isinstance(value, str):
                        continue
                    if MARK in value or value.lstrip("'").startswith(SHORT):
                        self.marked[name] = self.marked.get(name, 0) + 1
                    if is_number(value.lstrip("'")) and value.lstrip("'").startswith("-"):
                        self.problems.append(f"{name} {where}: a negative number as text")

    def json(self, name: str, content: bytes) -> None:
        """JSON is no spreadsheet: the text is kept exactly as it is."""
        if MARK.encode() in content:
            self.marked[name] = content.count(FORMULA.encode())
        if b"'" + FORMULA.encode() in content:
            self.problems.append(f"{name}: JSON text changed for spreadsheets")


def body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def download(findings: Findings, client: Client, name: str, url: str, **data: Any) -> None:
    response = client.post(url, data) if data.get("_post") else client.get(url, data)
    assert response.status_code == 200, (name, response.status_code)
    content = body(response)
    kind = response["Content-Type"].split(";")[0]
    if kind == "text/csv":
        findings.csv(name, content)
    elif kind.endswith("spreadsheetml.sheet"):
        findings.xlsx(name, content)
    elif kind == "application/json":
        findings.json(name, content)
    else:
        raise AssertionError(f"{name}: {kind} is no export")


def chart_downloads(
    findings: Findings, client: Client, prefix: str, url: str, **query: str
) -> list[str]:
    """The page, then every ``?download=`` it offers."""
    response = client.get(url, query)
    assert response.status_code == 200, (url, response.status_code)
    wanted = sorted(set(re.findall(r"download=([A-Za-z0-9_\-]+)", response.content.decode())))
    for chart in wanted:
        download(findings, client, f"{prefix} {chart}", url, **query, download=chart)
    return wanted


def export_page(findings: Findings, client: Client, kind: str, fmt: str, **filters: str) -> None:
    name = f"export {kind} {fmt} {filters or ''}".strip()
    url = reverse("exports:page", args=["CIUDADES"])
    response = client.post(url, {"kind": kind, "format": fmt, **filters})
    assert response.status_code == 200, (name, response.status_code)
    content = body(response)
    {"csv": findings.csv, "xlsx": findings.xlsx, "json": findings.json}[fmt](name, content)


# ---- the test ------------------------------------------------------------------------------


def test_no_export_holds_a_formula_and_numbers_stay_numbers(poisoned, ciudades, rco_viewer):
    findings = Findings()
    rco = Client(HTTP_ACCEPT_LANGUAGE="en")
    rco.force_login(rco_viewer)
    code = "CIUDADES"

    # The export page.
    for fmt in ("csv", "xlsx", "json"):
        export_page(findings, rco, "results", fmt)
    for table in ("figures", "lines", "revisions", "expenditures"):
        export_page(findings, rco, "budget", "csv", table=table)
    export_page(findings, rco, "budget", "xlsx")
    surveys = Survey.objects.filter(programme=ciudades).exclude(kind=Survey.Kind.ASSESSMENT)
    for survey in surveys:
        for fmt in ("csv", "xlsx"):
            export_page(findings, rco, "surveys", fmt, survey=survey.code)

    # The API: the same builders, through a token.
    _row, key = ApiToken.issue(
        user=rco_viewer, programme=ciudades, scope="read", days=1, name="formulas"
    )
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    download(findings, api, "api results csv", "/api/v1/results/", programme=code, format="csv")
    for fmt in ("csv", "xlsx"):
        download(findings, api, f"api export results {fmt}", "/api/v1/exports/results/", format=fmt)
        download(findings, api, f"api export budget {fmt}", "/api/v1/exports/budget/", format=fmt)
        download(
            findings, api, f"api export surveys {fmt}", "/api/v1/exports/surveys/",
            format=fmt, survey=poisoned.survey.code,
        )  # fmt: skip

    # Every chart's CSV on the dashboards, and each indicator's sources.
    charts = []
    for name in ("overview", "outcomes", "cities", "agencies", "compliance", "quality"):
        charts += chart_downloads(findings, rco, name, reverse(f"dashboards:{name}", args=[code]))
    for indicator in Indicator.objects.filter(programme=ciudades).order_by("code"):
        url = reverse("dashboards:indicator", args=[code, indicator.code])
        charts += chart_downloads(findings, rco, f"indicator {indicator.code}", url)
    charts += chart_downloads(findings, rco, "budget", reverse("budget:dashboard", args=[code]))
    for survey in Survey.objects.filter(programme=ciudades):
        if survey.kind == Survey.Kind.ASSESSMENT:
            url = reverse("survey_assessment:detail", args=[code, survey.code])
            charts += chart_downloads(findings, rco, f"assessment {survey.code}", url)
            continue
        args = [code, survey.code, survey.wave]
        charts += chart_downloads(
            findings, rco, f"survey {survey.code}", reverse("surveys:results", args=args)
        )
        download(
            findings, rco, f"survey {survey.code} csv", reverse("surveys:export_csv", args=args)
        )
        download(
            findings, rco, f"survey {survey.code} xlsx", reverse("surveys:export_xlsx", args=args)
        )
    assert "sources" in charts and len(charts) >= 30, charts

    # The deliverables, the budget upload's template, the quarterly report's workbook.
    download(
        findings, rco, "deliverables", reverse("activities:inventory", args=[code]), download="csv"
    )
    coordinator = Client(HTTP_ACCEPT_LANGUAGE="en")
    coordinator.force_login(_user("coord.ilo.cdmx"))
    download(
        findings, coordinator, "upload template",
        reverse("budget_entry:upload_template", args=[code]),
    )  # fmt: skip
    _draft_with_last_quarter(ciudades)
    download(
        findings, coordinator, "report workbook",
        reverse("reports:workbook", args=[code, "2023-Q2", "ILO", "CDMX"]),
    )  # fmt: skip

    by_file: dict[str, list[str]] = {}
    for problem in findings.problems:
        by_file.setdefault(problem.split(" row ")[0].split("!")[0].rsplit(" ", 1)[0], []).append(
            problem
        )
    assert not findings.problems, "\n".join(
        p[0] + f" (+{len(p) - 1} more)" for p in by_file.values()
    )
    # The poisoned text reached the files that show free text, neutralised.
    reached = set(findings.marked)
    for name in [
        "export results csv", "export results xlsx", "export results json",
        "export budget csv {'table': 'lines'}", "export budget csv {'table': 'revisions'}",
        "export budget csv {'table': 'expenditures'}", "export budget xlsx",
        "export surveys csv {'survey': 'FORMULA-SAT'}",
        "export surveys xlsx {'survey': 'FORMULA-SAT'}",
        "api results csv", "api export budget xlsx", "api export surveys csv",
        "indicator 1.4.A sources", "deliverables", "report workbook",
        "survey FORMULA-SAT csv", "survey FORMULA-SAT xlsx",
    ]:  # fmt: skip
        assert name in reached, (name, sorted(reached))
    assert any(n.startswith("assessment") for n in reached), sorted(reached)
    assert any(n.startswith(("overview", "outcomes", "cities", "agencies")) for n in reached)
    # Negative figures were there, and were numbers.
    for name in ("export budget csv {'table': 'lines'}", "export budget xlsx"):
        assert findings.negatives.get(name), (name, findings.negatives)


def _draft_with_last_quarter(programme: Programme) -> None:
    """The coordinator's draft for 2023-Q2 in Mexico City, with poisoned comments and
    narratives (the workbook shows them in its input cells)."""
    scope: dict[str, Any] = {
        "programme": programme,
        "agency": Agency.objects.get(code="ILO"),
        "city": City.objects.get(code="CDMX"),
    }
    indicators = indicators_in_scope(**scope)
    services.report_save(
        **scope,
        period=ReportingPeriod.objects.get(programme=programme, code="2023-Q2"),
        expected_version=0,
        entries=[
            services.Entry(indicator=i, value=Decimal(FIGURES[i.measure]), comment=FORMULA)
            for i in indicators
        ],
        narrative_es=FORMULA,
        narrative_en="@SUM(A1:A2)",
        actor=_user("coord.ilo.cdmx"),
    )


# ---- the shared rule, value by value --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("1-1", "1-1"),
        (" =1", " =1"),  # a leading space is no formula
        (-5, -5),
        (-5.5, -5.5),
        (Decimal("-5"), "-5"),
        (Decimal("-0.50"), "-0.5"),
        (None, ""),
    ],
)
def test_spreadsheet_safe_neutralises_text_and_keeps_numbers(value, written):
    assert spreadsheet_safe(value) == written


def test_the_results_json_keeps_names_as_stored(poisoned, ciudades, rco_viewer):
    """The results JSON is data for programs: indicator names come as they are stored."""
    rco = Client(HTTP_ACCEPT_LANGUAGE="en")
    rco.force_login(rco_viewer)
    response = rco.post(
        reverse("exports:page", args=["CIUDADES"]), {"kind": "results", "format": "json"}
    )
    data = json.loads(body(response))
    names = {row["indicator_name_en"] for row in data["results"]}
    assert names and all(n.startswith(FORMULA) for n in names), sorted(names)[:3]


def test_the_report_workbook_keeps_formula_like_text_as_text_through_a_round_trip(ciudades):
    """Names, comments and narratives starting with "=" used to be written as formulas (run
    by Excel on opening), and the unchanged workbook's upload was then refused ("formulas are
    not accepted"). They are text cells now, and text cells are read back as typed."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    _draft_with_last_quarter(ciudades)
    Indicator.objects.filter(programme=ciudades).update(name_en=FORMULA)
    coordinator = Client(HTTP_ACCEPT_LANGUAGE="en")
    coordinator.force_login(_user("coord.ilo.cdmx"))
    url = reverse("reports:workbook", args=["CIUDADES", "2023-Q2", "ILO", "CDMX"])
    response = coordinator.get(url)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    poisoned = [c for c in cells if isinstance(c.value, str) and MARK in c.value]
    assert len(poisoned) > 10
    assert {c.data_type for c in poisoned} == {"s"}
    assert not [c.coordinate for c in cells if c.data_type == "f"]

    upload = SimpleUploadedFile(
        "CIUDADES-2023-Q2-ILO-CDMX.xlsx",
        response.content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    answer = coordinator.post(
        reverse("reports:workbook_upload", args=["CIUDADES", "2023-Q2", "ILO", "CDMX"]),
        {"workbook": upload},
    )
    if answer.status_code != 302:
        errors = load_workbook(io.BytesIO(answer.content))["Errors"]
        raise AssertionError([r for r in errors.iter_rows(values_only=True) if any(r)])
    report = ProgressReport.objects.get(
        programme=ciudades, period__code="2023-Q2", agency__code="ILO", city__code="CDMX"
    )
    totals = report.values.filter(category__isnull=True)
    assert totals.exists() and {v.comment for v in totals} == {FORMULA}
    assert (report.narrative_es, report.narrative_en) == (FORMULA, "@SUM(A1:A2)")


def test_an_annotated_workbook_lists_its_problems_as_text(ciudades):
    """The sheet of errors a refused upload comes back with names each figure (a dimension's
    name may start with "="): text cells, never formulas."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from indicators.models import DisaggregationDimension

    DisaggregationDimension.objects.update(name_en=FORMULA)
    coordinator = Client(HTTP_ACCEPT_LANGUAGE="en")
    coordinator.force_login(_user("coord.ilo.cdmx"))
    slot = ["CIUDADES", "2023-Q2", "ILO", "CDMX"]
    book = load_workbook(
        io.BytesIO(coordinator.get(reverse("reports:workbook", args=slot)).content)
    )
    sheet = book["Figures"]
    bad = [r for r in range(5, sheet.max_row + 1) if MARK in str(sheet.cell(r, 3).value)]
    assert bad
    for row in bad:
        sheet.cell(row, 7).value = "many"  # not a figure
    out = io.BytesIO()
    book.save(out)
    upload = SimpleUploadedFile("CIUDADES-2023-Q2-ILO-CDMX.xlsx", out.getvalue())
    answer = coordinator.post(reverse("reports:workbook_upload", args=slot), {"workbook": upload})
    assert answer.status_code == 400
    errors = load_workbook(io.BytesIO(answer.content))["Errors"]
    cells = [c for row in errors.iter_rows() for c in row if c.value is not None]
    figures = [c for c in cells if MARK in str(c.value)]
    assert len(figures) >= len(bad)
    assert {c.data_type for c in figures} == {"s"}
