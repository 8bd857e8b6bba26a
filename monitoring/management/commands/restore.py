"""Restore a backup made by ``manage.py backup`` into an empty database and file storage:

    DATABASE_URL=postgres://…/conjunto_new python manage.py restore /var/backups/conjunto/…

Refuses a database that holds any table, and a storage that holds any of the backup's files,
unless --force (which drops every table first). See docs/operations.md."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup directory into an empty database and file storage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="The backup directory.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace everything in a non-empty database and overwrite stored files.",
        )
        parser.add_argument(
            "--pg-bin", help="Directory of pg_dump/pg_restore, if not the ones on the PATH."
        )
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["source"]
        try:
            result = restore(
                source,
                using=options["database"],
                force=options["force"],
                pg_bin=options["pg_bin"],
            )
        except BackupError as error:
            raise CommandError(f"Restore failed. {error}") from error
        self.stdout.write(
            f"Restored {source}: {result.tables} tables with the backup's row counts, "
            f"{result.files} files."
        )
        if result.missing_migrations:
            self.stdout.write(
                f"The code has {len(result.missing_migrations)} migrations the backup predates: "
                "run 'python manage.py migrate' now."
            )
