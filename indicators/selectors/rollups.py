"""Reads of the rollup table for dashboards: plain rows (dicts), a fixed number of queries,
never raw values. "As of" a period means: for each figure, the latest row up to that
period's end."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from monitoring.bilingual import active_content_language
from monitoring.models import Agency, City, Outcome, Programme, ReportingPeriod

from ..models import Indicator, QualityIssue, Rollup

Scope = Rollup.Scope

ROW_FIELDS = (
    "indicator_id", "scope", "as_of", "period_id", "city_id", "agency_id", "category_id",
    "baseline", "method", "n_values", "computed_at",
)  # fmt: skip
# A row's headline is its life-to-date figure; the period's own and the year's are beside it.
RENAMED = {
    "ltd_actual": "actual", "ltd_numerator": "numerator", "ltd_denominator": "denominator",
    "ltd_target": "target", "ltd_expected": "expected", "ltd_achievement": "achievement",
    "ltd_pace": "pace", "ltd_status": "status",
    "actual": "period_actual", "numerator": "period_numerator",
    "denominator": "period_denominator", "target": "period_target",
    "achievement": "period_achievement", "status": "period_status",
    "ytd_actual": "ytd_actual", "ytd_target": "ytd_target", "ytd_expected": "ytd_expected",
    "ytd_achievement": "ytd_achievement", "ytd_status": "ytd_status",
}  # fmt: skip
NAMED = {
    "indicator__code": "code",
    "indicator__order": "order",
    "indicator__measure": "measure",
    "indicator__outcome_id": "outcome_id",
    "city__code": "city",
    "agency__code": "agency",
    "period__code": "period",
    "category__code": "category",
    "category__dimension__code": "dimension",
}
BILINGUAL = {
    "indicator__name": "name",
    "indicator__unit": "unit",
    "city__name": "city_name",
    "agency__acronym": "agency_name",
    "period__name": "period_name",
    "category__name": "category_name",
}


@dataclass(frozen=True)
class Filters:
    """What a dashboard shows: a city, an agency, an outcome, and the period figures are
    as of (None: the latest)."""

    city: City | None = None
    agency: Agency | None = None
    outcome: Outcome | None = None
    period: ReportingPeriod | None = None

    @property
    def as_of(self) -> dt.date | None:
        return self.period.end_date if self.period else None

    def scope(self) -> int:
        """The scope whose rows answer these filters."""
        if self.city and self.agency:
            return Scope.CITY_AGENCY
        if self.city:
            return Scope.CITY
        if self.agency:
            return Scope.AGENCY
        return Scope.PROGRAMME


def _values_fields() -> list[str]:
    lang = active_content_language()
    return [*ROW_FIELDS, *RENAMED, *NAMED, *(f"{k}_{lang}" for k in BILINGUAL)]


def _as_row(raw: dict[str, Any]) -> dict[str, Any]:
    lang = active_content_language()
    row = {k: raw[k] for k in ROW_FIELDS}
    row.update({new: raw[old] for old, new in RENAMED.items()})
    row.update({new: raw[old] for old, new in NAMED.items()})
    row.update({new: raw[f"{old}_{lang}"] or "" for old, new in BILINGUAL.items()})
    return row


def rollup_rows(
    programme: Programme,
    *,
    scopes: tuple[int, ...],
    filters: Filters = Filters(),
    cells: bool = False,
    latest: bool = True,
    indicator: Indicator | None = None,
    indicator_ids: set[int] | None = None,
) -> list[dict[str, Any]]:
    """Rollup rows of active indicators (all indicators when ``indicator`` is given), one
    query. ``latest``: one row per figure, the newest as of the filters' period; otherwise
    every as-of row (a series over time)."""
    qs = Rollup.objects.filter(programme=programme, scope__in=scopes)
    if indicator is not None:
        qs = qs.filter(indicator=indicator)
    else:
        qs = qs.filter(indicator__is_active=True)
    if indicator_ids is not None:
        qs = qs.filter(indicator_id__in=indicator_ids)
    if not cells:
        qs = qs.filter(category__isnull=True)
    if filters.as_of:
        qs = qs.filter(as_of__lte=filters.as_of)
    if filters.city and any(s in (Scope.CITY, Scope.CITY_AGENCY) for s in scopes):
        qs = qs.filter(city=filters.city)
    if filters.agency and any(s in (Scope.AGENCY, Scope.CITY_AGENCY) for s in scopes):
        qs = qs.filter(agency=filters.agency)
    if filters.outcome:
        qs = qs.filter(indicator__outcome=filters.outcome)
    if latest:
        qs = qs.annotate(
            newest=Window(
                RowNumber(),
                partition_by=[
                    F("indicator_id"),
                    F("scope"),
                    F("city_id"),
                    F("agency_id"),
                    F("category_id"),
                ],
                order_by=[F("as_of").desc(), F("period_id").desc()],
            )
        ).filter(newest=1)
    qs = qs.order_by(
        "indicator__order",
        "indicator__code",
        "as_of",
        "city__code",
        "agency__code",
        "category__dimension__order",
        "category__order",
    )
    return [_as_row(raw) for raw in qs.values(*_values_fields())]


def issues_by_indicator(programme: Programme) -> dict[int, int]:
    """How many data-quality issues each indicator has (to mark its figures)."""
    counts: dict[int, int] = {}
    for indicator_id in QualityIssue.objects.filter(
        programme=programme, indicator__isnull=False
    ).values_list("indicator_id", flat=True):
        counts[indicator_id] = counts.get(indicator_id, 0) + 1
    return counts


def last_computed(programme: Programme) -> dt.datetime | None:
    row = (
        Rollup.objects.filter(programme=programme)
        .order_by("-computed_at")
        .values("computed_at")
        .first()
    )
    return row["computed_at"] if row else None
