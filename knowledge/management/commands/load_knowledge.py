import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from knowledge.loading import DATA, load_knowledge
from monitoring.loading import LoadError
from monitoring.models import Programme


class Command(BaseCommand):
    help = (
        "Load a programme's evaluations, recommendations, lessons and good practices from "
        "knowledge/data/<code>.json (or --file). Idempotent; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="The programme's code, e.g. CIUDADES.")
        parser.add_argument("--file", type=Path, help="Another knowledge document to load.")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override("en"):
            programme = Programme.objects.filter(code=options["code"]).first()
            if programme is None:
                raise CommandError(f"No programme {options['code']!r}: load it first.")
            path = options["file"] or DATA / f"{programme.code.lower()}.json"
            if not path.exists():
                raise CommandError(f"No knowledge document at {path}.")
            try:
                stats = load_knowledge(programme, json.loads(path.read_text(encoding="utf-8")))
            except (LoadError, json.JSONDecodeError) as error:
                raise CommandError(f"Nothing was loaded. {error}") from error
            self.stdout.write(f"Knowledge of {programme.code} from {path.name}:")
            self.stdout.write(stats.summary())
