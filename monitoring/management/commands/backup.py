"""Back up the database and the uploaded files into a new directory:

    python manage.py backup --out /var/backups/conjunto/2026-11-30T0230

See docs/operations.md for the schedule, where to keep backups, and the restore."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Write a backup (database dump, tar.gz of the uploaded files, manifest with "
        "checksums) into a new or empty directory."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="A new or empty directory.")
        parser.add_argument(
            "--pg-bin", help="Directory of pg_dump/pg_restore, if not the ones on the PATH."
        )
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        try:
            manifest = backup(out, using=options["database"], pg_bin=options["pg_bin"])
        except BackupError as error:
            raise CommandError(f"No backup was made. {error}") from error
        rows = sum(manifest["rows"].values())
        self.stdout.write(
            f"Backup written to {out}: {manifest['database']['vendor']} database "
            f"({len(manifest['rows'])} tables, {rows} rows), {manifest['stored_files']} files."
        )
