"""Reading an uploaded file's cells: a CSV (UTF-8, else Windows' cp1252; ``,``, ``;`` or tab)
or the first sheet of an XLSX, read as ``budgets.imports`` reads them (size limit, a zip bomb
refused before openpyxl unpacks it, cached values only), bounded in rows and columns."""

import csv
import io
import warnings
import zipfile
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from budgets.imports import MAX_UNPACKED_BYTES, UploadRefused

MAX_ROWS = 20000  # responses in one file; more is a wrong file, or one to split
MAX_COLUMNS = 600  # a Kobo export has a column per question, per option, and its metadata


def read_cells(file: File) -> list[list[Any]]:
    """The cells of an uploaded CSV or XLSX file (its first sheet), row by row."""
    limit = settings.EVIDENCE_MAX_BYTES
    data = file.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(
            _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}
        )
    name, zipped = (file.name or "").lower(), data.startswith(b"PK\x03\x04")
    if name.endswith(".xlsx") and zipped:
        return _xlsx_cells(data)
    if name.endswith(".csv") and not zipped and b"\x00" not in data:
        return _csv_cells(data)
    raise UploadRefused(_("The file is not a CSV or Excel (.xlsx) file."))


def _csv_cells(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:  # saved by Excel on Windows
        text = data.decode("cp1252", errors="replace")
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header.count)  # Kobo and Spanish Excel write ";"
    try:
        return _bounded(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        message = _("The CSV file cannot be read: %(error)s") % {"error": error}
        raise UploadRefused(message) from None


def _xlsx_cells(data: bytes) -> list[list[Any]]:
    damaged = UploadRefused(_("The Excel file cannot be read; it may be damaged."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise damaged
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # extensions openpyxl does not know, dropped
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        try:
            rows = book.worksheets[0].iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
            return _bounded(rows)
        finally:
            book.close()
    except UploadRefused:
        raise
    except Exception as error:  # zipfile and openpyxl raise many kinds on a damaged file
        raise damaged from error


def _bounded(rows: Iterable[Iterable[Any]]) -> list[list[Any]]:
    """At most ``MAX_ROWS`` rows below the header and ``MAX_COLUMNS`` columns; blank rows are
    kept (empty) for the numbering."""
    out: list[list[Any]] = []
    filled = 0
    for row in rows:
        cells = list(row)
        if any(cell_text(c) for c in cells[MAX_COLUMNS:]):
            message = _("The file has more than %(max)d columns.") % {"max": MAX_COLUMNS}
            raise UploadRefused(message)
        cells = cells[:MAX_COLUMNS]
        blank = all(cell_text(c) == "" for c in cells)
        filled += not blank
        if filled > MAX_ROWS + 1 or len(out) > 5 * MAX_ROWS:
            raise UploadRefused(
                _("The file has more than %(max)d rows; upload it in parts.") % {"max": MAX_ROWS}
            )
        out.append([] if blank else cells)
    return out


def cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # a spreadsheet's 4.0 is the answer 4
    return str(cell).strip()
