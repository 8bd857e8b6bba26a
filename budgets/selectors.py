"""Reads for the budget dashboard (DESIGN §5, §6), as plain rows: the figures the budget job
wrote from approved expenditures, the category breakdown of the budget, the approved
spending over time, the outcomes' budget beside their indicators' status, and the findings.
A fixed number of queries, whatever the data; nothing here sees a draft or submitted
expenditure."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from indicators.models import Indicator, Rollup
from indicators.selectors.lookups import ProgrammeLookups
from indicators.selectors.rollups import Filters, rollup_rows
from indicators.status import indicator_statuses, summarise
from monitoring.models import Country, Programme

from .checks import describe
from .figures import elapsed_share, line_spend
from .models import BudgetCategory, BudgetFigure, BudgetFinding, BudgetLine, Expenditure
from .models import NoCostExtension as Extension

Scope = BudgetFigure.Scope
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Where:
    """The place a budget page is about: an agency, a country, both or neither. Budgets are
    kept per country, so a city filter means its country."""

    agency_id: int | None = None
    country_id: int | None = None

    @classmethod
    def from_filters(cls, filters: Filters) -> "Where":
        return cls(
            agency_id=filters.agency.pk if filters.agency else None,
            country_id=filters.city.country_id if filters.city else None,
        )

    def scope(self) -> str:
        if self.agency_id and self.country_id:
            return Scope.AGENCY_COUNTRY
        if self.agency_id:
            return Scope.AGENCY
        return Scope.COUNTRY if self.country_id else Scope.PROGRAMME

    def covers(self, agency_id: int | None, country_id: int | None) -> bool:
        """A row of this agency and country falls inside the filters; an unset key on the
        row (a programme-wide finding, a category split without country) is not excluded."""
        return (not self.agency_id or agency_id in (None, self.agency_id)) and (
            not self.country_id or country_id in (None, self.country_id)
        )


def headline_figure(programme: Programme, where: Where = Where()) -> BudgetFigure | None:
    """The figure of the filters' scope, in one query (the overview's tile)."""
    # ``agency=None`` matches IS NULL: without that filter, the figure not kept per agency.
    return BudgetFigure.objects.filter(
        programme=programme,
        scope=where.scope(),
        agency=where.agency_id,
        country=where.country_id,
    ).first()


def budget_figures(programme: Programme) -> list[BudgetFigure]:
    """Every figure but cost per result, with the names shown beside them."""
    return list(
        BudgetFigure.objects.filter(programme=programme)
        .exclude(scope=Scope.OUTPUT)
        .select_related("agency", "country", "category", "outcome")
        .order_by("scope", "agency__code", "country__code", "category__order", "outcome__order")
    )


def pick(figures: list[BudgetFigure], where: Where) -> BudgetFigure | None:
    return next(
        (
            f
            for f in figures
            if f.scope == where.scope()
            and f.agency_id == where.agency_id
            and f.country_id == where.country_id
        ),
        None,
    )


def execution_row(f: BudgetFigure) -> dict[str, Any]:
    agency = f.agency.acronym if f.agency else ""
    country = f.country.name if f.country else ""
    return {
        "agency_id": f.agency_id,
        "agency": f.agency.code if f.agency else "",
        "agency_name": agency,
        "country": f.country.code if f.country else "",
        "country_name": country,
        "label": " · ".join(x for x in (agency, country) if x),
        "budget": f.budget,
        "revised": f.revised,
        "spent": f.spent,
        "balance": f.balance,
        "execution": f.execution,
        "elapsed": f.elapsed,
        "burn": f.burn,
        "missing": f.missing_expenditure,
        "as_of": f.spent_as_of,
    }


def execution_rows(figures: list[BudgetFigure], where: Where, scope: str) -> list[dict[str, Any]]:
    """Agency or agency × country rows inside the filters; with a country chosen, each
    agency's figure is its figure in that country."""
    if scope == Scope.AGENCY and where.country_id:
        scope = Scope.AGENCY_COUNTRY
    return [
        execution_row(f)
        for f in figures
        if f.scope == scope and f.agency_id and where.covers(f.agency_id, f.country_id)
    ]


@dataclass
class Timeline:
    start: dt.date
    original_end: dt.date
    end: dt.date
    extensions: list[Extension] = field(default_factory=list)


def timeline(programme: Programme) -> Timeline:
    """The programme's dates, its end moved by its no-cost extensions."""
    extensions = list(Extension.objects.filter(programme=programme).order_by("number"))
    end = max([programme.end_date, *(e.new_end_date for e in extensions)])
    first = extensions[0].previous_end_date if extensions else None
    return Timeline(programme.start_date, first or programme.end_date, end, extensions)


def spending_rows(
    programme: Programme, where: Where, plans: list[dict[str, Any]], time: Timeline
) -> list[dict[str, Any]]:
    """Each agency's approved spending to date at every date it reported, beside its budget
    spent evenly from start to end. ``plans``: the agencies' execution rows."""
    approved = Expenditure.objects.filter(
        line__programme=programme,
        line__view=BudgetLine.View.LINE,
        status=Expenditure.Status.APPROVED,
    ).select_related("period", "line")
    if where.agency_id:
        approved = approved.filter(line__agency_id=where.agency_id)
    if where.country_id:
        approved = approved.filter(line__country_id=where.country_id)
    by_agency: dict[int, dict[int, list[Expenditure]]] = defaultdict(lambda: defaultdict(list))
    for e in approved:
        by_agency[e.line.agency_id][e.line_id].append(e)
    rows = []
    for plan in plans:
        lines = by_agency.get(plan["agency_id"], {})
        for day in sorted({e.as_of for reported in lines.values() for e in reported}):
            rows.append(_point(plan, lines, day, time))
    return rows


def _point(
    plan: dict[str, Any], lines: dict[int, list[Expenditure]], day: dt.date, time: Timeline
) -> dict[str, Any]:
    """What the agency had spent by ``day`` (each line as it stood then, by the same rule
    as the figures) and what an even pace would have spent."""
    spends = [line_spend([e for e in reported if e.as_of <= day]) for reported in lines.values()]
    spent = sum((s.spent for s in spends if s.spent is not None), Decimal(0))
    share = elapsed_share(time.start, time.end, day)
    revised = plan["revised"] or Decimal(0)
    return {
        "agency": plan["agency"],
        "agency_name": plan["agency_name"],
        "date": day,
        "spent": spent,
        "lines_reported": sum(1 for s in spends if s.spent is not None),
        "budget": revised,
        "even_pace": (revised * share / HUNDRED).quantize(Decimal(1), ROUND_HALF_UP),
        "elapsed": share,
    }


@dataclass
class Categories:
    """The budget by category, per agency: from the lines when they carry categories, else
    from the category split (which has no country)."""

    rows: list[dict[str, Any]]
    from_split: bool
    indirect: list[dict[str, Any]]


def category_breakdown(programme: Programme, where: Where) -> Categories:
    lines = list(
        BudgetLine.objects.filter(programme=programme, category__isnull=False)
        .select_related("agency", "category")
        .order_by("agency__code", "category__scheme", "category__order", "category__code")
    )
    real = [ln for ln in lines if ln.view == BudgetLine.View.LINE]
    chosen = real or [ln for ln in lines if ln.view == BudgetLine.View.CATEGORY_SPLIT]
    chosen = [ln for ln in chosen if where.covers(ln.agency_id, ln.country_id)]
    sums: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for ln in chosen:
        sums[(ln.agency_id, ln.category_id or 0)] += ln.amount
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for (agency_id, _), amount in sums.items():
        totals[agency_id] += amount
    seen: dict[tuple[int, int], BudgetLine] = {}
    for ln in chosen:
        seen.setdefault((ln.agency_id, ln.category_id or 0), ln)
    rows = [_category_row(ln, sums[key], totals[key[0]]) for key, ln in seen.items()]
    return Categories(rows, from_split=not real, indirect=_indirect_shares(rows))


def _category_row(line: BudgetLine, amount: Decimal, total: Decimal) -> dict[str, Any]:
    category = line.category
    assert category is not None  # only lines with a category are read
    return {
        "agency": line.agency.code,
        "agency_name": line.agency.acronym,
        "category": category.code,
        "category_name": category.name,
        "amount": amount,
        "share": _share(amount, total),
        "indirect": category.is_indirect,
    }


def _share(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (part * HUNDRED / whole).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _indirect_shares(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each agency's indirect support costs as a share of its direct costs (the fund's
    ceiling is on that ratio, as in budgets.checks)."""
    out = []
    for agency in dict.fromkeys(r["agency"] for r in rows):
        mine = [r for r in rows if r["agency"] == agency]
        indirect = sum((r["amount"] for r in mine if r["indirect"]), Decimal(0))
        direct = sum((r["amount"] for r in mine), Decimal(0)) - indirect
        if indirect:
            out.append(
                {"agency": agency, "agency_name": mine[0]["agency_name"], "indirect": indirect,
                 "direct": direct, "share": _share(indirect, direct)}
            )  # fmt: skip
    return out


def outcome_rows(
    programme: Programme,
    figures: list[BudgetFigure],
    lookups: ProgrammeLookups,
    filters: Filters,
) -> list[dict[str, Any]]:
    """Per outcome: its budget (the programme's, from the figures) beside the status of its
    indicators, summarised as on the overview (programme figures, else the worst city)."""
    outcomes = [o for o in lookups.outcomes if not filters.outcome or o == filters.outcome]
    indicators = list(
        Indicator.objects.filter(programme=programme, is_active=True, outcome__in=outcomes).only(
            "pk", "outcome_id"
        )
    )
    wanted = Filters(outcome=filters.outcome, period=filters.period)
    statuses = indicator_statuses(
        indicators,
        rollup_rows(programme, scopes=(Rollup.Scope.PROGRAMME,), filters=wanted),
        rollup_rows(programme, scopes=(Rollup.Scope.CITY,), filters=wanted),
    )
    budgets = {f.outcome_id: f for f in figures if f.scope == Scope.OUTCOME}
    total = pick(figures, Where())
    thresholds = {"on_track": programme.on_track_threshold, "at_risk": programme.at_risk_threshold}
    rows = []
    for outcome in outcomes:
        mine = [statuses[i.pk] for i in indicators if i.outcome_id == outcome.pk]
        summary = summarise(mine, **thresholds)
        f = budgets.get(outcome.pk)
        rows.append(
            {"outcome": outcome.code, "title": outcome.title,
             "budget": f.revised if f else None, "spent": f.spent if f else None,
             "execution": f.execution if f else None,
             "share_of_budget": _share(f.revised if f else None, total.revised if total else None),
             "status": summary.status, "on_track_share": summary.share_on_track,
             "indicators": summary.total, "assessed": summary.assessed, "counts": summary.counts}
        )  # fmt: skip
    return rows


def budget_names(lookups: ProgrammeLookups) -> dict[str, dict[int, str]]:
    """Agency, country and category names in the active language, as ``checks.describe``
    wants them."""
    countries = Country.objects.filter(cities__in=[c.pk for c in lookups.cities]).distinct()
    return {
        "agency": {a.pk: a.acronym for a in lookups.agencies},
        "country": {c.pk: c.name for c in countries},
        "category": {c.pk: c.name for c in BudgetCategory.objects.all()},
    }


def finding_rows(
    programme: Programme, where: Where, names: dict[str, dict[int, str]]
) -> list[tuple[BudgetFinding, str]]:
    """The budget's findings inside the filters, each with its sentence in the active
    language. Findings about the programme's printed totals (no agency, no country) belong
    to the unfiltered page only."""
    findings = BudgetFinding.objects.filter(programme=programme).order_by("kind", "id")
    filtered = bool(where.agency_id or where.country_id)
    return [
        (f, describe(f, names))
        for f in findings
        if where.covers(f.agency_id, f.country_id)
        and not (filtered and not f.agency_id and not f.country_id)
    ]
