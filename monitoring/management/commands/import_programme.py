"""Import a programme exported by ``export_programme`` into this instance:

    python manage.py import_programme ciudades.json

Refuses a programme code that exists here. All or nothing; the programme's rollups and budget
figures are computed before the import commits."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.transfer import TransferError, import_programme


class Command(BaseCommand):
    help = "Import a programme document (from export_programme) into this instance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The JSON document.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        try:
            _programme, stats = import_programme(document)
        except TransferError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Programme {document['programme']} imported: {stats.summary()}")
        if stats.users_created:
            self.stdout.write(
                f"{len(stats.users_created)} accounts were created"
                + (
                    " with their passwords."
                    if document.get("with_users")
                    else " without a usable password: set one for each (manage.py changepassword)."
                )
            )
        if stats.missing_files:
            self.stderr.write(
                f"{len(stats.missing_files)} files were missing from the export: "
                f"{stats.missing_files[:5]}"
            )
