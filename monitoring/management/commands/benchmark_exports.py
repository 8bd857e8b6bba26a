"""Measure the donor's CSV download (issue 7: ≥ 50,000 rows/s and ≤ 200 MB on the
≥ 1,000,000-value data set) and print the figures.

Each run downloads every programme's whole results table through the API
(``GET /api/v1/results/?programme=…&format=csv`` with a token, the streamed response read to
the end), so the time includes authentication, the SQL, formatting and streaming. The floor,
measured alternately in the same process, reads the same rows with the same SQL through the
same server-side cursor and formats nothing. Memory: the process's peak resident size after
the runs (Django included), and the peak of Python allocations during one more download
under tracemalloc.

Generate data first: ``python manage.py generate_synthetic`` (≈1.76 million values)."""

import resource
import statistics
import time
import tracemalloc
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import Client

from indicators.models import IndicatorValue, ProgressReport
from indicators.selectors import results as selector
from monitoring.models import ApiToken, Programme


def _floor(programme: Programme) -> int:
    """The same rows read with the same SQL and cursor, nothing formatted."""
    query = selector.ResultQuery(programme)
    sql, params = selector._sql(query, selector._lop_period_id(programme))
    n = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5000):
            n += len(rows)
    return n


class Command(BaseCommand):
    help = "Benchmark the results CSV download: rows per second and peak memory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--runs", type=int, default=3, help="Downloads of every programme.")

    def handle(self, *args: Any, **o: Any) -> None:
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        values = IndicatorValue.objects.filter(
            report__status__in=ProgressReport.APPROVED_STATUSES
        ).count()
        programmes = list(Programme.objects.order_by("code"))
        self.stdout.write(
            f"Database: {connection.vendor}, {values:,} approved values, "
            f"{len(programmes)} programmes."
        )
        if values < 1_000_000:
            self.stdout.write(
                self.style.WARNING("Fewer than 1,000,000 approved values: run generate_synthetic.")
            )
        user, _ = get_user_model().objects.get_or_create(
            username="bench-exports", defaults={"is_superuser": True}
        )
        keys = {}
        for p in programmes:
            _token, keys[p.code] = ApiToken.issue(
                user=user, programme=p, scope="read", days=1, name="benchmark"
            )
        client = Client()

        def download(code: str) -> int:
            response = client.get(
                "/api/v1/results/",
                {"programme": code, "format": "csv"},
                HTTP_AUTHORIZATION=f"Token {keys[code]}",
            )
            assert response.status_code == 200, response.status_code
            lines = 0
            for chunk in response.streaming_content:  # type: ignore[attr-defined]
                lines += chunk.count(b"\n")
            return lines - 1  # the header

        export_rates, floor_rates, rows = [], [], 0
        for run in range(o["runs"]):
            start = time.perf_counter()
            rows = sum(download(p.code) for p in programmes)
            export_s = time.perf_counter() - start
            start = time.perf_counter()
            floor_rows = sum(_floor(p) for p in programmes)
            floor_s = time.perf_counter() - start
            assert floor_rows == rows, (floor_rows, rows)
            export_rates.append(rows / export_s)
            floor_rates.append(rows / floor_s)
            self.stdout.write(
                f"  run {run + 1}: {rows:,} rows, export {export_s:.2f} s "
                f"({rows / export_s:,.0f} rows/s), floor {floor_s:.2f} s"
            )
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        largest = max(programmes, key=lambda p: selector.result_count(selector.ResultQuery(p)))
        tracemalloc.start()
        download(largest.code)
        _current, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        export = statistics.median(export_rates)
        floor = statistics.median(floor_rates)
        self.stdout.write("")
        self.stdout.write(
            f"CSV download of every programme ({rows:,} rows), median of {o['runs']}:"
        )
        self.stdout.write(f"  export through the API   {export:>12,.0f} rows/s   (target ≥ 50,000)")
        self.stdout.write(f"  floor: SQL + cursor only {floor:>12,.0f} rows/s")
        self.stdout.write(f"  export / floor           {export / floor:>12.2f}")
        self.stdout.write(
            f"  peak resident memory of the process: {peak_rss_mb:,.0f} MB (target ≤ 200 MB)"
        )
        self.stdout.write(
            f"  peak Python allocations while downloading {largest.code} "
            f"({selector.result_count(selector.ResultQuery(largest)):,} rows): "
            f"{python_peak / 2**20:,.1f} MB"
        )
        ApiToken.objects.filter(user=user).delete()
