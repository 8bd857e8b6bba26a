"""Generate a large synthetic dataset for benchmarks (DESIGN §10): many programmes, each with
cities, agencies, quarters, indicators of every kind of rule, targets, and approved quarterly
reports whose values are disaggregated by sex and age group.

Defaults: 40 programmes × 60 indicators × 6 cities × 3 agencies × 12 quarters, ~4 values per
indicator and report (the total and its cells) ≈ 2 million approved values. Programmes are
coded SYN001…; running again replaces them. Values go in with PostgreSQL's COPY (batched
inserts on SQLite)."""

import datetime as dt
import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from indicators.models import (
    DisaggregationCategory,
    DisaggregationDimension,
    Indicator,
    ProgressReport,
    Target,
)
from monitoring.loading.periods import quarter_bounds
from monitoring.models import (
    Agency,
    City,
    Country,
    Outcome,
    Output,
    Programme,
    ProgrammeAgency,
    ProgrammeCity,
    ReportingPeriod,
)

PREFIX = "SYN"
# (share of indicators, measure, time rule, place rule, agency rule, disaggregated)
KINDS: list[tuple[float, str, str, str, str, bool]] = [
    (0.45, "count", "sum", "sum", "sum", True),
    (0.15, "count", "sum", "sum", "consolidated", True),
    (0.10, "count", "latest", "sum", "sum", False),
    (0.15, "percent", "latest", "weighted", "sum", False),
    (0.05, "yes_no", "latest", "all", "sum", False),
    (0.05, "level", "mean", "mean", "sum", False),
    (0.05, "amount", "sum", "sum", "sum", False),
]


class Command(BaseCommand):
    help = "Generate synthetic programmes with many approved values (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--programmes", type=int, default=40)
        parser.add_argument("--indicators", type=int, default=60)
        parser.add_argument("--cities", type=int, default=6)
        parser.add_argument("--agencies", type=int, default=3)
        parser.add_argument("--quarters", type=int, default=12)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **o: Any) -> None:
        started = time.perf_counter()
        rng = random.Random(o["seed"])  # noqa: S311 (synthetic data, not secrets)
        self._delete_previous()
        country, _ = Country.objects.get_or_create(
            code="XS", defaults={"name_es": "Sintético", "name_en": "Synthetic"}
        )
        agencies = [
            Agency.objects.get_or_create(
                code=f"{PREFIX}-A{n}",
                defaults={
                    "acronym_es": f"AG{n}",
                    "acronym_en": f"AG{n}",
                    "name_es": f"Agencia {n}",
                    "name_en": f"Agency {n}",
                },
            )[0]
            for n in range(1, o["agencies"] + 1)
        ]
        cities = [
            City.objects.get_or_create(
                code=f"{PREFIX}-C{n}",
                defaults={"country": country, "name_es": f"Ciudad {n}", "name_en": f"City {n}"},
            )[0]
            for n in range(1, o["cities"] + 1)
        ]
        cells = self._cells()
        values = 0
        for p in range(1, o["programmes"] + 1):
            with transaction.atomic():
                values += self._programme(p, o, rng, agencies, cities, cells)
            self.stdout.write(f"  {PREFIX}{p:03d}: {values:,} values so far")
        if connection.vendor == "postgresql":
            # Fresh planner statistics, or the first queries plan for empty tables.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            f"Generated {o['programmes']} programmes, {values:,} approved values in "
            f"{time.perf_counter() - started:.1f} s."
        )

    def _delete_previous(self) -> None:
        old = list(Programme.objects.filter(code__startswith=PREFIX).values_list("pk", flat=True))
        if not old:
            return
        self.stdout.write(f"Removing {len(old)} earlier synthetic programmes")
        with connection.cursor() as cursor:
            ids = ",".join(str(i) for i in old)
            # Bulk deletes, children first: the ORM would fetch millions of rows to cascade.
            # (ids are integers from the database)
            for sql in (
                f"DELETE FROM indicators_rollup WHERE programme_id IN ({ids})",
                f"DELETE FROM indicators_qualityissue WHERE programme_id IN ({ids})",
                "DELETE FROM indicators_indicatorvalue WHERE report_id IN "
                f"(SELECT id FROM indicators_progressreport WHERE programme_id IN ({ids}))",
            ):
                cursor.execute(sql)
        Programme.objects.filter(pk__in=old).delete()

    @staticmethod
    def _cells() -> list[DisaggregationCategory]:
        sex, _ = DisaggregationDimension.objects.get_or_create(
            code="sex", defaults={"name_es": "Sexo", "name_en": "Sex", "order": 1}
        )
        age, _ = DisaggregationDimension.objects.get_or_create(
            code="age_group",
            defaults={"name_es": "Grupo de edad", "name_en": "Age group", "order": 2},
        )
        found = []
        for dim, code, es, en in (
            (sex, "female", "Mujeres", "Female"),
            (sex, "male", "Hombres", "Male"),
            (age, "youth", "Jóvenes", "Youth"),
            (age, "adult", "Adultos", "Adults"),
        ):
            found.append(
                DisaggregationCategory.objects.get_or_create(
                    dimension=dim, code=code, defaults={"name_es": es, "name_en": en}
                )[0]
            )
        return found

    def _programme(
        self, n: int, o: dict, rng: random.Random, agencies: list, cities: list, cells: list
    ) -> int:
        quarters = o["quarters"]
        start_year = 2023
        first = quarter_bounds(start_year, 1)[0]
        last_year, last_q = start_year + (quarters - 1) // 4, (quarters - 1) % 4 + 1
        end = quarter_bounds(last_year, last_q)[1]
        programme = Programme.objects.create(
            code=f"{PREFIX}{n:03d}",
            name_es=f"Programa sintético {n}",
            name_en=f"Synthetic programme {n}",
            short_name_es=f"Sintético {n}",
            short_name_en=f"Synthetic {n}",
            start_date=first,
            end_date=end,
            budget_total=1_000_000,
        )
        for i, agency in enumerate(agencies):
            ProgrammeAgency.objects.create(programme=programme, agency=agency, is_convening=i == 0)
        for city in cities:
            ProgrammeCity.objects.create(programme=programme, city=city)
        periods = []
        for q in range(quarters):
            year, quarter = start_year + q // 4, q % 4 + 1
            s, e = quarter_bounds(year, quarter)
            periods.append(
                ReportingPeriod.objects.create(
                    programme=programme,
                    code=f"{year}-Q{quarter}",
                    name_es=f"T{quarter} {year}",
                    name_en=f"Q{quarter} {year}",
                    start_date=s,
                    end_date=e,
                    due_date=e + dt.timedelta(days=15),
                    status="closed",
                )
            )
        years = {}
        for year in range(start_year, last_year + 1):
            years[year] = ReportingPeriod.objects.create(
                programme=programme,
                code=f"Y{year}",
                kind="year",
                name_es=str(year),
                name_en=str(year),
                start_date=dt.date(year, 1, 1),
                end_date=dt.date(year, 12, 31),
                due_date=dt.date(year + 1, 1, 31),
            )
        outcomes = [
            Outcome.objects.create(
                programme=programme,
                code=f"R{k}",
                order=k,
                title_es=f"Resultado {k}",
                title_en=f"Outcome {k}",
            )
            for k in (1, 2, 3)
        ]
        outputs = [
            Output.objects.create(
                programme=programme,
                outcome=outcomes[k // 2],
                code=f"{k // 2 + 1}.{k % 2 + 1}",
                order=k,
                title_es=f"Producto {k}",
                title_en=f"Output {k}",
            )
            for k in range(6)
        ]
        indicators = self._indicators(
            programme, o["indicators"], outcomes, outputs, cities, agencies, rng
        )
        self._targets([i for i, _ in indicators], cities, years, rng)
        return self._values(programme, indicators, periods, cities, agencies, cells, rng)

    @staticmethod
    def _indicators(
        programme, count, outcomes, outputs, cities, agencies, rng
    ) -> list[tuple[Indicator, bool]]:
        """The indicators, each with whether its values are disaggregated."""
        kinds = [k[1:] for k in KINDS for _ in range(round(k[0] * count))][:count]
        kinds += [KINDS[0][1:]] * (count - len(kinds))
        created = []
        for k, (measure, time_rule, place_rule, agency_rule, disaggregated) in enumerate(kinds):
            output = outputs[k % len(outputs)] if k % 4 else None
            indicator = Indicator.objects.create(
                programme=programme,
                code=f"I{k + 1:02d}",
                level="output" if output else "outcome",
                outcome=output.outcome if output else outcomes[k % 3],
                output=output,
                order=k,
                name_es=f"Indicador sintético {k + 1} ({measure})",
                name_en=f"Synthetic indicator {k + 1} ({measure})",
                measure=measure,
                time_rule=time_rule,
                place_rule=place_rule,
                agency_rule=agency_rule,
            )
            indicator.cities.set(cities)
            indicator.responsible_agencies.set(agencies)
            if disaggregated:
                indicator.dimensions.set(
                    DisaggregationDimension.objects.filter(code__in=["sex", "age_group"])
                )
            created.append((indicator, disaggregated))
        return created

    @staticmethod
    def _targets(indicators, cities, years, rng) -> None:
        targets = []
        for ind in indicators:
            if ind.measure == "yes_no":
                value = 1
            elif ind.measure == "percent":
                value = rng.choice([60, 70, 80])
            elif ind.measure == "level":
                value = 3
            elif ind.time_rule == "sum":
                value = rng.randint(2000, 9000)
            else:
                value = rng.randint(100, 400)
            targets.append(
                Target(indicator=ind, original_value=value, value=value, source="synthetic")
            )
            if ind.time_rule == "sum" and ind.measure in ("count", "amount"):
                for year in years.values():
                    share = round(value / len(years))
                    targets.append(
                        Target(indicator=ind, period=year, original_value=share, value=share)
                    )
                for city in cities:
                    share = round(value / len(cities))
                    targets.append(
                        Target(indicator=ind, city=city, original_value=share, value=share)
                    )
        Target.objects.bulk_create(targets)

    def _values(self, programme, indicators, periods, cities, agencies, cells, rng) -> int:
        now = timezone.now()
        reports = ProgressReport.objects.bulk_create(
            [
                ProgressReport(
                    programme=programme,
                    agency=a,
                    city=c,
                    period=p,
                    status="approved",
                    approved_at=now,
                    submitted_at=now,
                )
                for p in periods
                for c in cities
                for a in agencies
            ]
        )
        rows = []
        for report in reports:
            for ind, disaggregated in indicators:
                rows.extend(self._report_values(report.pk, ind, disaggregated, cells, rng))
        self._write_values(rows, now)
        return len(rows)

    @staticmethod
    def _report_values(
        report_id: int, ind: Indicator, disaggregated: bool, cells: list, rng: random.Random
    ) -> list[tuple]:
        if ind.measure == "percent":
            den = rng.randint(20, 120)
            num = rng.randint(den // 2, den)
            return [(report_id, ind.pk, None, round(num * 100 / den, 4), num, den)]
        if ind.measure == "yes_no":
            return [(report_id, ind.pk, None, 1 if rng.random() < 0.6 else 0, None, None)]
        if ind.measure == "level":
            return [(report_id, ind.pk, None, rng.randint(1, 4), None, None)]
        total = rng.randint(4, 60) if ind.time_rule == "sum" else rng.randint(20, 80)
        out = [(report_id, ind.pk, None, total, None, None)]
        if disaggregated:
            female = rng.randint(0, total)
            youth = rng.randint(0, total)
            out += [
                (report_id, ind.pk, cells[0].pk, female, None, None),
                (report_id, ind.pk, cells[1].pk, total - female, None, None),
                (report_id, ind.pk, cells[2].pk, youth, None, None),
                (report_id, ind.pk, cells[3].pk, total - youth, None, None),
            ]
        return out

    @staticmethod
    def _write_values(rows: list[tuple], now: dt.datetime) -> None:
        columns = (
            "report_id",
            "indicator_id",
            "category_id",
            "value",
            "numerator",
            "denominator",
            "text_value",
            "comment",
            "provenance",
            "quality_note_es",
            "quality_note_en",
            "source",
            "created_at",
            "updated_at",
        )
        tail = ("", "", "entered", "", "", "synthetic", now, now)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                raw = cursor.cursor  # psycopg 3 cursor, for COPY
                with raw.copy(
                    f"COPY indicators_indicatorvalue ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row((*row, *tail))
            return
        placeholders = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 5000):
                cursor.executemany(
                    f"INSERT INTO indicators_indicatorvalue ({', '.join(columns)}) "
                    f"VALUES ({placeholders})",
                    [(*row, *tail) for row in rows[start : start + 5000]],
                )
