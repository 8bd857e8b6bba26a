"""Reads of indicators, targets and approved values, scoped to a programme the viewer may
see (the caller fetches the programme with ``programme_get_for_user``)."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from monitoring.models import City, Programme

from ..models import Indicator, IndicatorSupersession, IndicatorValue, ProgressReport, Target

ALL = "ALL"  # the scope key of programme-wide figures, as in the tidy export


@dataclass
class ScopeCell:
    """What the framework table shows for one indicator in one scope (a city or ALL)."""

    in_scope: bool
    target: Target | None = None
    latest: list[IndicatorValue] = field(default_factory=list)

    @property
    def latest_period(self) -> str:
        return self.latest[0].report.period.name if self.latest else ""


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


def _latest_totals(programme: Programme) -> dict[tuple[int, str], list[IndicatorValue]]:
    """For each indicator × scope, the approved totals of the most recent period that has any
    (one per agency that reported in it; a joint report has no agency)."""
    rows = (
        approved_values(programme=programme)
        .filter(category__isnull=True)
        .select_related("report__period", "report__agency", "report__city", "indicator")
        .order_by(
            "-report__period__end_date", "-report__period__start_date", "report__agency__code"
        )
    )
    latest: dict[tuple[int, str], list[IndicatorValue]] = defaultdict(list)
    for value in rows:
        key = (value.indicator_id, value.report.city.code if value.report.city else ALL)
        chosen = latest[key]
        if not chosen or chosen[0].report.period_id == value.report.period_id:
            chosen.append(value)
    return latest


def framework_rows(*, programme: Programme, cities: list[City]) -> list[IndicatorRow]:
    """Every indicator of the programme with its life-of-programme targets and latest approved
    values, per city and for the programme as a whole. A fixed number of queries."""
    targets: dict[tuple[int, str], Target] = {}
    for target in Target.objects.filter(
        indicator__programme=programme,
        period__isnull=True,
        category__isnull=True,
        agency__isnull=True,
    ).select_related("city"):
        targets[(target.indicator_id, target.city.code if target.city else ALL)] = target
    latest = _latest_totals(programme)
    rows = []
    for indicator in indicators_for_programme(programme=programme):
        scope_codes = {c.code for c in indicator.cities.all()}
        programme_wide = indicator.place_rule != Indicator.PlaceRule.NONE or len(scope_codes) > 1
        cells = {ALL: ScopeCell(in_scope=programme_wide)}
        for city in cities:
            cells[city.code] = ScopeCell(in_scope=city.code in scope_codes)
        for key, cell in cells.items():
            cell.target = targets.get((indicator.pk, key))
            cell.latest = latest.get((indicator.pk, key), [])
        rows.append(
            IndicatorRow(
                indicator=indicator,
                cells=cells,
                predecessors=list(indicator.predecessor_links.all()),
                successors=list(indicator.successor_links.all()),
            )
        )
    return rows
