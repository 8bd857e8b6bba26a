import datetime as dt
from typing import Any

from .upsert import LoadError


def parse_date(record: str, field: str, raw: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise LoadError(record, field, f"expected a date YYYY-MM-DD, got {raw!r}.") from None


def approved_at(record: str, raw: Any) -> dt.datetime:
    """A historical approval date, stored as noon UTC of that day."""
    day = parse_date(record, "approved_at", raw)
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)
