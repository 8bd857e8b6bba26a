"""Export a whole programme to one JSON document that another instance can import:

    python manage.py export_programme CIUDADES --out ciudades.json [--with-users]

The document holds personal data (names, e-mail addresses, survey respondents): keep it as
you keep backups. See docs/operations.md."""

import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from monitoring.transfer import TransferError, export_programme


class Command(BaseCommand):
    help = "Export a programme and everything under it to a JSON document."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="Programme code, e.g. CIUDADES.")
        parser.add_argument("--out", required=True, type=Path, help="The JSON file to write.")
        parser.add_argument(
            "--with-users",
            action="store_true",
            help="Include users' password hashes and staff flags (otherwise accounts are "
            "exported without a usable password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        if out.exists():
            raise CommandError(f"{out} exists; give a new file name.")
        try:
            document = export_programme(options["code"], with_users=options["with_users"])
        except TransferError as error:
            raise CommandError(str(error)) from error
        partial = out.with_name(f".{out.name}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as f:
            json.dump(document, f, cls=DjangoJSONEncoder, ensure_ascii=False)
        partial.rename(out)
        records = sum(len(block["rows"]) for block in document["records"])
        missing = [f["name"] for f in document["files"] if f.get("missing")]
        self.stdout.write(
            f"Programme {document['programme']} written to {out}: {records} records, "
            f"{len(document['users'])} users, {len(document['files']) - len(missing)} files."
        )
        if missing:
            self.stderr.write(
                f"{len(missing)} files named by records were not found: {missing[:5]}"
            )
