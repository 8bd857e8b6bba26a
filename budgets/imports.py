"""Expenditures uploaded as a CSV or XLSX file by a coordinator: read safely, validated whole
(every row through ``ExpenditureForm`` plus the checks only a file needs: which line, may this
person enter it, is a row repeated, is the expenditure still a draft), then either applied in
one transaction as submitted expenditures or refused with every bad row named by its number
as the spreadsheet shows it (the header is row 1) and its column as the file spells it.

Cells are data, never code: a CSV cell that looks like a formula is stored as the text it
is; an XLSX is opened read-only with its cached values (``data_only``), so no formula is ever
evaluated here, and a zip bomb is refused before openpyxl unpacks it."""

import csv
import io
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from monitoring.models import Agency, Country, ReportingPeriod

from .forms import ExpenditureForm, as_of_text
from .models import BudgetLine, Expenditure
from .permissions import can_enter_expenditure
from .selectors_entry import BudgetAccess, entry_periods
from .services import expenditure_save

MAX_ROWS = 5000  # a programme has tens of lines × a dozen quarters; far more is a wrong file
MAX_SCANNED = 20 * MAX_ROWS  # rows read, blank ones included
MAX_COLUMNS = 30
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
REQUIRED = ("agency", "country", "period", "amount", "kind", "as_of")
COLUMNS = (*REQUIRED, "cumulative", "note")
ENGLISH_HEADER = ("agency", "country", "period", "amount", "kind", "as_of", "cumulative", "note")
SPANISH_HEADER = ("agencia", "país", "periodo", "monto", "tipo", "al", "acumulado", "nota")
# Header names, in English and Spanish, compared without case, accents or underscores.
HEADERS = {
    "agency": "agency", "agencia": "agency",
    "country": "country", "pais": "country",
    "period": "period", "periodo": "period", "quarter": "period", "trimestre": "period",
    "amount": "amount", "monto": "amount",
    "kind": "kind", "tipo": "kind",
    "as of": "as_of", "al": "as_of", "fecha": "as_of",
    "cumulative": "cumulative", "acumulado": "cumulative",
    "note": "note", "nota": "note",
}  # fmt: skip
KINDS = {
    "interim": Expenditure.Kind.INTERIM, "provisional": Expenditure.Kind.INTERIM,
    "certified": Expenditure.Kind.CERTIFIED, "certificado": Expenditure.Kind.CERTIFIED,
    "certificada": Expenditure.Kind.CERTIFIED,
}  # fmt: skip
YES = {"yes", "y", "si", "s", "true", "1", "x", "verdadero"}
NO = {"no", "n", "false", "0", "", "falso"}


class UploadRefused(Exception):
    """The file as a whole cannot be used (size, type, damaged, columns): nothing to name
    row by row."""


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str  # as the file spells it; empty when the problem is the whole row
    message: str


class UploadInvalid(Exception):
    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass
class Table:
    columns: dict[str, str]  # canonical name → header as written
    rows: list[tuple[int, dict[str, Any]]]  # (row number, canonical name → cell)


@dataclass
class UploadRow:
    number: int
    line: BudgetLine
    arguments: dict[str, Any]  # for ``expenditure_save``


def fold(text: Any) -> str:
    """Text compared the way people mean it: no case, accents, underscores or extra spaces."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(plain.replace("_", " ").casefold().split())


def read_table(file: File) -> Table:
    """The rows of an uploaded CSV or XLSX file, by canonical column name."""
    limit = settings.EVIDENCE_MAX_BYTES
    data = file.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(
            _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}
        )
    name = (file.name or "").lower()
    if name.endswith(".xlsx") and data.startswith(b"PK\x03\x04"):
        cells = _xlsx_cells(data)
    elif name.endswith(".csv") and not data.startswith(b"PK\x03\x04") and b"\x00" not in data:
        cells = _csv_cells(data)
    else:
        raise UploadRefused(_("The file is not a CSV or Excel (.xlsx) file."))
    return _table(cells)


def _csv_cells(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:  # saved by Excel on Windows
        text = data.decode("cp1252", errors="replace")
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header.count)  # Spanish Excel writes ";"
    try:
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _bounded(rows)
    except csv.Error as error:
        message = _("The CSV file cannot be read: %(error)s") % {"error": error}
        raise UploadRefused(message) from None


def _xlsx_cells(data: bytes) -> list[list[Any]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        unpacked = MAX_UNPACKED_BYTES + 1
    if unpacked > MAX_UNPACKED_BYTES:
        raise UploadRefused(_("The Excel file cannot be read; it may be damaged."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # extensions openpyxl does not know, dropped
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
            try:
                sheet = book.worksheets[0]
                return _bounded(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
            finally:
                book.close()
    except UploadRefused:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise UploadRefused(_("The Excel file cannot be read; it may be damaged.")) from error


def _bounded(rows: Iterable[Iterable[Any]]) -> list[list[Any]]:
    """At most ``MAX_ROWS`` filled rows. Blank ones (Excel keeps formatted empty rows) are
    kept empty, for the numbering, and bounded too, so a sheet cannot keep us reading."""
    out: list[list[Any]] = []
    filled = 0
    for row in rows:
        cells = list(row)[:MAX_COLUMNS]
        blank = all(_blank(cell) for cell in cells)
        filled += not blank
        if filled > MAX_ROWS + 1 or len(out) > MAX_SCANNED:
            raise UploadRefused(
                _("The file has more than %(max)d rows; upload it in parts.") % {"max": MAX_ROWS}
            )
        out.append([] if blank else cells)
    return out


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _table(cells: list[list[Any]]) -> Table:
    """The header on row 1 names the columns; blank rows are skipped but keep their number."""
    if not cells:
        raise UploadRefused(_("The file is empty."))
    columns: dict[str, str] = {}
    positions: dict[str, int] = {}
    for index, header in enumerate(cells[0]):
        if _blank(header):
            continue
        written = str(header).strip()
        canonical = HEADERS.get(fold(written))
        if canonical is None:
            raise UploadRefused(
                _("Unknown column “%(column)s” in row 1. The columns are: %(columns)s.")
                % {"column": written, "columns": ", ".join(template_header())}
            )
        if canonical in columns:
            raise UploadRefused(
                _("The column “%(column)s” appears twice in row 1.") % {"column": written}
            )
        columns[canonical], positions[canonical] = written, index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise UploadRefused(
            _("Row 1 lacks the columns: %(missing)s.")
            % {"missing": ", ".join(template_header()[COLUMNS.index(m)] for m in missing)}
        )
    rows = []
    for number, row in enumerate(cells[1:], start=2):
        if all(_blank(cell) for cell in row):
            continue
        values = {name: row[i] if i < len(row) else None for name, i in positions.items()}
        rows.append((number, values))
    if not rows:
        raise UploadRefused(_("The file has no rows below its header."))
    return Table(columns, rows)


def template_header() -> list[str]:
    """The column names, in the interface's language (both are always accepted). They are a
    file format, not interface text: fixed here, never through the translation catalogue."""
    spanish = (get_language() or "").startswith("es")
    return list(SPANISH_HEADER if spanish else ENGLISH_HEADER)


@dataclass
class Lookups:
    """What the rows name, read once for the whole file."""

    agencies: dict[str, Agency]  # folded code, acronym or name → agency
    countries: dict[str, Country]
    periods: list[ReportingPeriod]
    period_codes: dict[str, str]  # folded code → code
    lines: dict[tuple[int, int], list[BudgetLine]]  # (agency, country) → lines
    existing: dict[tuple[int, int, bool], Expenditure]


def _lookups(base: BudgetAccess) -> Lookups:
    programme = base.programme
    agencies: dict[str, Agency] = {}
    for a in programme.agencies.all():
        for name in (a.code, a.acronym_es, a.acronym_en, a.name_es, a.name_en):
            agencies.setdefault(fold(name), a)
    countries: dict[str, Country] = {}
    for c in Country.objects.filter(pk__in=set(base.city_countries.values())):
        for name in (c.code, c.name_es, c.name_en):
            countries.setdefault(fold(name), c)
    periods = list(entry_periods(programme))
    lines: dict[tuple[int, int], list[BudgetLine]] = {}
    all_lines = BudgetLine.objects.filter(programme=programme, view=BudgetLine.View.LINE)
    for line in all_lines.select_related("agency", "country"):
        lines.setdefault((line.agency_id, line.country_id or 0), []).append(line)
    existing = {
        (e.line_id, e.period_id, e.cumulative): e
        for e in Expenditure.objects.filter(
            line__programme=programme, period__in=periods
        ).select_related("period")
    }
    codes = {fold(p.code): p.code for p in periods}
    return Lookups(agencies, countries, periods, codes, lines, existing)


def _text(cell: Any) -> str:
    return "" if cell is None else str(cell).strip()


@dataclass
class _Row:
    """One data row being checked: its problems, named by column."""

    number: int
    values: dict[str, Any]
    columns: dict[str, str]
    problems: list[RowProblem] = field(default_factory=list)

    def problem(self, name: str, message: str) -> None:
        self.problems.append(RowProblem(self.number, self.columns.get(name, ""), message))


def _line(row: _Row, look: Lookups, base: BudgetAccess) -> BudgetLine | None:
    """The budget line the row's agency and country name, if this person may enter it."""
    agency = look.agencies.get(fold(_text(row.values["agency"])))
    country = look.countries.get(fold(_text(row.values["country"])))
    for name, found in (("agency", agency), ("country", country)):
        value = _text(row.values[name])
        if found is None and not value:
            row.problem(name, _("This field is required."))
        elif found is None:
            row.problem(name, _("Unknown in this programme: “%(value)s”.") % {"value": value})
    if agency is None or country is None:
        return None
    names = {"agency": agency.acronym, "country": country.name}
    lines = look.lines.get((agency.pk, country.pk), [])
    if len(lines) != 1:
        message = (
            _("The programme has no budget line of %(agency)s in %(country)s.")
            if not lines
            else _("%(agency)s has several lines in %(country)s: enter it on the line's page.")
        )
        row.problem("country", message % names)
        return None
    if not can_enter_expenditure(base.access, lines[0], base.city_countries):
        coordinates_agency = any(a == agency.pk for a, _city in base.access.coordinates)
        row.problem(
            "country" if coordinates_agency else "agency",
            _("You may not enter expenditures of %(agency)s in %(country)s.") % names,
        )
        return None
    return lines[0]


def _form_data(row: _Row, look: Lookups) -> dict[str, Any]:
    values = row.values
    amount = values["amount"]
    if isinstance(amount, int | float) and not isinstance(amount, bool):
        amount = Decimal(str(amount))  # a number cell: no separators to guess
    period, kind = _text(values["period"]), _text(values["kind"])
    data = {
        "period": look.period_codes.get(fold(period), period),
        "amount": amount if isinstance(amount, Decimal) else _text(amount),
        "kind": KINDS.get(fold(kind), kind),
        "as_of": as_of_text(values["as_of"]),
        "note": _text(values.get("note")),
    }
    cumulative = fold(_text(values.get("cumulative")))
    if cumulative in YES:
        data["cumulative"] = "on"
    elif cumulative not in NO:
        row.problem("cumulative", _("Write yes or no (empty means no)."))
    return data


def _check_row(row: _Row, look: Lookups, base: BudgetAccess) -> UploadRow | None:
    line = _line(row, look, base)
    form = ExpenditureForm(_form_data(row, look), periods=look.periods)
    form.is_valid()
    for name, messages in form.errors.items():
        for message in messages:
            row.problem(name, str(message))
    if row.problems or line is None:
        return None
    return UploadRow(row.number, line, form.service_arguments())


def validate_table(table: Table, base: BudgetAccess) -> list[UploadRow]:
    """Every row checked; the rows to apply, or ``UploadInvalid`` naming each bad one."""
    look = _lookups(base)
    problems: list[RowProblem] = []
    good: list[UploadRow] = []
    seen: dict[tuple[int, int, bool], int] = {}
    for number, values in table.rows:
        row = _Row(number, values, table.columns)
        checked = _check_row(row, look, base)
        if checked is not None:
            key = (checked.line.pk, checked.arguments["period"].pk, checked.arguments["cumulative"])
            _check_once(row, key, seen, look)
            if not row.problems:
                good.append(checked)
        problems += row.problems
    if problems:
        raise UploadInvalid(problems)
    return good


def _check_once(
    row: _Row, key: tuple[int, int, bool], seen: dict[tuple[int, int, bool], int], look: Lookups
) -> None:
    """Neither repeated in the file nor already beyond a draft."""
    if key in seen:
        row.problem(
            "period",
            _("Repeats row %(row)d: the same line and quarter (and cumulative or not).")
            % {"row": seen[key]},
        )
        return
    seen[key] = row.number
    current = look.existing.get(key)
    if current is not None and current.status != Expenditure.Status.DRAFT:
        row.problem(
            "period",
            _("This line's expenditure for %(period)s is already %(status)s; it cannot change.")
            % {"period": current.period.code, "status": current.get_status_display()},
        )


@transaction.atomic
def expenditures_import(*, rows: list[UploadRow], actor: User) -> list[Expenditure]:
    """Save and submit every row, or none: a row the service refuses (somebody submitted the
    same expenditure meanwhile, say) rolls the whole file back."""
    saved = []
    for row in rows:
        try:
            saved.append(expenditure_save(line=row.line, **row.arguments, actor=actor, submit=True))
        except ValidationError as error:
            raise UploadInvalid([RowProblem(row.number, "", m) for m in error.messages]) from None
    return saved


def import_expenditures(file: File, base: BudgetAccess, actor: User) -> list[Expenditure]:
    """Read, validate and apply an upload (``UploadRefused`` / ``UploadInvalid`` otherwise)."""
    return expenditures_import(rows=validate_table(read_table(file), base), actor=actor)
