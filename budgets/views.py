"""The budget dashboard (DESIGN §5, §6): execution by agency and by agency × country, spending
against time, the budget by category, each outcome's budget beside its indicators' status,
and the budget's findings. Same conventions as the other dashboards (indicators.dashboards):
the programme's filters, figures as JSON drawn by the static script, each chart's rows as
CSV with ``?download=<chart>``, approved spending only, a fixed number of queries."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from indicators.dashboards import Page
from indicators.models import Status

from . import charts
from .models import BudgetFigure, BudgetFinding
from .permissions import sees_budget
from .selectors import (
    Categories,
    Timeline,
    Where,
    budget_figures,
    budget_names,
    category_breakdown,
    execution_rows,
    finding_rows,
    outcome_rows,
    pick,
    spending_rows,
    timeline,
)

Scope = BudgetFigure.Scope
EXECUTION_COLUMNS = [
    ("agency", "agency"),
    ("country", "country"),
    ("budget", "budget"),
    ("revised", "revised_budget"),
    ("spent", "spent"),
    ("balance", "balance"),
    ("execution", "execution_pct"),
    ("missing", "lines_without_expenditure"),
    ("as_of", "spent_as_of"),
]
SPENDING_COLUMNS = [
    ("agency", "agency"),
    ("date", "date"),
    ("spent", "spent_to_date"),
    ("lines_reported", "lines_reported"),
    ("even_pace", "budget_at_even_pace"),
    ("elapsed", "time_elapsed_pct"),
    ("budget", "budget"),
]
CATEGORY_COLUMNS = [
    ("agency", "agency"),
    ("category", "category"),
    ("category_name", "category_name"),
    ("amount", "budget"),
    ("share", "share_of_agency_pct"),
]
OUTCOME_COLUMNS = [
    ("outcome", "outcome"),
    ("budget", "budget"),
    ("share_of_budget", "share_of_budget_pct"),
    ("spent", "spent"),
    ("status", "status"),
    ("indicators", "indicators"),
    ("assessed", "assessed"),
    ("on_track_share", "on_track_pct"),
    *((s, s) for s in Status.values),
]


@login_required
@require_GET
def dashboard(request: HttpRequest, code: str) -> HttpResponse:
    page = Page(request, code, "budget")
    if not sees_budget(page.access):
        raise Http404
    where = Where.from_filters(page.filters)
    figures = budget_figures(page.programme)
    currency = page.programme.currency
    by_agency = _execution_charts(page, figures, where, currency)
    time = timeline(page.programme)
    spending = spending_rows(page.programme, where, by_agency, time)
    _burn_chart(page, spending, by_agency, time, currency)
    names = budget_names(page.lookups)
    findings = finding_rows(page.programme, where, names)
    categories = category_breakdown(page.programme, where)
    _category_chart(page, categories, findings, currency)
    outcomes = outcome_rows(page.programme, figures, page.lookups, page.filters)
    _outcome_chart(page, outcomes, currency)
    headline = pick(figures, where)
    return page.render(
        "budgets/dashboard.html",
        headline=headline,
        timeline=time,
        where=where,
        country_name=names["country"].get(where.country_id or 0, ""),
        categories=categories,
        category_table=_category_table(categories),
        outcomes=outcomes,
        findings=findings,
        execution_charts=[c for c in page.charts if c.id.startswith("execution-")],
        computed_at=min((f.computed_at for f in figures), default=None),
    )


def _execution_charts(
    page: Page, figures: list[BudgetFigure], where: Where, currency: str
) -> list[dict[str, Any]]:
    """Execution by agency and by agency × country; returns the agencies' rows."""
    by_agency = execution_rows(figures, where, Scope.AGENCY)
    by_place = execution_rows(figures, where, Scope.AGENCY_COUNTRY)
    for chart_id, title, rows in (
        ("execution-by-agency", _("Budget and spending, per agency"), by_agency),
        ("execution-by-agency-country", _("Budget and spending, per agency and country"), by_place),
    ):
        figure = charts.build_execution_figure(rows, title, currency)
        page.chart(chart_id, title, figure, rows, EXECUTION_COLUMNS)
    return by_agency


def _burn_chart(
    page: Page,
    spending: list[dict[str, Any]],
    plans: list[dict[str, Any]],
    time: Timeline,
    currency: str,
) -> None:
    marks = [(time.original_end, _("original end"))] if time.extensions else []
    marks += [
        (e.new_end_date, _("extension %(number)s (+%(months)s months)")
         % {"number": e.number, "months": e.months})
        for e in time.extensions
    ]  # fmt: skip
    title = _("Spending against time")
    figure = charts.build_burn_figure(
        spending,
        plans,
        start=time.start,
        end=time.end,
        marks=marks,
        title=title,
        currency=currency,
    )
    page.chart("spending-over-time", title, figure, spending, SPENDING_COLUMNS)


def _category_chart(
    page: Page,
    categories: Categories,
    findings: list[tuple[BudgetFinding, str]],
    currency: str,
) -> None:
    warnings = [text for f, text in findings if f.kind == BudgetFinding.Check.INDIRECT_CEILING]
    title = _("Budget by category, per agency")
    figure = charts.build_category_figure(categories.rows, title, currency, warnings)
    page.chart("budget-by-category", title, figure, categories.rows, CATEGORY_COLUMNS)


def _category_table(categories: Categories) -> dict[str, Any]:
    """Categories down, agencies across, for the table under the chart."""
    agencies = list(dict.fromkeys(r["agency_name"] for r in categories.rows))
    cells: dict[str, dict[str, Any]] = {}
    for r in categories.rows:
        entry = cells.setdefault(r["category"], {"name": r["category_name"], "amounts": {}})
        entry["amounts"][r["agency_name"]] = r["amount"]
    body = [
        {
            "name": entry["name"],
            "amounts": [entry["amounts"].get(a) for a in agencies],
            "total": sum(v for v in entry["amounts"].values()),
        }
        for entry in cells.values()
    ]
    totals = [sum(r["amount"] for r in categories.rows if r["agency_name"] == a) for a in agencies]
    return {"agencies": agencies, "body": body, "totals": totals, "total": sum(totals)}


def _outcome_chart(page: Page, rows: list[dict[str, Any]], currency: str) -> None:
    title = _("Budget and achievement, per outcome")
    csv_rows = [{**r, **{s: r["counts"].get(s, 0) for s in Status.values}} for r in rows]
    figure = charts.build_outcome_budget_figure(rows, title, currency)
    page.chart("budget-by-outcome", title, figure, csv_rows, OUTCOME_COLUMNS)
