"""Dashboard pages (DESIGN §5). Each view: fetch the programme for the viewer, read the
filters, read rollup rows, build figures, render; ``?download=<chart>`` returns the chart's
rows as CSV. A fixed number of queries per page, whatever the data."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from budgets.selectors import Where, headline_figure
from monitoring.exports import csv_response
from monitoring.models import Programme
from monitoring.selectors import programme_get_for_user

from . import charts
from .forms import DashboardFilterForm
from .models import Indicator, IndicatorSupersession, QualityIssue, Status
from .permissions import access_for
from .quality_text import Names, describe
from .selectors.compliance import compliance_grid
from .selectors.history import indicator_history
from .selectors.lookups import ProgrammeLookups
from .selectors.rollups import Filters, Scope, issues_by_indicator, last_computed, rollup_rows
from .selectors.sources import source_values
from .status import indicator_statuses, summarise

ADDITIVE = {Indicator.Measure.COUNT, Indicator.Measure.AMOUNT}
SOURCE_LIMIT = 60  # source values listed on the indicator page; the CSV has them all
ROW_COLUMNS = [
    ("code", "indicator"),
    ("name", "name"),
    ("city", "city"),
    ("agency", "agency"),
    ("category", "disaggregation"),
    ("period", "as_of_period"),
    ("as_of", "as_of"),
    ("actual", "actual"),
    ("target", "target"),
    ("expected", "expected"),
    ("achievement", "achievement_pct"),
    ("status", "status"),
    ("method", "method"),
    ("n_values", "source_values"),
    ("computed_at", "computed_at"),
]
SERIES_COLUMNS = [
    ("code", "indicator"),
    ("city", "city"),
    ("agency", "agency"),
    ("period", "period"),
    ("as_of", "as_of"),
    ("period_actual", "actual_in_period"),
    ("period_target", "period_target"),
    ("ytd_actual", "year_to_date"),
    ("ytd_target", "year_target"),
    ("actual", "to_date"),
    ("target", "target"),
    ("expected", "expected"),
    ("achievement", "achievement_pct"),
    ("status", "status"),
    ("method", "method"),
    ("n_values", "source_values"),
]


@dataclass
class Chart:
    id: str
    title: str
    figure: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    columns: list[tuple[str, str]] = field(default_factory=lambda: ROW_COLUMNS)


class Page:
    """What every dashboard page shares: the programme, the filters and the charts."""

    def __init__(self, request: HttpRequest, code: str, name: str) -> None:
        self.request = request
        self.programme: Programme = programme_get_for_user(user=request.user, code=code)
        self.access = access_for(request.user, self.programme)
        self.lookups = ProgrammeLookups(self.programme)
        self.form = DashboardFilterForm(self.programme, request.GET or None, lookups=self.lookups)
        self.filters: Filters = self.form.filters()
        self.name = name
        self.charts: list[Chart] = []

    def chart(
        self,
        chart_id: str,
        title: str,
        figure: Any,
        rows: list[dict[str, Any]],
        columns: list[tuple[str, str]] | None = None,
    ) -> Chart:
        chart = Chart(chart_id, title, charts.figure_json(figure), rows, columns or ROW_COLUMNS)
        self.charts.append(chart)
        return chart

    def download(self) -> HttpResponse | None:
        wanted = self.request.GET.get("download")
        for chart in self.charts:
            if chart.id == wanted:
                header = [c[1] for c in chart.columns]
                body = ([row.get(key) for key, _ in chart.columns] for row in chart.rows)
                return csv_response(f"{self.programme.code}-{chart.id}", header, body)
        return None

    def render(self, template: str, **context: Any) -> HttpResponse:
        return self.download() or render(
            self.request,
            template,
            {
                "programme": self.programme,
                "form": self.form,
                "filters": self.filters,
                "page": self.name,
                "charts": {c.id: c for c in self.charts},
                "query": self.request.GET.urlencode(),
                "computed_at": last_computed(self.programme),
                "only_approved": self.access.only_approved,
                **context,
            },
        )


def _with_city_figures(page: Page, indicators: list[Indicator]) -> list[dict[str, Any]]:
    """Rows for the page's scope; without a city or agency filter, city-specific indicators
    (no programme total) are shown by their cities."""
    scope = page.filters.scope()
    rows = rollup_rows(page.programme, scopes=(scope,), filters=page.filters)
    if scope != Scope.PROGRAMME:
        return rows
    covered = {r["indicator_id"] for r in rows}
    city_only = {i.pk for i in indicators if i.place_rule == Indicator.PlaceRule.NONE} - covered
    extra = rollup_rows(
        page.programme, scopes=(Scope.CITY,), filters=page.filters, indicator_ids=city_only
    )
    for r in extra:
        r["label"] = f"{r['code']} ({r['city']})"
    return sorted(rows + extra, key=lambda r: (r["order"], r["code"], r["city"] or ""))


def _active_indicators(page: Page) -> list[Indicator]:
    qs = Indicator.objects.filter(programme=page.programme, is_active=True).select_related(
        "outcome"
    )
    if page.filters.outcome:
        qs = qs.filter(outcome=page.filters.outcome)
    return list(qs.order_by("order", "code"))


@login_required
@require_GET
def overview(request: HttpRequest, code: str) -> HttpResponse:
    page = Page(request, code, "overview")
    f, p = page.filters, page.programme
    indicators = _active_indicators(page)
    programme_rows = (
        [] if (f.city or f.agency) else rollup_rows(p, scopes=(Scope.PROGRAMME,), filters=f)
    )
    scope: int = f.scope() if (f.city or f.agency) else Scope.CITY
    city_rows = rollup_rows(p, scopes=(scope,), filters=f)
    statuses = indicator_statuses(indicators, programme_rows, city_rows)
    thresholds = {"on_track": p.on_track_threshold, "at_risk": p.at_risk_threshold}
    overall = summarise(statuses.values(), **thresholds)
    by_outcome: dict[Any, list[str]] = defaultdict(list)
    for i in indicators:
        by_outcome[i.outcome].append(statuses[i.pk])
    outcome_groups = [
        {
            "label": f"{o.code} — {o.title[:60]}",
            "code": o.code,
            "summary": summarise(s, **thresholds),
        }
        for o, s in sorted(by_outcome.items(), key=lambda kv: (kv[0].order, kv[0].code))
    ]
    by_city: dict[str, list[str]] = defaultdict(list)
    for r in rollup_rows(p, scopes=(Scope.CITY,), filters=f) if scope != Scope.CITY else city_rows:
        by_city[r["city_name"]].append(r["status"])
    city_groups: list[dict[str, Any]] = [
        {"label": c, "summary": summarise(s, **thresholds)} for c, s in by_city.items()
    ]
    page.chart(
        "status-by-outcome",
        _("Indicators by status, per outcome"),
        charts.build_status_by_group_figure(
            [
                {"label": g["code"], "title": g["label"], "counts": g["summary"].counts}
                for g in outcome_groups
            ],
            _("Indicators by status, per outcome"),
        ),
        [
            {"group": g["code"], **{s: g["summary"].counts.get(s, 0) for s in Status.values}}
            for g in outcome_groups
        ],
        [("group", "outcome"), *((s, s) for s in Status.values)],
    )
    page.chart(
        "status-by-city",
        _("Indicators by status, per city"),
        charts.build_status_by_group_figure(
            [{"label": g["label"], "counts": g["summary"].counts} for g in city_groups],
            _("Indicators by status, per city"),
        ),
        [
            {"group": g["label"], **{s: g["summary"].counts.get(s, 0) for s in Status.values}}
            for g in city_groups
        ],
        [("group", "city"), *((s, s) for s in Status.values)],
    )
    grid = compliance_grid(p, lookups=page.lookups)
    return page.render(
        "dashboards/overview.html",
        overall=overall,
        outcome_groups=outcome_groups,
        city_groups=city_groups,
        indicators=indicators,
        statuses=statuses,
        compliance=grid.summary(),
        issue_count=QualityIssue.objects.filter(programme=p).count(),
        budget=headline_figure(p, Where.from_filters(f)),  # the one budget query
    )


@login_required
@require_GET
def outcomes(request: HttpRequest, code: str) -> HttpResponse:
    page = Page(request, code, "outcomes")
    indicators = _active_indicators(page)
    rows = _with_city_figures(page, indicators)
    issues = issues_by_indicator(page.programme)
    for r in rows:
        r["issues"] = issues.get(r["indicator_id"], 0)
    groups = []
    for outcome in sorted({i.outcome for i in indicators}, key=lambda o: (o.order, o.code)):
        ids = {i.pk for i in indicators if i.outcome_id == outcome.pk}
        mine = [r for r in rows if r["indicator_id"] in ids]
        title = _("Outcome %(code)s: achievement against target") % {"code": outcome.code}
        chart = page.chart(
            f"outcome-{slugify(outcome.code)}",
            title,
            charts.build_achievement_figure(mine, title),
            mine,
        )
        groups.append((outcome, chart, mine))
    return page.render("dashboards/outcomes.html", groups=groups)


@login_required
@require_GET
def cities(request: HttpRequest, code: str) -> HttpResponse:
    page = Page(request, code, "cities")
    f = page.filters
    scope = Scope.CITY_AGENCY if f.agency else Scope.CITY
    rows = rollup_rows(
        page.programme,
        scopes=(scope,),
        filters=Filters(agency=f.agency, outcome=f.outcome, period=f.period),
    )
    title = _("Achievement against target, per city")
    page.chart("cities", title, charts.build_city_comparison_figure(rows, title), rows)
    table: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = table.setdefault(
            r["code"],
            {"code": r["code"], "name": r["name"], "indicator_id": r["indicator_id"], "cities": {}},
        )
        entry["cities"][r["city"]] = r
    city_list = page.lookups.cities
    return page.render("dashboards/cities.html", table=list(table.values()), city_list=city_list)


@login_required
@require_GET
def agencies(request: HttpRequest, code: str) -> HttpResponse:
    page = Page(request, code, "agencies")
    f = page.filters
    scope = Scope.CITY_AGENCY if f.city else Scope.AGENCY
    rows = [
        r
        for r in rollup_rows(
            page.programme,
            scopes=(scope,),
            filters=Filters(city=f.city, outcome=f.outcome, period=f.period),
        )
        if r["measure"] in ADDITIVE
    ]
    total_scope = Scope.CITY if f.city else Scope.PROGRAMME
    totals_rows = rollup_rows(
        page.programme,
        scopes=(total_scope,),
        filters=Filters(city=f.city, outcome=f.outcome, period=f.period),
    )
    totals = {r["code"]: r["actual"] for r in totals_rows if r["measure"] in ADDITIVE}
    title = _("What each agency contributed, per indicator")
    page.chart(
        "agencies", title, charts.build_agency_contributions_figure(rows, totals, title), rows
    )
    by_indicator: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_indicator.setdefault(
            r["code"],
            {
                "code": r["code"],
                "name": r["name"],
                "indicator_id": r["indicator_id"],
                "agencies": {},
                "total": totals.get(r["code"]),
            },
        )
        entry["agencies"][r["agency"]] = r
    methods = {r["code"]: r["method"] for r in totals_rows}
    for entry in by_indicator.values():
        entry["method"] = methods.get(entry["code"], "")
        gross = sum((a["actual"] or 0) for a in entry["agencies"].values())
        entry["gross"] = gross
    agency_list = page.lookups.agencies
    return page.render(
        "dashboards/agencies.html", table=list(by_indicator.values()), agency_list=agency_list
    )


@login_required
@require_GET
def indicator_detail(request: HttpRequest, code: str, indicator_code: str) -> HttpResponse:
    page = Page(request, code, "indicator")
    indicator = get_object_or_404(
        Indicator.objects.select_related("outcome", "output").prefetch_related(
            "cities", "dimensions"
        ),
        programme=page.programme,
        code=indicator_code,
    )
    f = page.filters
    scope = f.scope()
    if scope == Scope.PROGRAMME and indicator.place_rule == Indicator.PlaceRule.NONE:
        scope = Scope.CITY  # city-specific: show its cities
    series = rollup_rows(
        page.programme, scopes=(scope,), filters=f, latest=False, indicator=indicator
    )
    cells = rollup_rows(page.programme, scopes=(scope,), filters=f, cells=True, indicator=indicator)
    headline = [r for r in cells if r["category_id"] is None]
    cell_rows = [r for r in cells if r["category_id"] is not None]
    for label, rows in _by_place(series).items():
        title = _("%(code)s over time") % {"code": indicator.code} + (
            f" — {label}" if label else ""
        )
        target = next((r["target"] for r in headline if _place(r) == label), None)
        figure = charts.build_indicator_series_figure(
            rows,
            target=target,
            title=title,
            cumulative=indicator.time_rule == Indicator.TimeRule.SUM,
        )
        page.chart(f"series-{slugify(label) or 'all'}", title, figure, rows, SERIES_COLUMNS)
    if indicator.dimensions.all() or cell_rows:
        title = _("%(code)s by disaggregation") % {"code": indicator.code}
        page.chart("cells", title, charts.build_disaggregation_figure(cell_rows, title), cell_rows)
    sources = source_values(indicator, f)
    if request.GET.get("download") == "sources":
        return csv_response(
            f"{page.programme.code}-{indicator.code}-sources",
            [
                "period",
                "city",
                "agency",
                "cell",
                "value",
                "numerator",
                "denominator",
                "provenance",
                "source",
                "approved_at",
            ],
            (
                [
                    v.report.period.code,
                    v.report.city.code if v.report.city else "ALL",
                    v.report.agency.code if v.report.agency else "JOINT",
                    v.category.cell if v.category else "total",
                    v.value,
                    v.numerator,
                    v.denominator,
                    v.provenance,
                    v.source,
                    v.report.approved_at,
                ]
                for v in sources.iterator(chunk_size=2000)
            ),
        )
    # The most recent values on the page; all of them in the CSV.
    recent = list(sources.reverse()[:SOURCE_LIMIT])[::-1]
    for v in recent:
        v.indicator = indicator
    names = Names(page.lookups)
    issues = [
        (i, describe(i, names))
        for i in QualityIssue.objects.filter(programme=page.programme, indicator=indicator)
    ]
    links = IndicatorSupersession.objects.filter(
        Q(predecessor=indicator) | Q(successor=indicator)
    ).select_related("predecessor", "successor")
    return page.render(
        "dashboards/indicator.html",
        indicator=indicator,
        headline=headline,
        sources=recent,
        source_count=sources.count(),
        issues=issues,
        predecessors=[link for link in links if link.successor_id == indicator.pk],
        successors=[link for link in links if link.predecessor_id == indicator.pk],
        history=indicator_history(indicator, page.access),
    )


def _place(row: dict[str, Any]) -> str:
    return " · ".join(x for x in (row.get("city_name"), row.get("agency_name")) if x)


def _by_place(series: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in series:
        out.setdefault(_place(r), []).append(r)
    return out or {"": []}


@login_required
@require_GET
def compliance(request: HttpRequest, code: str) -> HttpResponse:
    page = Page(request, code, "compliance")
    grid = compliance_grid(
        page.programme,
        city=page.filters.city,
        agency=page.filters.agency,
        lookups=page.lookups,
    )
    title = _("Quarterly reports, per agency and city")
    page.chart(
        "compliance",
        title,
        charts.build_compliance_figure(
            grid.reporter_labels, grid.period_labels, grid.cells, grid.state_labels(), title
        ),
        grid.rows(),
        [("reporter", "agency_city"), ("period", "period"), ("state", "state"), ("due", "due")],
    )
    return page.render("dashboards/compliance.html", grid=grid)


@login_required
@require_GET
def quality(request: HttpRequest, code: str) -> HttpResponse:
    page = Page(request, code, "quality")
    names = Names(page.lookups)
    issues = (
        QualityIssue.objects.filter(programme=page.programme)
        .select_related("indicator")
        .order_by("kind", "indicator_id", "period_id")
    )
    if page.filters.city:
        issues = issues.filter(city=page.filters.city)
    if page.filters.agency:
        issues = issues.filter(agency=page.filters.agency)
    grouped: dict[str, list] = defaultdict(list)
    for issue in issues:
        grouped[issue.get_kind_display()].append((issue, issue.indicator, describe(issue, names)))
    return page.render("dashboards/quality.html", grouped=sorted(grouped.items()))
