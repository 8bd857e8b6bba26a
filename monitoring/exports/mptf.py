"""The Migration MPTF annual (or final) progress report as DOCX, in the sections of the fund's
template (the Ciudades 2022 report): project information, executive summary, progress with
the Results Reporting Framework table, partnerships, cross-cutting issues, lessons,
challenges and risks, SDGs, budget, conclusion, annexes. The platform fills in what it knows
(names, dates, figures, budget); each narrative section carries an italic prompt for the
person who finishes the report.

Figures are approved data only, from the achievement engine's rollups. The final report's
cumulative, target and achievement are the life-of-programme rows of the tidy results table
(``result_rows``, as every donor export); a year's column is the engine's year to date at
the last figure inside that year (so quarterly reports add up into their reporting year); an
annual report's cumulative column is life to date as of the end of its year. Rows are
programme totals (all agencies); an indicator with no programme total (a city-specific one)
is shown per city. Budget and spending are the budget job's figures (approved expenditure
only)."""

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.oxml import OxmlElement
from docx.shared import Cm, Length, Pt
from docx.table import Table, _Cell

from budgets.models import BudgetFigure
from budgets.selectors import Where, budget_figures, execution_row, execution_rows, pick, timeline
from governance.selectors import RiskRow
from governance.selectors import risk_rows as governance_risk_rows
from indicators.models import Indicator, IndicatorSupersession, QualityIssue, Rollup, Status
from indicators.quality_text import Names, describe
from indicators.selectors.results import ALL, LOP, RESULT_COLUMNS, ResultQuery, result_rows
from monitoring.models import Outcome, Programme, ProgrammeAgency, ProgrammeCity, ReportingPeriod

from .stamp import ExportStamp, export_stamp

COL = {name: i for i, name in enumerate(RESULT_COLUMNS)}
Measure = Indicator.Measure
Check = QualityIssue.Check
# Findings about approved figures themselves (not about missing or late reports).
FIGURE_CHECKS = (
    Check.CELLS_SUM, Check.COMPONENTS_SUM, Check.COMPONENTS_UNITS, Check.COMPONENTS_UNSTATED,
    Check.UNWEIGHTED_MEAN, Check.SMALL_SAMPLE,
)  # fmt: skip
SMALL = Pt(8)


class NoSuchYear(ValueError):
    """The programme has no reporting year ending in the year asked for."""


@dataclass(frozen=True)
class ReportingYear:
    """A year column: the programme's reporting period of kind "year" (the fund's March to
    February year for Ciudades), else a calendar year, as the engine's year to date."""

    code: str
    name: str
    start: dt.date
    end: dt.date
    period: str | None  # the reporting period's code; None for a calendar year


def reporting_years(programme: Programme) -> list[ReportingYear]:
    periods = ReportingPeriod.objects.filter(programme=programme, kind=ReportingPeriod.Kind.YEAR)
    years = [ReportingYear(p.code, p.name, p.start_date, p.end_date, p.code) for p in periods]
    if years:
        return sorted(years, key=lambda y: (y.start, y.end))
    last = timeline(programme).end.year
    return [
        ReportingYear(str(n), str(n), dt.date(n, 1, 1), dt.date(n, 12, 31), None)
        for n in range(programme.start_date.year, last + 1)
    ]


def years_for(programme: Programme, year: int | None) -> list[ReportingYear]:
    """A report's year columns: all reporting years for the final report (``year`` None); for
    an annual report, the reporting year ending in ``year`` (the 2022 report of Ciudades
    covers March 2021 to February 2022)."""
    years = reporting_years(programme)
    if year is None:
        return years
    chosen = [y for y in years if y.end.year == year]
    if not chosen:
        raise NoSuchYear(
            _("The programme has no reporting year ending in %(year)s.") % {"year": year}
        )
    return chosen


def risk_rows(programme: Programme) -> list[RiskRow]:
    """The programme's risk register for the "Risks" table, in the active language. The
    report goes to the fund (a donor) whoever runs it, so only shareable risks."""
    return governance_risk_rows(programme, access=None)


# ---- figures -------------------------------------------------------------------------------


@dataclass
class Line:
    """A row of the results table: one indicator, programme-wide (``city`` ALL) or in one
    city when it has no programme total."""

    indicator: Indicator
    city: str
    city_name: str
    years: list[Decimal | None]
    baseline: Decimal | None = None
    cumulative: Decimal | None = None
    target: Decimal | None = None
    achievement: Decimal | None = None
    status: str = ""
    notes: list[str] = field(default_factory=list)

    def has_figures(self) -> bool:
        return self.cumulative is not None or any(v is not None for v in self.years)


Tidy = dict[tuple[str, str, str], tuple[Any, ...]]


def _tidy_rows(programme: Programme) -> Tidy:
    """Totals of the programme and of each city (all agencies, no cells), keyed by indicator
    code, city code (or ALL) and period code (or LOP)."""
    rows = result_rows(ResultQuery(programme, agency=ALL, cells=False))
    return {(r[COL["indicator"]], r[COL["city"]], r[COL["period"]]): r for r in rows}


def _to_date(programme: Programme, end: dt.date) -> dict[tuple[str, str], dict[str, Any]]:
    """Each programme and city total as it stood at ``end``: its newest rollup by then."""
    rows = (
        Rollup.objects.filter(
            programme=programme,
            scope__in=(Rollup.Scope.PROGRAMME, Rollup.Scope.CITY),
            agency__isnull=True,
            category__isnull=True,
            as_of__lte=end,
        )
        .order_by("-as_of", "-period_id")
        .values(
            "indicator__code",
            "city__code",
            "as_of",
            "baseline",
            "ltd_actual",
            "ltd_target",
            "ltd_achievement",
            "ltd_status",
            "ytd_actual",
        )
    )
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        out.setdefault((row["indicator__code"], row["city__code"] or ALL), dict(row))
    return out


def _year_figures(programme: Programme, year: ReportingYear) -> dict[tuple[str, str], Any]:
    """The figures of the year alone: the year to date of each figure's newest rollup inside
    the year (the year's own report, or its last quarter with data)."""
    return {
        key: row["ytd_actual"]
        for key, row in _to_date(programme, year.end).items()
        if row["as_of"] >= year.start
    }


def result_lines(programme: Programme, years: list[ReportingYear], *, final: bool) -> list[Line]:
    """The table's rows in framework order: active indicators always, superseded ones where
    they have figures. Cumulative: the life of the programme (``final``), else life to date
    at the end of the last year."""
    indicators = (
        Indicator.objects.filter(programme=programme)
        .prefetch_related(
            Prefetch(
                "successor_links",
                queryset=IndicatorSupersession.objects.select_related("successor"),
            )
        )
        .order_by("order", "code")
    )
    tidy = _tidy_rows(programme)
    by_year = [_year_figures(programme, y) for y in years]
    to_date = {} if final else _to_date(programme, years[-1].end)
    places: dict[str, set[str]] = {}
    for code, city, _period in tidy:
        places.setdefault(code, set()).add(city)
    city_names = {
        pc.city.code: pc.city.name
        for pc in ProgrammeCity.objects.filter(programme=programme).select_related("city")
    }
    issues = _issues(programme, None if final else years[-1].end)
    names = Names.for_programme(programme)  # queries only when a finding needs a name
    lines = []
    for ind in indicators:
        found = places.get(ind.code, set())
        for city in [ALL] if ALL in found or not found else sorted(found):
            key = (ind.code, city)
            line = Line(ind, city, city_names.get(city, ""), [f.get(key) for f in by_year])
            if final:
                _fill_from_tidy(line, tidy.get((*key, LOP)))
            else:
                _fill_from_rollup(line, to_date.get(key))
            if ind.is_active or line.has_figures():
                line.notes = _notes(line, issues.get(ind.pk, []), names)
                lines.append(line)
    return lines


def _fill_from_tidy(line: Line, row: tuple[Any, ...] | None) -> None:
    if row is not None:
        line.baseline, line.target = row[COL["baseline"]], row[COL["target"]]
        line.cumulative, line.achievement = row[COL["actual"]], row[COL["achievement_pct"]]
        line.status = row[COL["status"]]


def _fill_from_rollup(line: Line, row: dict[str, Any] | None) -> None:
    if row is not None:
        line.baseline, line.target = row["baseline"], row["ltd_target"]
        line.cumulative, line.achievement = row["ltd_actual"], row["ltd_achievement"]
        line.status = row["ltd_status"]


def _issues(programme: Programme, end: dt.date | None) -> dict[int, list[QualityIssue]]:
    """Findings about approved figures, per indicator; for an annual report, only those about
    periods that had ended by the end of its year."""
    out: dict[int, list[QualityIssue]] = {}
    for issue in (
        QualityIssue.objects.filter(
            programme=programme, indicator__isnull=False, kind__in=FIGURE_CHECKS
        )
        .select_related("period", "city")
        .order_by("id")
    ):
        if end is None or issue.period is None or issue.period.end_date <= end:
            out.setdefault(issue.indicator_id or 0, []).append(issue)
    return out


def _notes(line: Line, issues: list[QualityIssue], names: Names) -> list[str]:
    """The Notes column: status, what supersedes the indicator, data-quality findings."""
    notes = []
    if line.status:
        notes.append(_("Status: %(status)s.") % {"status": Status(line.status).label})
    else:
        notes.append(_("No approved figure."))
    successors = [link.successor.code for link in line.indicator.successor_links.all()]
    if successors:
        notes.append(_("Superseded by %(codes)s.") % {"codes": ", ".join(successors)})
    notes += [
        describe(issue, names)
        for issue in issues
        if line.city == ALL or issue.city is None or issue.city.code == line.city
    ]
    return notes


# ---- formatting ----------------------------------------------------------------------------


def number(value: Decimal | None, measure: str = Measure.COUNT) -> str:
    """A figure as people read it in the active language: 1,702,370; 94 %; yes."""
    if value is None:
        return ""
    if measure == Measure.YES_NO:
        return _("yes") if value else _("no")
    exponent = value.normalize().as_tuple().exponent
    places = min(-exponent, 2) if isinstance(exponent, int) and exponent < 0 else 0
    rounded = value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    text = formats.number_format(rounded, places, use_l10n=True, force_grouping=True)
    return f"{text} %" if measure == Measure.PERCENT else text


def percent(value: Decimal | None) -> str:
    return "" if value is None else f"{number(value.quantize(Decimal(1), ROUND_HALF_UP))} %"


def month(value: dt.date) -> str:
    return formats.date_format(value, "YEAR_MONTH_FORMAT")


def span(start: dt.date, end: dt.date) -> str:
    return f"{month(start)} – {month(end)}"


# ---- the document --------------------------------------------------------------------------


def build_mptf_report(
    programme: Programme,
    *,
    year: int | None = None,
    language: str = "en",
    stamp: ExportStamp | None = None,
) -> bytes:
    """The report as DOCX bytes: annual for the reporting year ending in ``year``, final (the
    whole programme) when ``year`` is None. Raises ``NoSuchYear`` when the programme has no
    reporting year ending in ``year``."""
    with translation.override(language):
        years = years_for(programme, year)
        stamp = stamp or export_stamp(programme)
        final = year is None
        doc = Document()
        _title(doc, programme, year)
        budget = _budget_rows(programme)
        _project_information(doc, programme, years, final, budget)
        _paragraph(doc, stamp.sentence(), italic=True)
        generated = formats.date_format(timezone.localtime(stamp.generated_at), "Y-m-d H:i")
        _paragraph(doc, _("Generated on %(date)s.") % {"date": generated}, italic=True)
        _narrative_start(doc, final)
        _results(doc, programme, years, final)
        _narrative_end(doc, programme, budget)
        buffer = io.BytesIO()
        doc.save(buffer)
        return buffer.getvalue()


def _paragraph(doc: DocxDocument, text: str, *, italic: bool = False, bold: bool = False) -> None:
    run = doc.add_paragraph().add_run(text)
    run.italic, run.bold = italic, bold


def _prompt(doc: DocxDocument, what: Any) -> None:
    """The italic placeholder that a person replaces with the narrative."""
    _paragraph(doc, _("[to be completed: %(what)s]") % {"what": what}, italic=True)


def _section(doc: DocxDocument, heading: Any, prompt: Any, level: int = 2) -> None:
    doc.add_heading(str(heading), level=level)
    _prompt(doc, prompt)


def _title(doc: DocxDocument, programme: Programme, year: int | None) -> None:
    if year is None:
        _paragraph(doc, _("Final Progress Report"), bold=True)
    else:
        _paragraph(doc, _("Annual Progress Report %(year)s") % {"year": year}, bold=True)
    doc.add_heading(_("Migration MPTF ANNUAL/FINAL PROGRESS REPORT"), level=0)
    _paragraph(doc, programme.short_name, bold=True)


def _table(doc: DocxDocument, rows: int, cols: int) -> Table:
    table = doc.add_table(rows=rows, cols=cols)
    table.style = doc.styles["Table Grid"]
    return table


def _set(cell: _Cell, text: str, *, size: Length | None = SMALL, bold: bool = False) -> None:
    cell.text = ""
    run = cell.paragraphs[0].add_run(text)  # "\n" becomes a line break
    run.bold = bold
    if size is not None:
        run.font.size = size


def _fill_row(table: Table, index: int, texts: Sequence[str], size: Length | None = None) -> None:
    for cell, text in zip(table.rows[index].cells, texts, strict=False):
        _set(cell, text, size=size)


def _header_row(table: Table, index: int) -> None:
    """Bold, and repeated at the top of every page the table runs onto."""
    row = table.rows[index]
    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell in row.cells:
        for run in (r for p in cell.paragraphs for r in p.runs):
            run.bold = True


def _project_information(
    doc: DocxDocument,
    programme: Programme,
    years: list[ReportingYear],
    final: bool,
    budget_rows: list[dict[str, Any]],
) -> None:
    agencies = list(
        ProgrammeAgency.objects.filter(programme=programme)
        .select_related("agency")
        .order_by("agency__code")
    )
    convening = [f"{a.agency.name} ({a.agency.acronym})" for a in agencies if a.is_convening]
    punos = [f"{a.agency.name} ({a.agency.acronym})" for a in agencies if not a.is_convening]
    time = timeline(programme)
    period = span(time.start, time.end)
    if time.extensions:
        n = len(time.extensions)
        period += " " + ngettext(
            "(originally until %(end)s; %(n)d no-cost extension)",
            "(originally until %(end)s; %(n)d no-cost extensions)",
            n,
        ) % {"end": month(time.original_end), "n": n}
    todo = _("[to be completed]")
    currency = programme.currency
    budget = _by_agency(budget_rows, "revised", currency) or number(programme.budget_total)
    rows = [
        (_("Joint Programme Title:"), programme.name),
        (_("Country(ies)/Region:"), _countries(programme)),
        (_("Project Identification Number:"), todo),
        (_("Convening UN Organization:"), "\n".join(convening) or todo),
        (_("PUNO(s):"), "\n".join(punos) or todo),
        (_("Key Partners (include Implementing Partner):"), todo),
        (_("Project Period (Start – End Dates):"), period),
        (_("Reporting Period:"), period if final else span(years[0].start, years[-1].end)),
        (_("Total Approved Migration MPTF Budget (breakdown by PUNO):"), budget),
        (
            _("Total Funds Received To Date (breakdown by PUNO):"),
            _by_agency(budget_rows, "transferred", currency) or todo,
        ),
        (_("Report Submission Date:"), todo),
        (_("Report Prepared by (Name, title, email):"), todo),
    ]
    table = _table(doc, len(rows) + 1, 2)
    table.cell(0, 0).merge(table.cell(0, 1))
    _fill_row(table, 0, [_("PROJECT INFORMATION")])
    _header_row(table, 0)
    for i, row in enumerate(rows, start=1):
        _fill_row(table, i, row)


def _countries(programme: Programme) -> str:
    """The countries, then the cities: "Chile; Mexico" and "Cities: Santiago, Mexico City"."""
    cities = list(
        ProgrammeCity.objects.filter(programme=programme)
        .select_related("city__country")
        .order_by("city__country__code", "city__code")
    )
    countries = dict.fromkeys(pc.city.country.name for pc in cities)
    names = "; ".join(pc.city.name for pc in cities)
    return "; ".join(countries) + "\n" + _("Cities: %(cities)s") % {"cities": names}


def _budget_rows(programme: Programme) -> list[dict[str, Any]]:
    """Each agency's budget figures, then the programme's as "Total" (none when the budget
    job has not run)."""
    figures = budget_figures(programme)
    total = pick(figures, Where())
    if total is None:
        return []
    rows = execution_rows(figures, Where(), BudgetFigure.Scope.AGENCY)
    transferred = {
        f.agency_id: f.transferred for f in figures if f.scope == BudgetFigure.Scope.AGENCY
    }
    for row in rows:
        row["transferred"] = transferred.get(row["agency_id"])
    return [
        *rows,
        {**execution_row(total), "agency_name": _("Total"), "transferred": total.transferred},
    ]


def _by_agency(rows: list[dict[str, Any]], key: str, currency: str) -> str:
    """One line per agency ("ILO: 700,850") and the total; empty when not known."""
    if not rows or rows[-1][key] is None:
        return ""
    text = "\n".join(f"{r['agency_name']}: {number(r[key])}" for r in rows)
    return f"{text} ({currency})"


# ---- narrative sections --------------------------------------------------------------------

# The template's sections, each with what its prompt asks for.
EXECUTIVE_SUMMARY = [
    (gettext_lazy("Key achievements so far"), gettext_lazy("the main achievements.")),
    (gettext_lazy("Outputs"), gettext_lazy("what the outputs delivered in the period.")),
    (gettext_lazy("Project Team"), gettext_lazy("recruitment, vacancies and team changes.")),
    (gettext_lazy("Communications"), gettext_lazy("communication strategy and products.")),
    (gettext_lazy("Partnerships"), gettext_lazy("new alliances and agreements.")),
]
CONTEXT = [
    (gettext_lazy("Context"), gettext_lazy("the political, migration and institutional context.")),
    (gettext_lazy("Project Revision"), gettext_lazy("revisions of budget, plan or indicators.")),
]
LATER = [
    (
        gettext_lazy("3. Partnerships"),
        gettext_lazy("work with governments, social partners, civil society and companies."),
    ),
    (
        gettext_lazy("4. Cross-Cutting Issues"),
        gettext_lazy("gender equality, human rights, age, disability and diversity."),
    ),
    (
        gettext_lazy("5. Innovation, Good Practices and Lessons Learned"),
        gettext_lazy("innovations, good practices and lessons learned."),
    ),
    (
        gettext_lazy("6. Challenges Encountered and Measures Taken"),
        gettext_lazy("the challenges of the period and how they were met."),
    ),
]


def _narrative_start(doc: DocxDocument, final: bool) -> None:
    doc.add_heading(_("Executive Summary"), level=1)
    for heading, prompt in EXECUTIVE_SUMMARY:
        _section(doc, heading, prompt)
    doc.add_heading(_("Final Progress") if final else _("Annual Progress"), level=1)
    _section(doc, _("1. Summary and Context"), _("the programme's objective and approach."))
    for heading, prompt in CONTEXT:
        _section(doc, heading, prompt, level=3)


def _narrative_end(
    doc: DocxDocument, programme: Programme, budget_rows: list[dict[str, Any]]
) -> None:
    for heading, prompt in LATER:
        _section(doc, heading, prompt)
    _risks(doc, programme)
    _section(
        doc,
        _("7. Contributions to the SDGs"),
        _("the SDG targets the programme contributes to, with the share of the budget."),
    )
    _budget(doc, programme, budget_rows)
    _section(doc, _("Conclusion and Next Steps"), _("conclusions and the plan ahead."))
    _section(doc, _("Annex"), _("the annexes and means of verification."))


def _risks(doc: DocxDocument, programme: Programme) -> None:
    doc.add_heading(_("Risks"), level=3)
    rows = risk_rows(programme)
    if not rows:
        _paragraph(doc, _("No risks are recorded in the platform."))
        _prompt(doc, _("the main risks, their likelihood and impact, and the measures taken."))
        return
    header = [_("Code"), _("Risk"), _("Category"), _("Likelihood"), _("Impact")]
    header += [_("Mitigation"), _("Responsible"), _("Status")]
    table = _table(doc, len(rows) + 1, len(header))
    _fill_row(table, 0, header, SMALL)
    _header_row(table, 0)
    for i, r in enumerate(rows, start=1):
        texts = [r.code, r.risk, r.category, r.likelihood, r.impact, r.mitigation, r.owner]
        _fill_row(table, i, [*texts, r.status], SMALL)


def _budget(doc: DocxDocument, programme: Programme, rows: list[dict[str, Any]]) -> None:
    doc.add_heading(_("8. Budget"), level=2)
    if not rows:
        _paragraph(doc, _("No budget figures have been computed yet."))
    else:
        header = [_("Agency"), _("Budget"), _("Spent"), _("Balance"), _("Execution")]
        table = _table(doc, len(rows) + 1, 7)
        _fill_row(table, 0, [*header, _("As of"), _("Notes")])
        _header_row(table, 0)
        for i, r in enumerate(rows, start=1):
            as_of = formats.date_format(r["as_of"], "Y-m-d") if r["as_of"] else ""
            figures = [number(r[k]) for k in ("revised", "spent", "balance")]
            missing = ngettext(
                "%(n)d budget line without reported expenditure.",
                "%(n)d budget lines without reported expenditure.",
                r["missing"],
            ) % {"n": r["missing"]}
            notes = missing if r["missing"] else ""
            texts = [r["agency_name"], *figures, percent(r["execution"]), as_of, notes]
            _fill_row(table, i, texts)
        _paragraph(
            doc,
            _(
                "Budget: the approved budget after revisions, in %(currency)s. Spent: approved "
                "expenditure to date as reported by the agencies (not only in the reporting "
                "period). Execution: spent as a share of the budget of the lines that reported."
            )
            % {"currency": programme.currency},
            italic=True,
        )
    _prompt(doc, _("budget revisions, variances and their reasons."))


# ---- the results ---------------------------------------------------------------------------


def _results(
    doc: DocxDocument, programme: Programme, years: list[ReportingYear], final: bool
) -> None:
    doc.add_heading(_("2. Results"), level=2)
    outcomes = list(
        Outcome.objects.filter(programme=programme)
        .order_by("order", "code")
        .prefetch_related("outputs")
    )
    for n, outcome in enumerate(outcomes, start=1):
        doc.add_heading(
            _("Outcome %(number)s: %(title)s") % {"number": n, "title": outcome.title}, level=3
        )
        _prompt(doc, _("progress towards the outcome in the period."))
        for output in outcome.outputs.all():
            heading = _("Output %(code)s: %(title)s") % {"code": output.code, "title": output.title}
            doc.add_heading(heading, level=4)
            _prompt(doc, _("what was done and achieved, per country."))
    _orientation(doc, landscape=True)
    doc.add_heading(_("Results Reporting Framework"), level=3)
    _framework_table(doc, outcomes, years, result_lines(programme, years, final=final), final)
    if any(y.period for y in years):
        _paragraph(doc, "; ".join(f"{y.code}: {y.name}" for y in years), italic=True)
    _paragraph(
        doc,
        _(
            "Approved figures: programme totals (all agencies and cities); an indicator with no "
            "programme total is shown per city. Superseded indicators are listed where they "
            "have figures."
        ),
        italic=True,
    )
    _orientation(doc, landscape=False)


def _orientation(doc: DocxDocument, *, landscape: bool) -> None:
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    wide = (section.page_width or 0) > (section.page_height or 0)
    if wide != landscape:
        section.page_width, section.page_height = section.page_height, section.page_width
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT


def _framework_table(
    doc: DocxDocument,
    outcomes: list[Outcome],
    years: list[ReportingYear],
    lines: list[Line],
    final: bool,
) -> None:
    table = _table(doc, 2, 7 + len(years))
    _framework_header(table, years, final)
    under: dict[tuple[int, int | None], list[Line]] = {}
    for line in lines:
        under.setdefault((line.indicator.outcome_id, line.indicator.output_id), []).append(line)
    for n, outcome in enumerate(outcomes, start=1):
        _group_row(table, _("OUTCOME %(number)s") % {"number": n}, outcome.title)
        for line in under.get((outcome.pk, None), []):
            _indicator_row(table, line)
        for output in outcome.outputs.all():
            _group_row(table, _("OUTPUT %(code)s") % {"code": output.code}, output.title)
            for line in under.get((outcome.pk, output.pk), []):
                _indicator_row(table, line)
    _widths(doc, table, len(years))


def _framework_header(table: Table, years: list[ReportingYear], final: bool) -> None:
    """Two header rows, as in the template: the year columns under one heading."""
    last_year = 2 + len(years)
    cumulative = (
        _("Cumulative results (life of programme)")
        if final
        else _("Cumulative results (to %(date)s)") % {"date": month(years[-1].end)}
    )
    cell = table.cell
    heads = {
        0: cell(0, 0).merge(cell(1, 1)),
        2: cell(0, 2).merge(cell(1, 2)),
        3: cell(0, 3).merge(cell(0, last_year)),
        **{col: cell(0, col).merge(cell(1, col)) for col in range(last_year + 1, last_year + 5)},
    }
    texts = [_("INDICATORS"), _("Baseline"), _("Results achieved for the reporting period")]
    texts += [cumulative, _("Target"), _("Achievement"), _("Notes")]
    for head, text in zip(heads.values(), texts, strict=True):
        _set(head, text, bold=True)
    for i, year in enumerate(years, start=3):
        _set(cell(1, i), year.code, bold=True)
    for row in table.rows:
        row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def _group_row(table: Table, label: str, title: str) -> None:
    """An outcome or output: its label in bold, its title across the row."""
    cells = table.add_row().cells
    cell = cells[0].merge(cells[-1])
    cell.text = ""
    for text, bold in ((label, True), (f"  {title}", False)):
        run = cell.paragraphs[0].add_run(text)
        run.bold, run.font.size = bold, SMALL


def _indicator_row(table: Table, line: Line) -> None:
    ind = line.indicator
    label = _("Indicator %(code)s") % {"code": ind.code}
    if line.city != ALL:
        label += f"\n{line.city_name}"
    table.add_row()
    texts = [
        label,
        ind.name,
        number(line.baseline, ind.measure),
        *(number(v, ind.measure) for v in line.years),
        number(line.cumulative, ind.measure),
        number(line.target, ind.measure),
        percent(line.achievement),
        "\n".join(line.notes),
    ]
    _fill_row(table, len(table.rows) - 1, texts, SMALL)


def _widths(doc: DocxDocument, table: Table, n_years: int) -> None:
    """Fixed columns for the figures; the notes take what is left of the page."""
    section = doc.sections[-1]
    usable = (section.page_width or 0) - (section.left_margin or 0) - (section.right_margin or 0)
    fixed = [Cm(1.9), Cm(6.5), Cm(1.6), *([Cm(1.6)] * n_years), Cm(1.9), Cm(1.6), Cm(1.7)]
    widths = [*fixed, Length(max(usable - sum(fixed), Cm(3)))]
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = width
