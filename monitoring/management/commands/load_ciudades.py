import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from governance.loading import load_ciudades_governance
from indicators.engine import refresh_indicators
from knowledge.loading import load_ciudades_knowledge
from monitoring.demo import DEMO_PASSWORD, ensure_demo_accounts, reopen_last_quarter
from monitoring.loading import LoadError, ProgrammeLoader

DOCUMENT = Path(__file__).resolve().parents[2] / "programme_data" / "ciudades.json"


class Command(BaseCommand):
    help = (
        "Load the ILO/IOM/UNHCR Joint Programme 'Ciudades' (code CIUDADES) and its demo "
        "accounts. Idempotent: running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-demo-accounts", action="store_true", help="Load the programme only."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Operators read command output in English, like Django's own commands.
        with translation.override("en"):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
        try:
            loader = ProgrammeLoader(document)
            stats = loader.load()
        except LoadError as error:
            raise CommandError(f"Nothing was loaded. {error}") from error
        self.stdout.write(f"Programme {loader.programme.code}: {loader.programme.short_name_en}")
        self.stdout.write(stats.summary())
        try:
            knowledge = load_ciudades_knowledge(loader.programme)
        except LoadError as error:
            raise CommandError(f"The evaluation and lessons were not loaded. {error}") from error
        self.stdout.write("Evaluation and lessons:\n" + knowledge.summary())
        try:
            governance = load_ciudades_governance(loader.programme)
        except LoadError as error:
            raise CommandError(f"The risks and governance were not loaded. {error}") from error
        self.stdout.write("Risks and governance:\n" + governance.summary())
        indicator_ids = list(loader.programme.indicators.values_list("pk", flat=True))
        result = refresh_indicators(indicator_ids)
        self.stdout.write(f"Rollups: {result.rows} rows for {result.indicators} indicators.")
        if options["no_demo_accounts"]:
            return
        accounts, created = ensure_demo_accounts(loader.programme)
        period = reopen_last_quarter(loader.programme)
        if period is not None:
            self.stdout.write(
                f"Demo: quarter {period.code} reopened for entry until {period.reopened_until}."
            )
        self.stdout.write(f"Demo accounts ({created} records created), password {DEMO_PASSWORD!r}:")
        for a in accounts:
            scope = " · ".join(x for x in (a.agency, a.city) if x)
            self.stdout.write(
                f"  {a.username:<18} {a.first_name} {a.last_name:<12} {a.role}"
                + (f" ({scope})" if scope else "")
            )
