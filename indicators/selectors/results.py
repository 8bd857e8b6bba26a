"""The tidy results table of DESIGN §8: one row per indicator × scope × period × cell, from the
rollups (so from approved values only). Every donor-facing output reads it: the API's
/results/, the CSV, XLSX and JSON exports, IATI and the fund's report.

Rows come from one SQL statement read through a server-side cursor, with codes and names
looked up in small dictionaries fetched first, so a million-row export streams in constant
memory. Each rollup row gives a period row (the figures of that period alone); the newest
row of each figure also gives the life-of-programme row (``period`` = ``LOP``: baseline,
target, cumulative actual and achievement to date). A reporting period whose own code is
``LOP`` is shown through that life-of-programme row only, so ``LOP`` never means two things."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from monitoring.models import Agency, City, Outcome, Output, Programme, ReportingPeriod

from ..models import DisaggregationCategory, Indicator, IndicatorValue, ProgressReport, Rollup

ALL = "ALL"
LOP = "LOP"
TOTAL = "total"
RESULT_COLUMNS = (
    "programme", "outcome", "output", "indicator", "indicator_name_es", "indicator_name_en",
    "measure", "city", "agency", "period", "disaggregation", "baseline", "target", "actual",
    "achievement_pct", "status", "approved_at", "computed_at",
)  # fmt: skip
APPROVED = (ProgressReport.Status.APPROVED, ProgressReport.Status.VALIDATED)
Scope = Rollup.Scope
RollupTable = Rollup._meta.db_table
IndicatorTable = Indicator._meta.db_table
IndicatorValueTable = IndicatorValue._meta.db_table
ReportTable = ProgressReport._meta.db_table


class UnknownCode(ValueError):
    """A filter names a code the programme does not have; ``field`` says which filter."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class ResultQuery:
    """Which rows: codes as they appear in the table (``ALL`` for totals, ``LOP`` for the life
    of the programme); None means no filter. ``updated_since``: rows computed since then."""

    programme: Programme
    city: str | None = None
    agency: str | None = None
    outcome: str | None = None
    output: str | None = None
    indicator: str | None = None
    period: str | None = None
    updated_since: dt.datetime | None = None
    cells: bool = True


@dataclass
class _Lookups:
    indicators: dict[int, tuple[str, str, str, str, str, str]]
    cities: dict[int, str]
    agencies: dict[int, str]
    periods: dict[int, str]
    cells: dict[int, str]
    approved: dict[tuple[Any, ...], dt.datetime]


def _lookups(programme: Programme) -> _Lookups:
    outcomes = dict(Outcome.objects.filter(programme=programme).values_list("id", "code"))
    outputs = dict(Output.objects.filter(programme=programme).values_list("id", "code"))
    indicators = {
        pk: (code, outcomes.get(oc, ""), outputs.get(op, ""), es, en, measure)
        for pk, code, oc, op, es, en, measure in Indicator.objects.filter(
            programme=programme
        ).values_list("id", "code", "outcome_id", "output_id", "name_es", "name_en", "measure")
    }
    cells = {
        pk: f"{dim}={code}"
        for pk, dim, code in DisaggregationCategory.objects.values_list(
            "id", "dimension__code", "code"
        )
    }
    return _Lookups(
        indicators=indicators,
        cities=dict(City.objects.values_list("id", "code")),
        agencies=dict(Agency.objects.values_list("id", "code")),
        periods=dict(ReportingPeriod.objects.filter(programme=programme).values_list("id", "code")),
        cells=cells,
        approved=_approved_at(programme),
    )


def _approved_at(programme: Programme) -> dict[tuple[Any, ...], dt.datetime]:
    """When the newest approved report behind each figure was approved, keyed by
    (scope, indicator, period or None for LOP, city, agency): one grouped query."""
    out: dict[tuple[Any, ...], dt.datetime] = {}

    def keep(key: tuple[Any, ...], at: dt.datetime | None) -> None:
        if at is not None and (key not in out or out[key] < at):
            out[key] = at

    sql = f"""
        SELECT v.indicator_id, r.period_id, r.city_id, r.agency_id, MAX(r.approved_at)
        FROM {IndicatorValueTable} v JOIN {ReportTable} r ON r.id = v.report_id
        WHERE r.programme_id = %s AND r.status IN (%s, %s) AND r.approved_at IS NOT NULL
        GROUP BY v.indicator_id, r.period_id, r.city_id, r.agency_id
    """  # noqa: S608 (table names are constants)
    with connection.cursor() as cursor:
        cursor.execute(sql, [programme.pk, *APPROVED])
        for indicator, period, city, agency, at in cursor.fetchall():
            at = _datetime(at)  # SQLite's raw cursor gives text
            for p in (period, None):
                keep((Scope.PROGRAMME, indicator, p, None, None), at)
                if city is not None:
                    keep((Scope.CITY, indicator, p, city, None), at)
                if agency is not None:
                    keep((Scope.AGENCY, indicator, p, None, agency), at)
                if city is not None and agency is not None:
                    keep((Scope.CITY_AGENCY, indicator, p, city, agency), at)
    return out


def _resolve(q: ResultQuery) -> tuple[list[str], list[Any], list[str], list[Any]]:
    """SQL conditions inside the window (they select whole figures) and after it (they pick
    rows of a figure), with their parameters. Unknown codes raise ``UnknownCode``."""
    p = q.programme
    inner, inner_params = ["r.programme_id = %s"], [p.pk]
    outer: list[str] = []
    outer_params: list[Any] = []

    def code_id(model: Any, field: str, code: str, **scope: Any) -> int:
        pk = model.objects.filter(code=code, **scope).values_list("id", flat=True).first()
        if pk is None:
            raise UnknownCode(field, code)
        return int(pk)

    if q.city:
        if q.city == ALL:
            inner.append("r.city_id IS NULL")
        else:
            inner.append("r.city_id = %s")
            inner_params.append(code_id(City, "city", q.city, programmecity__programme=p))
    if q.agency:
        if q.agency == ALL:
            inner.append("r.agency_id IS NULL")
        else:
            inner.append("r.agency_id = %s")
            inner_params.append(code_id(Agency, "agency", q.agency, programmeagency__programme=p))
    if q.outcome:
        inner.append("i.outcome_id = %s")
        inner_params.append(code_id(Outcome, "outcome", q.outcome, programme=p))
    if q.output:
        inner.append("i.output_id = %s")
        inner_params.append(code_id(Output, "output", q.output, programme=p))
    if q.indicator:
        ids = list(
            Indicator.objects.filter(programme=p, code=q.indicator).values_list("id", flat=True)
        )
        if not ids:
            raise UnknownCode("indicator", q.indicator)
        inner.append(f"r.indicator_id IN ({', '.join(str(int(i)) for i in ids)})")
    if not q.cells:
        inner.append("r.category_id IS NULL")
    if q.period:
        if q.period == LOP:
            outer.append("lop = 1")
        else:
            outer.append("lop = 0 AND period_id = %s")
            outer_params.append(code_id(ReportingPeriod, "period", q.period, programme=p))
    if q.updated_since:
        outer.append("computed_at >= %s")
        outer_params.append(q.updated_since)
    return inner, inner_params, outer, outer_params


def check_codes(q: ResultQuery) -> None:
    """Raise ``UnknownCode`` when a filter names a code the programme lacks."""
    _resolve(q)


def _sql(q: ResultQuery, lop_period: int | None) -> tuple[str, list[Any]]:
    inner, inner_params, outer, outer_params = _resolve(q)
    skip_lop_period = f"AND period_id <> {int(lop_period)}" if lop_period else ""
    fields = (
        "indicator_id, scope, city_id, agency_id, category_id, period_id, baseline, "
        "target, actual, achievement, status, ltd_target, ltd_actual, ltd_achievement, "
        "ltd_status, computed_at, ind_order, rn"
    )
    sql = f"""
        WITH f AS (
            SELECT r.indicator_id, r.scope, r.city_id, r.agency_id, r.category_id,
                   r.period_id, r.as_of, r.baseline, r.target, r.actual, r.achievement,
                   r.status, r.ltd_target, r.ltd_actual, r.ltd_achievement, r.ltd_status,
                   r.computed_at, i."order" AS ind_order,
                   ROW_NUMBER() OVER (
                       PARTITION BY r.indicator_id, r.scope, r.city_id, r.agency_id,
                                    r.category_id
                       ORDER BY r.as_of DESC, r.period_id DESC) AS rn
            FROM {RollupTable} r JOIN {IndicatorTable} i ON i.id = r.indicator_id
            WHERE {" AND ".join(inner)}
        ), t AS (
            SELECT {fields}, as_of, 0 AS lop FROM f WHERE 1 = 1 {skip_lop_period}
            UNION ALL
            SELECT {fields}, as_of, 1 AS lop FROM f WHERE rn = 1
        )
        SELECT {fields}, lop FROM t
        {"WHERE " + " AND ".join(outer) if outer else ""}
        ORDER BY ind_order, indicator_id, scope DESC, COALESCE(city_id, 0),
                 COALESCE(agency_id, 0), COALESCE(category_id, 0), lop, as_of, period_id
    """  # noqa: S608 (identifiers are constants; values are parameters)
    return sql, [*inner_params, *outer_params]


def _lop_period_id(programme: Programme) -> int | None:
    return (
        ReportingPeriod.objects.filter(programme=programme, code=LOP)
        .values_list("id", flat=True)
        .first()
    )


def result_count(q: ResultQuery) -> int:
    sql, params = _sql(q, _lop_period_id(q.programme))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS c", params)  # noqa: S608
        return int(cursor.fetchone()[0])


def _datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def result_rows(
    q: ResultQuery, *, offset: int = 0, limit: int | None = None, chunk: int = 5000
) -> Iterator[tuple[Any, ...]]:
    """The rows, in RESULT_COLUMNS order, in a stable order (framework order, programme before
    cities and agencies, then cells, periods in time order, LOP last)."""
    lookups = _lookups(q.programme)
    sql, params = _sql(q, _lop_period_id(q.programme))
    if limit is not None:
        sql += " LIMIT %s OFFSET %s"
        params += [int(limit), int(offset)]
    elif offset:
        raise ValueError("offset needs a limit")
    programme = q.programme.code
    sqlite = connection.vendor == "sqlite"
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            for (
                indicator_id, scope, city_id, agency_id, category_id, period_id, baseline,
                target, actual, achievement, status, ltd_target, ltd_actual,
                ltd_achievement, ltd_status, computed_at, _order, _rn, lop,
            ) in rows:  # fmt: skip
                code, outcome, output, name_es, name_en, measure = lookups.indicators[indicator_id]
                if lop:
                    period, target, actual = LOP, ltd_target, ltd_actual
                    achievement, status, key_period = ltd_achievement, ltd_status, None
                else:
                    period, key_period = lookups.periods[period_id], period_id
                approved = lookups.approved.get(
                    (scope, indicator_id, key_period, city_id, agency_id)
                )
                if sqlite:
                    baseline, target, actual, achievement = (
                        _decimal(baseline), _decimal(target), _decimal(actual),
                        _decimal(achievement),
                    )  # fmt: skip
                    computed_at = _datetime(computed_at)
                yield (
                    programme,
                    outcome,
                    output,
                    code,
                    name_es,
                    name_en,
                    measure,
                    lookups.cities[city_id] if city_id else ALL,
                    lookups.agencies[agency_id] if agency_id else ALL,
                    period,
                    lookups.cells[category_id] if category_id else TOTAL,
                    baseline,
                    target,
                    actual,
                    achievement,
                    status,
                    approved,
                    computed_at,
                )
