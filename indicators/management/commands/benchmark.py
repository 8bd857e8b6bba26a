"""Measure what DESIGN §10 asks of the engine and the dashboards, and print the figures:

- each dashboard page: median server time and SQL queries (on a large synthetic programme and
  on Ciudades, to show the query count does not grow with the data);
- a full recompute of all rollups, and the floor: the bare SQL aggregate of the same approved
  values into the same rollup rows (period sums per scope and cell, running totals for the
  year and the life of the programme; no rules, targets or writes), run alternately in the
  same process with the same session settings;
- approval → fresh rollup with a real Celery worker (needs a broker: REDIS_URL).

Generate data first: ``python manage.py generate_synthetic`` (≈1.76 million values)."""

import datetime as dt
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from indicators import services
from indicators.engine import recompute
from indicators.models import Indicator, IndicatorValue, ProgressReport, Rollup
from monitoring.models import Programme, ReportingPeriod

ROOT = Path(__file__).resolve().parents[3]
PAGES = [
    "overview",
    "outcomes",
    "cities",
    "agencies",
    "compliance",
    "quality",
    "indicator",
    "framework",
]


def floor_sql(vendor: str) -> str:
    """The bare aggregate: the same approved values into the same rows as the rollup table
    (totals for city × agency, city and agency; totals and cells for the programme), with
    running totals for the year and the life of the programme."""
    base = """
        FROM indicators_indicatorvalue v
        JOIN indicators_progressreport r ON r.id = v.report_id
        JOIN monitoring_reportingperiod p ON p.id = r.period_id
        WHERE r.status IN ('approved', 'validated') AND v.value IS NOT NULL"""
    if vendor == "postgresql":
        groups = f"""
            SELECT v.indicator_id AS ind, GROUPING(r.city_id, r.agency_id, v.category_id) AS gs,
                   r.city_id AS city, r.agency_id AS agency, v.category_id AS cat,
                   p.end_date AS pend, SUM(v.value) AS v
            {base}
            GROUP BY GROUPING SETS (
                (v.indicator_id, r.city_id, r.agency_id, v.category_id, p.end_date),
                (v.indicator_id, r.city_id, v.category_id, p.end_date),
                (v.indicator_id, r.agency_id, v.category_id, p.end_date),
                (v.indicator_id, v.category_id, p.end_date))"""
        year = "extract(year from pend)"
        keep = "WHERE cat IS NULL OR (city IS NULL AND agency IS NULL)"
    else:
        groups = f"""
            SELECT v.indicator_id AS ind, 0 AS gs, r.city_id AS city, r.agency_id AS agency,
                   NULL AS cat, p.end_date AS pend, SUM(v.value) AS v {base} AND v.category_id IS NULL
            GROUP BY v.indicator_id, r.city_id, r.agency_id, p.end_date
            UNION ALL
            SELECT v.indicator_id, 1, r.city_id, NULL, NULL, p.end_date, SUM(v.value) {base}
              AND v.category_id IS NULL GROUP BY v.indicator_id, r.city_id, p.end_date
            UNION ALL
            SELECT v.indicator_id, 2, NULL, r.agency_id, NULL, p.end_date, SUM(v.value) {base}
              AND v.category_id IS NULL GROUP BY v.indicator_id, r.agency_id, p.end_date
            UNION ALL
            SELECT v.indicator_id, 3, NULL, NULL, v.category_id, p.end_date, SUM(v.value) {base}
            GROUP BY v.indicator_id, v.category_id, p.end_date"""
        year = "strftime('%Y', pend)"
        keep = ""
    return f"""
        SELECT COUNT(*), SUM(ltd), SUM(ytd) FROM (
          SELECT g.*,
                 SUM(v) OVER (PARTITION BY ind, gs, city, agency, cat ORDER BY pend
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ltd,
                 SUM(v) OVER (PARTITION BY ind, gs, city, agency, cat, {year} ORDER BY pend
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ytd
          FROM ({groups}) g {keep}
        ) x"""


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


class Command(BaseCommand):
    help = "Benchmark dashboards, the full recompute against its floor, and approval → rollup."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--programme", default="SYN001", help="The large programme to time pages on."
        )
        parser.add_argument("--runs", type=int, default=5, help="Full recomputes (and floors).")
        parser.add_argument("--page-runs", type=int, default=20, help="Requests per page.")
        parser.add_argument(
            "--approvals", type=int, default=5, help="Approvals timed with a worker."
        )
        parser.add_argument("--skip-recompute", action="store_true")
        parser.add_argument("--skip-worker", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        settings.DEBUG = False  # no query log or debug pages in the figures
        call_command("collectstatic", interactive=False, verbosity=0)  # pages need the manifest
        values = IndicatorValue.objects.filter(
            report__status__in=ProgressReport.APPROVED_STATUSES
        ).count()
        self.stdout.write(
            f"Database: {connection.vendor}, {values:,} approved values, "
            f"{Indicator.objects.count():,} indicators, {Programme.objects.count()} programmes."
        )
        if values < 1_000_000:
            self.stdout.write(
                self.style.WARNING(
                    "Fewer than 1,000,000 approved values: run `python manage.py generate_synthetic` first."
                )
            )
        if not o["skip_recompute"]:
            self.recompute_against_floor(o["runs"])
        self.pages(o["programme"], o["page_runs"])
        if not o["skip_worker"]:
            self.approval_to_fresh(o["programme"], o["approvals"])

    # --- recompute -----------------------------------------------------------------------

    def recompute_against_floor(self, runs: int) -> None:
        query = floor_sql(connection.vendor)
        floors, fulls, rows = [], [], 0
        for _ in range(runs):
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET LOCAL work_mem = '256MB'")  # as the engine sets it
                    cursor.execute("SET LOCAL jit = off")
                started = time.perf_counter()
                cursor.execute(query)
                floor_rows = cursor.fetchone()[0]
                floors.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = recompute(None)
            fulls.append(time.perf_counter() - started)
            rows = result.rows
        floor, full = statistics.median(floors), statistics.median(fulls)
        self.stdout.write(f"\nFull recompute (median of {runs} runs, alternating with the floor)")
        self.stdout.write(f"  rollup rows written      {rows:>12,}   (floor rows {floor_rows:,})")
        self.stdout.write(
            f"  full recompute           {full:>10.2f} s   runs: {', '.join(f'{x:.2f}' for x in fulls)}"
        )
        self.stdout.write(
            f"  floor (bare aggregate)   {floor:>10.2f} s   runs: {', '.join(f'{x:.2f}' for x in floors)}"
        )
        verdict = "meets" if full <= 3 * floor else "MISSES"
        self.stdout.write(
            f"  ratio                    {full / floor:>10.2f} ×   target ≤ 3 × ({verdict})"
        )

    # --- pages ---------------------------------------------------------------------------

    def _client(self) -> Client:
        user, _ = get_user_model().objects.get_or_create(
            username="benchmark", defaults={"is_superuser": True}
        )
        client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    def _urls(self, programme: Programme) -> dict[str, str]:
        indicator = programme.indicators.filter(is_active=True).order_by("order", "code").first()
        urls = {
            name: reverse(f"dashboards:{name}", args=[programme.code])
            for name in PAGES
            if name not in ("indicator", "framework")
        }
        if indicator:
            urls["indicator"] = reverse(
                "dashboards:indicator", args=[programme.code, indicator.code]
            )
        urls["framework"] = reverse("programme_detail", args=[programme.code])
        return urls

    def pages(self, code: str, runs: int) -> None:
        client = self._client()
        programmes = [
            p for p in Programme.objects.filter(code__in=[code, "CIUDADES"]).order_by("-code")
        ]
        if not programmes:
            self.stdout.write(
                self.style.WARNING(f"No programme {code} nor CIUDADES: pages not timed.")
            )
            return
        rows = {p.code: Rollup.objects.filter(programme=p).count() for p in programmes}
        header = "".join(f"{p.code + ' ms':>14}{'queries':>9}" for p in programmes)
        self.stdout.write(
            f"\nDashboard pages (median server time of {runs} requests; rollup rows: "
            + ", ".join(f"{k} {v:,}" for k, v in rows.items())
            + ")"
        )
        self.stdout.write(f"  {'page':<12}{header}")
        for page in PAGES:
            line = f"  {page:<12}"
            for programme in programmes:
                url = self._urls(programme).get(page)
                if not url:
                    line += f"{'—':>14}{'—':>9}"
                    continue
                client.get(url)  # warm caches and the connection
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                count = len(queries)  # now: the next request resets the query log
                times = []
                for _ in range(runs):
                    started = time.perf_counter()
                    client.get(url)
                    times.append(time.perf_counter() - started)
                line += f"{median_ms(times):>14.1f}{count:>9}"
            self.stdout.write(line)
        self.stdout.write("  target: ≤ 150 ms median; the same number of queries whatever the data")

    # --- approval → fresh ----------------------------------------------------------------

    def approval_to_fresh(self, code: str, trials: int) -> None:
        broker = settings.CELERY_BROKER_URL
        self.stdout.write("\nApproval → fresh rollup with a real worker")
        if broker.startswith("memory"):
            self.stdout.write("  skipped: no broker (set REDIS_URL to run a worker)")
            return
        programme = Programme.objects.filter(code=code).first()
        if programme is None:
            self.stdout.write(f"  skipped: no programme {code}")
            return
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "monitoring",
                "worker",
                "--pool",
                "solo",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "warning",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        period = None
        try:
            time.sleep(3)  # the worker connects to the broker
            last = programme.periods.filter(kind="quarter").latest("end_date")
            start = last.end_date + dt.timedelta(days=1)
            end = (start + dt.timedelta(days=95)).replace(day=1) - dt.timedelta(days=1)
            period = ReportingPeriod.objects.create(
                programme=programme,
                code=f"BENCH-{start:%Y%m}",
                name_es="bench",
                name_en="bench",
                start_date=start,
                end_date=end,
                due_date=end + dt.timedelta(days=15),
            )
            indicator = programme.indicators.filter(measure="count", time_rule="sum")[0]
            pairs = [(a, c) for a in programme.agencies.all() for c in programme.cities.all()]
            samples = []
            for agency, city in pairs[:trials]:
                report = ProgressReport.objects.create(
                    programme=programme,
                    agency=agency,
                    city=city,
                    period=period,
                    status="submitted",
                    submitted_at=timezone.now(),
                )
                IndicatorValue.objects.create(report=report, indicator=indicator, value=Decimal(7))
                approved = timezone.now()
                started = time.perf_counter()
                services.report_approve(report=report, actor=None)
                while not Rollup.objects.filter(
                    indicator=indicator,
                    period=period,
                    scope=Rollup.Scope.CITY_AGENCY,
                    city=city,
                    agency=agency,
                    computed_at__gte=approved,
                ).exists():
                    if time.perf_counter() - started > 60:
                        raise RuntimeError("the worker did not refresh the rollup within 60 s")
                    time.sleep(0.02)
                samples.append(time.perf_counter() - started)
            self.stdout.write(
                f"  median {statistics.median(samples):.2f} s over {len(samples)} approvals "
                f"(runs: {', '.join(f'{x:.2f}' for x in samples)}); target ≤ 2 s"
            )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            if period is not None:
                indicator_ids = list(
                    IndicatorValue.objects.filter(report__period=period)
                    .values_list("indicator_id", flat=True)
                    .distinct()
                )
                IndicatorValue.objects.filter(report__period=period).delete()
                ProgressReport.objects.filter(period=period).delete()
                period.delete()
                recompute(indicator_ids)
