"""A small programme for golden tests of the engine: two cities (A, B), two agencies (X, Y),
four quarters of 2030, one reporting year, and helpers to add indicators and approved values."""

import datetime as dt
from decimal import Decimal

from indicators.models import (
    Baseline,
    DisaggregationCategory,
    DisaggregationDimension,
    Indicator,
    IndicatorValue,
    ProgressReport,
    Rollup,
    Target,
)
from monitoring.models import (
    Agency,
    City,
    Country,
    Outcome,
    Programme,
    ProgrammeAgency,
    ProgrammeCity,
    ReportingPeriod,
)

APPROVED_AT = dt.datetime(2031, 1, 15, tzinfo=dt.UTC)


class Gold:
    def __init__(self) -> None:
        country, _ = Country.objects.get_or_create(
            code="ZZ", defaults={"name_es": "Zeta", "name_en": "Zeta"}
        )
        self.programme = Programme.objects.create(
            code="GOLD",
            name_es="Oro",
            name_en="Gold",
            short_name_es="Oro",
            short_name_en="Gold",
            start_date=dt.date(2030, 1, 1),
            end_date=dt.date(2030, 12, 31),
        )
        self.city = {}
        for code in ("A", "B"):
            city = City.objects.create(
                code=f"GOLD-{code}", country=country, name_es=code, name_en=code
            )
            ProgrammeCity.objects.create(programme=self.programme, city=city)
            self.city[code] = city
        self.agency = {}
        for code in ("X", "Y"):
            agency = Agency.objects.create(
                code=f"GOLD-{code}", acronym_es=code, acronym_en=code, name_es=code, name_en=code
            )
            ProgrammeAgency.objects.create(programme=self.programme, agency=agency)
            self.agency[code] = agency
        self.outcome = Outcome.objects.create(
            programme=self.programme, code="R1", title_es="R", title_en="R"
        )
        self.period = {}
        for q in range(1, 5):
            start = dt.date(2030, 3 * q - 2, 1)
            end = dt.date(2030, 3 * q, 30 if q in (2, 3) else 31)
            self.period[f"Q{q}"] = ReportingPeriod.objects.create(
                programme=self.programme,
                code=f"2030-Q{q}",
                name_es=f"T{q}",
                name_en=f"Q{q}",
                start_date=start,
                end_date=end,
                due_date=end + dt.timedelta(days=15),
            )
        self.period["Y"] = ReportingPeriod.objects.create(
            programme=self.programme,
            code="Y2030",
            kind="year",
            name_es="2030",
            name_en="2030",
            start_date=dt.date(2030, 1, 1),
            end_date=dt.date(2030, 12, 31),
            due_date=dt.date(2031, 1, 31),
        )
        sex, _ = DisaggregationDimension.objects.get_or_create(
            code="sex", defaults={"name_es": "Sexo", "name_en": "Sex"}
        )
        self.female, _ = DisaggregationCategory.objects.get_or_create(
            dimension=sex, code="female", defaults={"name_es": "M", "name_en": "F"}
        )
        self.male, _ = DisaggregationCategory.objects.get_or_create(
            dimension=sex, code="male", defaults={"name_es": "H", "name_en": "M"}
        )
        self.sex = sex
        self._reports: dict = {}
        self._n = 0

    def indicator(
        self,
        *,
        measure="count",
        time_rule="sum",
        place_rule="sum",
        agency_rule="sum",
        direction="increase",
        target_kind="absolute",
        cities=("A", "B"),
        dimensions=(),
    ) -> Indicator:
        self._n += 1
        indicator = Indicator.objects.create(
            programme=self.programme,
            code=f"G{self._n}",
            level="outcome",
            outcome=self.outcome,
            name_es="x",
            name_en="x",
            measure=measure,
            time_rule=time_rule,
            place_rule=place_rule,
            agency_rule=agency_rule,
            direction=direction,
            target_kind=target_kind,
        )
        indicator.cities.set([self.city[c] for c in cities])
        if dimensions:
            indicator.dimensions.set([self.sex])
        return indicator

    def report(
        self, period: str, city: str | None, agency: str | None, status: str = "approved"
    ) -> ProgressReport:
        key = (period, city, agency)
        if key not in self._reports:
            self._reports[key] = ProgressReport.objects.create(
                programme=self.programme,
                period=self.period[period],
                city=self.city[city] if city else None,
                agency=self.agency[agency] if agency else None,
                status=status,
                approved_at=APPROVED_AT if status in ("approved", "validated") else None,
            )
        return self._reports[key]

    def value(
        self,
        indicator: Indicator,
        period: str,
        value,
        *,
        city: str | None = "A",
        agency: str | None = "X",
        num=None,
        den=None,
        cell=None,
        status="approved",
    ) -> IndicatorValue:
        return IndicatorValue.objects.create(
            report=self.report(period, city, agency, status),
            indicator=indicator,
            value=Decimal(str(value)),
            numerator=None if num is None else Decimal(str(num)),
            denominator=None if den is None else Decimal(str(den)),
            category=cell,
        )

    def target(
        self,
        indicator: Indicator,
        value,
        *,
        city: str | None = None,
        agency: str | None = None,
        period: str | None = None,
        cell=None,
    ) -> Target:
        return Target.objects.create(
            indicator=indicator,
            city=self.city[city] if city else None,
            agency=self.agency[agency] if agency else None,
            period=self.period[period] if period else None,
            category=cell,
            original_value=Decimal(str(value)),
            value=Decimal(str(value)),
        )

    def baseline(self, indicator: Indicator, value, *, city: str | None = None) -> Baseline:
        return Baseline.objects.create(
            indicator=indicator,
            city=self.city[city] if city else None,
            value=Decimal(str(value)),
            date=dt.date(2030, 1, 1),
        )

    def rollup(
        self,
        indicator: Indicator,
        *,
        scope="programme",
        city=None,
        agency=None,
        span="ltd",
        as_of="Q4",
        cell=None,
    ) -> "SpanView":
        row = Rollup.objects.get(
            indicator=indicator,
            scope=Rollup.Scope[scope.upper()],
            period=self.period[as_of],
            city=self.city[city] if city else None,
            agency=self.agency[agency] if agency else None,
            category=cell,
        )
        return SpanView(row, span)

    def rollups(self, indicator: Indicator, **filters):
        if isinstance(filters.get("scope"), str):
            filters["scope"] = Rollup.Scope[filters["scope"].upper()]
        return Rollup.objects.filter(indicator=indicator, **filters)


class SpanView:
    """One span of a rollup row, read with the plain names (actual, target, status…)."""

    SHARED = {"method", "n_values", "baseline", "computed_at", "as_of", "scope"}

    def __init__(self, row: Rollup, span: str) -> None:
        self.row, self.span = row, span

    def __getattr__(self, name: str):
        if name in self.SHARED:
            return getattr(self.row, name)
        if self.span == "period":
            aliases = {"expected": "target", "pace": "achievement"}
            return getattr(self.row, aliases.get(name, name))
        return getattr(self.row, f"{self.span}_{name}")
