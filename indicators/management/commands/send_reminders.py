"""Send the report reminders and escalations owed today, as Celery beat does every morning:
for operators who run without beat, catch up on a missed day, or want to see what would go
out (``--dry-run`` records and sends nothing)."""

import argparse
import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from indicators.reminders import reminders_owed, send_due_reminders


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


class Command(BaseCommand):
    help = "Send the report reminders and escalations owed today (each at most once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today", type=_day, help="Act as if today were this date (YYYY-MM-DD)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be sent; record nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = options["today"] or timezone.localdate()
        if options["dry_run"]:
            owed = reminders_owed(today=today)
            for reminder in owed:
                self.stdout.write(reminder.describe())
            self.stdout.write(f"{len(owed)} reminders owed on {today}; dry run: nothing sent.")
            return
        sent = send_due_reminders(today=today)
        for row in sent:
            agency, city = getattr(row.agency, "code", "-"), getattr(row.city, "code", "-")
            self.stdout.write(
                f"{row.kind} {row.programme.code} {row.period.code} {agency} {city} "
                f"→ {row.recipients}"
            )
        self.stdout.write(f"{len(sent)} reminders sent on {today}.")
