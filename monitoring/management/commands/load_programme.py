import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from indicators.engine import refresh_indicators
from monitoring.loading import LoadError, ProgrammeLoader


class Command(BaseCommand):
    help = "Load a programme document (JSON). All or nothing; loading it again changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The programme document (JSON).")

    def handle(self, *args: Any, **options: Any) -> None:
        # Operators read command output in English, like Django's own commands.
        with translation.override("en"):
            self._handle(**options)

    def _handle(self, **options: Any) -> None:
        path: Path = options["path"]
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        try:
            loader = ProgrammeLoader(document)
            stats = loader.load()
        except LoadError as error:
            raise CommandError(f"Nothing was loaded. {error}") from error
        self.stdout.write(stats.summary())
        indicator_ids = list(loader.programme.indicators.values_list("pk", flat=True))
        result = refresh_indicators(indicator_ids)
        self.stdout.write(f"Rollups: {result.rows} rows for {result.indicators} indicators.")
