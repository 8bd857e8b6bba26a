"""``manage.py loadtest``: concurrent coordinators saving and submitting reports against
gunicorn and the configured database, with the figures and the checks printed (issue 8 §3).
The engine is ``monitoring.loadtest``; the test ``tests/security/test_load.py`` runs it too."""

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from monitoring import loadtest


class Command(BaseCommand):
    help = (
        "Start gunicorn on a free port and have N coordinators save and submit their quarterly "
        "reports at once for a bounded time (some pairs on the same report, some through the "
        "API); print throughput and latency per kind of request beside one user alone, and "
        "check that no update was lost."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        cores = os.cpu_count() or 1
        parser.add_argument("--users", type=int, default=50, help="coordinators at once")
        parser.add_argument("--seconds", type=float, default=60, help="length of the load")
        parser.add_argument(
            "--workers", type=int, default=2 * cores + 1, help="gunicorn workers (2 × cores + 1)"
        )
        parser.add_argument("--threads", type=int, default=4, help="threads per worker")
        parser.add_argument(
            "--pairs",
            type=int,
            default=None,
            help="pairs of coordinators sharing one report (default: users / 10)",
        )
        parser.add_argument(
            "--api-share",
            type=float,
            default=0.2,
            help="share of the other coordinators who also work through the API",
        )
        parser.add_argument(
            "--baseline-seconds",
            type=float,
            default=None,
            help="how long one user works alone first (default: a sixth of --seconds, ≥ 5)",
        )
        parser.add_argument(
            "--keep", action="store_true", help="keep the LOADTEST programme and its accounts"
        )

    def handle(self, *args: Any, **o: Any) -> None:
        users, seconds = o["users"], o["seconds"]
        if users < 2 or seconds <= 0 or o["workers"] < 1 or o["threads"] < 1:
            raise CommandError("Give at least 2 users, some seconds, 1 worker and 1 thread.")
        pairs = users // 10 if o["pairs"] is None else o["pairs"]
        baseline = o["baseline_seconds"] or max(5.0, seconds / 6)
        # Quarters enough that nobody runs out: a coordinator gets through a quarter in well
        # over a second even alone.
        periods = int(seconds + baseline) + 8
        db = connection.settings_dict
        self.stdout.write(
            f"Preparing {users} coordinators and {periods} quarters in programme "
            f"{loadtest.PROGRAMME} ({connection.vendor} {db['NAME']})…"
        )
        try:
            plan = loadtest.build(
                users=users, pairs=pairs, api_share=o["api_share"], periods=periods
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        server_text = (
            f"gunicorn monitoring.wsgi, {o['workers']} workers × {o['threads']} threads; "
            f"{connection.vendor} ({db['NAME']}); {settings.SETTINGS_MODULE}, "
            f"DEBUG {'on' if settings.DEBUG else 'off'}; {os.cpu_count()} cores"
        )
        try:
            with loadtest.temporary_log() as log_path:
                with loadtest.Server(
                    workers=o["workers"], threads=o["threads"], log_path=log_path
                ) as server:
                    server.warm_up()
                    self.stdout.write(
                        f"gunicorn on http://{server.host}:{server.port}/; one user alone for "
                        f"{baseline:g} s, then {users} at once for {seconds:g} s…"
                    )
                    outcome = loadtest.run(
                        plan,
                        server.host,
                        server.port,
                        seconds=seconds,
                        baseline_seconds=baseline,
                        server_cpu=server.cpu_seconds,
                    )
                    log_tail = server.log_problems()
                verdict = loadtest.verify(outcome)
                self.stdout.write(loadtest.render(outcome, verdict, server=server_text))
                if not verdict.ok:
                    self.stderr.write("gunicorn's log, warnings and errors:\n" + log_tail)
        finally:
            if not o["keep"]:
                loadtest.remove()
        if not verdict.ok:
            raise CommandError(f"{len(verdict.problems)} problems found (listed above).")
