"""Reads of indicators, targets and approved values, scoped to a programme the viewer may
see (the caller fetches the programme with ``programme_get_for_user``)."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber

from monitoring.bilingual import active_content_language
from monitoring.models import City, Programme

from ..models import (
    Indicator,
    IndicatorSupersession,
    IndicatorValue,
    ProgressReport,
    Rollup,
    Target,
)

ALL = "ALL"  # the scope key of programme-wide figures, as in the tidy export


@dataclass
class ScopeCell:
    """What the framework table shows for one indicator in one scope (a city or ALL): the
    life-of-programme target and the latest approved figure to date (from the rollups)."""

    in_scope: bool
    target: Target | None = None
    actual: Decimal | None = None
    latest_period: str = ""
    status: str = ""


@dataclass
class IndicatorRow:
    indicator: Indicator
    cells: dict[str, ScopeCell]
    predecessors: list[IndicatorSupersession]
    successors: list[IndicatorSupersession]


def indicators_for_programme(*, programme: Programme) -> QuerySet[Indicator]:
    return (
        Indicator.objects.filter(programme=programme)
        .select_related("outcome", "output")
        .prefetch_related(
            "cities",
            "dimensions",
            "responsible_agencies",
            Prefetch(
                "successor_links",
                queryset=IndicatorSupersession.objects.select_related("successor"),
            ),
            Prefetch(
                "predecessor_links",
                queryset=IndicatorSupersession.objects.select_related("predecessor"),
            ),
        )
        .order_by("-is_active", "order", "code")
    )


def approved_values(*, programme: Programme) -> QuerySet[IndicatorValue]:
    """Values of approved or validated reports only: what every audience may see."""
    return IndicatorValue.objects.filter(
        report__programme=programme, report__status__in=ProgressReport.APPROVED_STATUSES
    )


def _latest_figures(programme: Programme) -> dict[tuple[int, str], dict[str, Any]]:
    """For each indicator × scope (a city code or ALL), its latest figure to date."""
    lang = active_content_language()
    rows = (
        Rollup.objects.filter(
            programme=programme,
            scope__in=[Rollup.Scope.PROGRAMME, Rollup.Scope.CITY],
            category__isnull=True,
        )
        .annotate(
            newest=Window(
                RowNumber(),
                partition_by=[F("indicator_id"), F("scope"), F("city_id")],
                order_by=[F("as_of").desc(), F("period_id").desc()],
            )
        )
        .filter(newest=1)
        .values("indicator_id", "city__code", "ltd_actual", "ltd_status", f"period__name_{lang}")
    )
    return {
        (r["indicator_id"], r["city__code"] or ALL): {
            "actual": r["ltd_actual"],
            "status": r["ltd_status"],
            "period": r[f"period__name_{lang}"],
        }
        for r in rows
    }


def framework_rows(*, programme: Programme, cities: list[City]) -> list[IndicatorRow]:
    """Every indicator of the programme with its life-of-programme targets and latest approved
    figures to date, per city and for the programme as a whole. A fixed number of queries."""
    targets: dict[tuple[int, str], Target] = {}
    for target in Target.objects.filter(
        indicator__programme=programme,
        period__isnull=True,
        category__isnull=True,
        agency__isnull=True,
    ).select_related("city"):
        targets[(target.indicator_id, target.city.code if target.city else ALL)] = target
    latest = _latest_figures(programme)
    rows = []
    for indicator in indicators_for_programme(programme=programme):
        scope_codes = {c.code for c in indicator.cities.all()}
        programme_wide = indicator.place_rule != Indicator.PlaceRule.NONE or len(scope_codes) > 1
        cells = {ALL: ScopeCell(in_scope=programme_wide)}
        for city in cities:
            cells[city.code] = ScopeCell(in_scope=city.code in scope_codes)
        for key, cell in cells.items():
            cell.target = targets.get((indicator.pk, key))
            figure = latest.get((indicator.pk, key))
            if figure:
                cell.actual, cell.status = figure["actual"], figure["status"]
                cell.latest_period = figure["period"]
        rows.append(
            IndicatorRow(
                indicator=indicator,
                cells=cells,
                predecessors=list(indicator.predecessor_links.all()),
                successors=list(indicator.successor_links.all()),
            )
        )
    return rows
