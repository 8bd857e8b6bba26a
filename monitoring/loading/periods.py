"""Calendar quarters between two quarter codes ("2020-Q4" … "2023-Q2")."""

import datetime as dt
import re
from typing import Any

from .upsert import LoadError

QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def _parse(record: str, field: str, code: Any) -> tuple[int, int]:
    match = QUARTER.match(str(code))
    if not match:
        raise LoadError(record, field, f"expected a quarter like 2021-Q1, got {code!r}.")
    return int(match[1]), int(match[2])


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * quarter - 2, 1)
    next_start = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, next_start - dt.timedelta(days=1)


def quarter_spans(spec: dict[str, Any]) -> list[dict[str, Any]]:
    record = "periods › quarters"
    first = _parse(record, "first", spec.get("first"))
    last = _parse(record, "last", spec.get("last"))
    if last < first:
        raise LoadError(record, "last", "the last quarter comes before the first.")
    due_days = int(spec.get("due_days_after_end", 15))
    spans = []
    year, quarter = first
    while (year, quarter) <= last:
        start, end = quarter_bounds(year, quarter)
        spans.append(
            {
                "code": f"{year}-Q{quarter}",
                "kind": "quarter",
                "name_es": f"T{quarter} {year}",
                "name_en": f"Q{quarter} {year}",
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "due_date": (end + dt.timedelta(days=due_days)).isoformat(),
                "status": spec.get("status", "open"),
                "source": spec.get("source", ""),
            }
        )
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return spans
