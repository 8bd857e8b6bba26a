"""Data-quality checks (DESIGN §4, issue 3): each check is one query that returns only the
cases it flags; the findings replace the previous ones for the same scope.

Value checks look at approved values (the figures that count); report checks look at the
reporting obligations of each agency in each city."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from monitoring.models import Programme, ReportingPeriod

from ..models import (
    DisaggregationDimension,
    Indicator,
    IndicatorValue,
    ProgressReport,
    QualityIssue,
    Rollup,
    ValueComponent,
)
from ..selectors.compliance import expected_reporters

Check = QualityIssue.Check
APPROVED = ProgressReport.APPROVED_STATUSES
SMALL_SAMPLE = 30
# Two timestamps written by the same save differ by microseconds; a real change is later.
SAME_SAVE = dt.timedelta(seconds=1)
TOLERANCE = Decimal("0.5")


def _num(x: Any) -> str:
    """A number for ``details``: exact, without trailing zeros."""
    d = Decimal(x).normalize() if x is not None else None
    return "" if d is None else f"{d:f}"


def _issue(kind: str, programme_id: int, now: dt.datetime, **fields: Any) -> QualityIssue:
    details = fields.pop("details", {})
    return QualityIssue(
        kind=kind, programme_id=programme_id, details=details, detected_at=now, **fields
    )


def _approved(indicator_ids: list[int] | None, programme_ids: list[int]) -> Q:
    q = Q(report__status__in=APPROVED, report__programme_id__in=programme_ids)
    if indicator_ids is not None:
        q &= Q(indicator_id__in=indicator_ids)
    return q


def check_cells(
    indicator_ids: list[int] | None, programme_ids: list[int], now: dt.datetime
) -> list[QualityIssue]:
    """Count indicators: the cells of one dimension must add up to the total."""
    where = ["r.status IN ('approved', 'validated')", "i.measure = 'count'"]
    params: list[Any] = []
    where.append("r.programme_id IN (" + ",".join(["%s"] * len(programme_ids)) + ")")
    params += programme_ids
    # A check of some indicators sums only their cells, not every value in the database.
    cell_where, cell_params = "", []
    if indicator_ids is not None:
        indicators = "(" + ",".join(["%s"] * len(indicator_ids)) + ")"
        where.append(f"t.indicator_id IN {indicators}")
        params += indicator_ids
        cell_where, cell_params = f"WHERE v.indicator_id IN {indicators}", list(indicator_ids)
    params = cell_params + params  # the subquery's placeholders come first
    query = f"""
        SELECT t.id, t.report_id, t.indicator_id, r.programme_id, r.period_id, r.city_id,
               r.agency_id, c.dim, t.value, c.cells
        FROM indicators_indicatorvalue t
        JOIN indicators_progressreport r ON r.id = t.report_id
        JOIN indicators_indicator i ON i.id = t.indicator_id
        JOIN (SELECT v.report_id, v.indicator_id, k.dimension_id AS dim, SUM(v.value) AS cells
              FROM indicators_indicatorvalue v
              JOIN indicators_disaggregationcategory k ON k.id = v.category_id
              {cell_where}
              GROUP BY v.report_id, v.indicator_id, k.dimension_id) c
          ON c.report_id = t.report_id AND c.indicator_id = t.indicator_id
        WHERE t.category_id IS NULL AND t.value IS NOT NULL AND c.cells <> t.value
          AND {" AND ".join(where)}
    """  # noqa: S608 (placeholders only)
    dims = dict(DisaggregationDimension.objects.values_list("pk", "code"))
    issues = []
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for vid, rid, iid, pid, period, city, agency, dim, total, cells in cursor.fetchall():
            issues.append(
                _issue(
                    Check.CELLS_SUM,
                    pid,
                    now,
                    value_id=vid,
                    report_id=rid,
                    indicator_id=iid,
                    period_id=period,
                    city_id=city,
                    agency_id=agency,
                    details={
                        "dimension": dims.get(dim, ""),
                        "total": _num(total),
                        "cells": _num(cells),
                        "difference": _num(Decimal(cells) - Decimal(total)),
                    },
                )
            )
    return issues


def check_components(
    indicator_ids: list[int] | None, programme_ids: list[int], now: dt.datetime
) -> list[QualityIssue]:
    """A total against the parts its source says it is made of: their sum, their units, and
    parts given without a figure."""
    parts = (
        ValueComponent.objects.filter(
            value__report__status__in=APPROVED, value__report__programme_id__in=programme_ids
        )
        .select_related("value__report")
        .order_by("value_id", "order")
    )
    if indicator_ids is not None:
        parts = parts.filter(value__indicator_id__in=indicator_ids)
    by_value: dict[int, list[ValueComponent]] = defaultdict(list)
    for part in parts:
        by_value[part.value_id].append(part)
    issues = []
    for value_id, group in by_value.items():
        value = group[0].value
        report = value.report
        where = dict(
            value_id=value_id,
            report_id=report.pk,
            indicator_id=value.indicator_id,
            period_id=report.period_id,
            city_id=report.city_id,
            agency_id=report.agency_id,
        )
        stated = [p.amount for p in group if p.amount is not None]
        units = sorted({(p.unit_en or "").strip() for p in group if (p.unit_en or "").strip()})
        units_es = sorted({(p.unit_es or "").strip() for p in group if (p.unit_es or "").strip()})
        if len(units) > 1:
            issues.append(
                _issue(
                    Check.COMPONENTS_UNITS,
                    report.programme_id,
                    now,
                    **where,
                    details={"units_en": units, "units_es": units_es, "total": _num(value.value)},
                )
            )
        missing = len(group) - len(stated)
        if missing:
            issues.append(
                _issue(
                    Check.COMPONENTS_UNSTATED,
                    report.programme_id,
                    now,
                    **where,
                    details={
                        "missing": missing,
                        "parts": len(group),
                        "stated_sum": _num(sum(stated, Decimal(0))),
                    },
                )
            )
        if (
            stated
            and value.value is not None
            and abs(sum(stated, Decimal(0)) - value.value) > TOLERANCE
        ):
            total = sum(stated, Decimal(0))
            issues.append(
                _issue(
                    Check.COMPONENTS_SUM,
                    report.programme_id,
                    now,
                    **where,
                    details={
                        "total": _num(value.value),
                        "sum": _num(total),
                        "difference": _num(total - value.value),
                        "parts": len(stated),
                    },
                )
            )
    return issues


def check_unweighted(
    indicator_ids: list[int] | None, programme_ids: list[int], now: dt.datetime
) -> list[QualityIssue]:
    """Percentages combined without their parts: the engine's unweighted fallback, and a
    reported programme figure that is the plain mean of the cities' figures."""
    rows = Rollup.objects.filter(
        programme_id__in=programme_ids,
        category__isnull=True,
        indicator__measure=Indicator.Measure.PERCENT,
        scope__in=[Rollup.Scope.PROGRAMME, Rollup.Scope.CITY],
    ).order_by("indicator_id", "as_of")
    if indicator_ids is not None:
        rows = rows.filter(indicator_id__in=indicator_ids)
    latest: dict[int, dict[str, Any]] = {}
    for row in rows.values(
        "indicator_id",
        "programme_id",
        "scope",
        "city__code",
        "as_of",
        "period_id",
        "ltd_actual",
        "ltd_denominator",
        "method",
    ):
        entry = latest.setdefault(row["indicator_id"], {"programme": None, "cities": {}})
        if row["scope"] == Rollup.Scope.PROGRAMME:
            entry["programme"] = row
        else:
            entry["cities"][row["city__code"]] = row
    issues = []
    for indicator_id, entry in latest.items():
        prog = entry["programme"]
        if prog is None:
            continue
        cities = [c for c in entry["cities"].values() if c["as_of"] <= prog["as_of"]]
        base = dict(indicator_id=indicator_id, period_id=prog["period_id"])
        if prog["method"] == Rollup.Method.UNWEIGHTED:
            issues.append(
                _issue(
                    Check.UNWEIGHTED_MEAN,
                    prog["programme_id"],
                    now,
                    **base,
                    details={
                        "value": _num(prog["ltd_actual"]),
                        "reported": False,
                        "cities": {c["city__code"]: _num(c["ltd_actual"]) for c in cities},
                    },
                )
            )
        elif (
            prog["method"] == Rollup.Method.REPORTED
            and len(cities) > 1
            and all(c["ltd_denominator"] is None for c in cities)
        ):
            mean = sum((Decimal(c["ltd_actual"]) for c in cities), Decimal(0)) / len(cities)
            if abs(mean - Decimal(prog["ltd_actual"])) <= TOLERANCE:
                issues.append(
                    _issue(
                        Check.UNWEIGHTED_MEAN,
                        prog["programme_id"],
                        now,
                        **base,
                        details={
                            "value": _num(prog["ltd_actual"]),
                            "reported": True,
                            "cities": {c["city__code"]: _num(c["ltd_actual"]) for c in cities},
                        },
                    )
                )
    return issues


def check_small_samples(
    indicator_ids: list[int] | None, programme_ids: list[int], now: dt.datetime
) -> list[QualityIssue]:
    values = IndicatorValue.objects.filter(
        _approved(indicator_ids, programme_ids),
        denominator__lt=SMALL_SAMPLE,
        indicator__measure=Indicator.Measure.PERCENT,
    ).select_related("report")
    return [
        _issue(
            Check.SMALL_SAMPLE,
            v.report.programme_id,
            now,
            value_id=v.pk,
            report_id=v.report_id,
            indicator_id=v.indicator_id,
            period_id=v.report.period_id,
            city_id=v.report.city_id,
            agency_id=v.report.agency_id,
            details={"value": _num(v.value), "respondents": _num(v.denominator)},
        )
        for v in values
    ]


def check_changed_after_approval(
    indicator_ids: list[int] | None, programme_ids: list[int], now: dt.datetime
) -> list[QualityIssue]:
    values = (
        IndicatorValue.objects.filter(_approved(indicator_ids, programme_ids))
        .filter(updated_at__gt=F("report__approved_at") + SAME_SAVE)
        .filter(updated_at__gt=F("created_at") + SAME_SAVE)
        .select_related("report")
    )
    return [
        _issue(
            Check.CHANGED_AFTER_APPROVAL,
            v.report.programme_id,
            now,
            value_id=v.pk,
            report_id=v.report_id,
            indicator_id=v.indicator_id,
            period_id=v.report.period_id,
            city_id=v.report.city_id,
            agency_id=v.report.agency_id,
            details={
                "changed": v.updated_at.isoformat(),
                "approved": v.report.approved_at.isoformat() if v.report.approved_at else None,
            },
        )
        for v in values
    ]


def check_reports(programme_ids: list[int], now: dt.datetime) -> list[QualityIssue]:
    """Quarterly reports missing after their due date, or submitted late."""
    today = timezone.localdate(now)
    issues = []
    for programme in Programme.objects.filter(pk__in=programme_ids):
        pairs = expected_reporters(programme)
        periods = list(
            ReportingPeriod.objects.filter(
                programme=programme,
                kind=ReportingPeriod.Kind.QUARTER,
                due_date__lt=today,
                end_date__gte=programme.start_date,
                start_date__lte=programme.end_date,
            )
        )
        reports = {
            (r.agency_id, r.city_id, r.period_id): r
            for r in ProgressReport.objects.filter(
                programme=programme, agency__isnull=False, period__in=periods
            )
        }
        for period in periods:
            for agency_id, city_id in sorted(pairs):
                report = reports.get((agency_id, city_id, period.pk))
                where = dict(period_id=period.pk, agency_id=agency_id, city_id=city_id)
                unsubmitted = (ProgressReport.Status.DRAFT, ProgressReport.Status.RETURNED)
                if report is None or report.status in unsubmitted:
                    issues.append(
                        _issue(
                            Check.REPORT_MISSING,
                            programme.pk,
                            now,
                            report_id=report.pk if report else None,
                            **where,
                            details={"due": period.due_date.isoformat()},
                        )
                    )
                elif (
                    report.submitted_at
                    and timezone.localdate(report.submitted_at) > period.due_date
                ):
                    issues.append(
                        _issue(
                            Check.REPORT_LATE,
                            programme.pk,
                            now,
                            report_id=report.pk,
                            **where,
                            details={
                                "due": period.due_date.isoformat(),
                                "submitted": timezone.localdate(report.submitted_at).isoformat(),
                            },
                        )
                    )
    return issues


VALUE_CHECKS = (
    check_cells,
    check_components,
    check_unweighted,
    check_small_samples,
    check_changed_after_approval,
)


@transaction.atomic
def run_checks(
    *,
    programme_ids: list[int] | None = None,
    indicator_ids: list[int] | None = None,
    values: bool = True,
    reports: bool = True,
) -> int:
    """Replace the findings for these programmes (all when None), or for these indicators and
    their programmes' reports. ``values`` / ``reports`` limit the run to the checks of values
    (findings about an indicator) or of reports (findings about no indicator): a recompute
    split between workers checks each unit's values and each programme's reports once.
    Returns how many issues were found."""
    now = timezone.now()
    if indicator_ids is not None:
        programme_ids = list(
            Indicator.objects.filter(pk__in=indicator_ids)
            .values_list("programme_id", flat=True)
            .distinct()
        )
    elif programme_ids is None:
        programme_ids = list(Programme.objects.values_list("pk", flat=True))
    if reports:
        # Two runs replacing the same programme's report findings at once would each delete
        # the old rows and insert their own: one at a time per programme. (NO KEY: rows that
        # merely refer to the programme are written meanwhile.)
        list(
            Programme.objects.select_for_update(no_key=True)
            .filter(pk__in=programme_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    issues: list[QualityIssue] = []
    if values:
        for check in VALUE_CHECKS:
            issues += check(indicator_ids, programme_ids, now)
    if reports:
        issues += check_reports(programme_ids, now)
    stale = QualityIssue.objects.filter(programme_id__in=programme_ids)
    if indicator_ids is not None:
        stale = stale.filter(Q(indicator_id__in=indicator_ids) | Q(indicator__isnull=True))
    if not values:
        stale = stale.filter(indicator__isnull=True)
    if not reports:
        stale = stale.filter(indicator__isnull=False)
    stale.delete()
    QualityIssue.objects.bulk_create(issues, batch_size=1000)
    return len(issues)
