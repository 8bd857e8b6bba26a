"""The tidy results table (DESIGN §8) as CSV (streamed), XLSX and JSON. All three write the
rows of ``indicators.selectors.results.result_rows``: approved data only, the same filters,
the same order. Text is neutralised for spreadsheets (a cell never starts a formula);
numbers are written as numbers; the export stamp (as of, restated since) goes in the JSON
envelope, the XLSX's first sheet and, for the CSV, the HTTP headers."""

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook

from indicators.selectors.results import RESULT_COLUMNS, ResultQuery, result_rows

from . import spreadsheet_safe
from .stamp import ExportStamp

Progress = Callable[[int], None]
PROGRESS_EVERY = 5000
FLUSH_BYTES = 64 * 1024
# Columns that hold free text somebody typed (codes are validated and cannot start a formula).
TEXT_COLUMNS = frozenset(
    RESULT_COLUMNS.index(c) for c in ("indicator_name_es", "indicator_name_en")
)


NUMBER_COLUMNS = tuple(
    RESULT_COLUMNS.index(c) for c in ("baseline", "target", "actual", "achievement_pct")
)
MOMENT_COLUMNS = tuple(RESULT_COLUMNS.index(c) for c in ("approved_at", "computed_at"))
CACHE_LIMIT = 10_000


def _plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 292.0000 → 292, 12.5000 → 12.5."""
    text = str(value)
    if "E" in text or "e" in text:
        return f"{value.normalize():f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _safe_rows(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[Any]]:
    """Rows ready for a CSV writer: names neutralised once per distinct text (they repeat
    on every row of an indicator), numbers plain, moments in ISO 8601. Formatting is the
    hot loop of a million-row download, so each column is handled by what it can hold."""
    names: dict[str, str] = {}
    moments: dict[Any, str] = {}
    for row in rows:
        out = list(row)
        for i in NUMBER_COLUMNS:
            value = out[i]
            out[i] = "" if value is None else _plain(value)
        for i in MOMENT_COLUMNS:
            value = out[i]
            if value is None:
                out[i] = ""
                continue
            text = moments.get(value)
            if text is None:
                if len(moments) > CACHE_LIMIT:
                    moments.clear()
                text = moments[value] = value.isoformat()
            out[i] = text
        for i in TEXT_COLUMNS:
            text = out[i]
            safe = names.get(text)
            if safe is None:
                safe = names[text] = spreadsheet_safe(text)
            out[i] = safe
        yield out


def write_csv(
    query: ResultQuery, stamp: ExportStamp, fileobj: IO[str], progress: Progress | None = None
) -> int:
    """Write the whole table to a text file; returns the number of rows."""
    writer = csv.writer(fileobj)
    writer.writerow(RESULT_COLUMNS)
    n = 0
    for row in _safe_rows(result_rows(query)):
        writer.writerow(row)
        n += 1
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(n)
    if progress is not None:
        progress(n)
    return n


def stream_csv(query: ResultQuery, stamp: ExportStamp) -> Iterator[bytes]:
    """The CSV in chunks of about 64 KB, for a StreamingHttpResponse: memory stays flat
    however many rows there are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RESULT_COLUMNS)
    for row in _safe_rows(result_rows(query)):
        writer.writerow(row)
        if buffer.tell() >= FLUSH_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def json_number(value: Any) -> Any:
    """Decimals as JSON numbers: integers stay integers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def row_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    return {c: json_number(v) for c, v in zip(RESULT_COLUMNS, row, strict=True)}


def stream_json(query: ResultQuery, stamp: ExportStamp) -> Iterator[bytes]:
    """``{"stamp": {...}, "columns": [...], "results": [{...}, ...]}``, written row by row."""
    head = json.dumps({"stamp": stamp.as_dict(), "columns": list(RESULT_COLUMNS)})
    yield (head[:-1] + ', "results": [').encode()
    parts: list[str] = []
    size = 0
    first = True
    for row in result_rows(query):
        text = json.dumps(row_dict(row), ensure_ascii=False)
        parts.append(text if first else "," + text)
        first = False
        size += len(text)
        if size >= FLUSH_BYTES:
            yield "".join(parts).encode()
            parts, size = [], 0
    parts.append("]}")
    yield "".join(parts).encode()


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return spreadsheet_safe(value) if isinstance(value, str) else value


def build_xlsx(query: ResultQuery, stamp: ExportStamp, progress: Progress | None = None) -> bytes:
    """A workbook with an "about" sheet (what, as of, filters) and the table."""
    book = Workbook(write_only=True)
    about = book.create_sheet(_("about"))
    about.append([_("Results of %(programme)s") % {"programme": query.programme.code}])
    about.append([stamp.sentence()])
    about.append([])
    about.append([_("Filters")])
    for name in ("city", "agency", "outcome", "output", "indicator", "period", "updated_since"):
        value = getattr(query, name)
        if value:
            about.append([name, _xlsx_cell(value)])
    about.append([])
    about.append(
        [
            _(
                "Only approved figures. city/agency ALL: totals; period LOP: the life of the "
                "programme to date; disaggregation 'total' or dimension=category."
            )
        ]
    )
    sheet = book.create_sheet(_("results"))
    sheet.append(list(RESULT_COLUMNS))
    n = 0
    for row in result_rows(query):
        sheet.append([_xlsx_cell(v) for v in row])
        n += 1
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(n)
    if progress is not None:
        progress(n)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
