"""The shape of the report workbook, shared by writing, reading and annotating it.

The constants that place its cells, ``Row`` and ``layout()`` (one row per figure), the signed
token of the very hidden sheet (written by ``sign_token``, checked by ``token_payload``),
``WorkbookRefused`` for an upload that is not this report's workbook, and the helpers that open
an upload and save a workbook as bytes."""

import io
import warnings
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from ..models import DisaggregationCategory, Indicator
from ..selectors.reports import ReportSlot
from ..services.reports import cell_label

Measure = Indicator.Measure

FORMAT = "conjunto.report-workbook.1"
SALT = "indicators.workbook"  # unchanged by the split: workbooks already downloaded stay valid
META_SHEET = "meta"
FIRST_ROW = 5
CODE_COL, INPUT_COL, COMMENT_COL, URL_COL = 1, 7, 8, 9
NARRATIVE_CELLS = {"narrative_es": "B3", "narrative_en": "B4"}
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")


class WorkbookRefused(Exception):
    """The upload is not this report's workbook (or no workbook at all): nothing to annotate."""


@dataclass(frozen=True)
class Row:
    """One figure of the workbook: which indicator and cell its input cell feeds."""

    number: int
    indicator: Indicator
    category: DisaggregationCategory | None
    part: str  # "total", "num", "den" or "cell"

    @property
    def field(self) -> str:
        """The name of the ``ReportForm`` field this row's input is."""
        prefix = f"i{self.indicator.pk}"
        return f"{prefix}_c{self.category.pk}" if self.category else f"{prefix}_{self.part}"

    @property
    def key(self) -> list[Any]:
        return [
            self.number,
            self.indicator.pk,
            self.category.pk if self.category else None,
            self.part,
        ]

    @property
    def label(self) -> str:
        if self.part in ("num", "den"):
            return f"{self.indicator.code} {self.what}"
        return cell_label(self.indicator, self.category)

    @property
    def what(self) -> str:
        if self.category is not None:
            return f"{self.category.dimension.name}: {self.category.name}"
        return {"num": _("numerator"), "den": _("denominator")}.get(self.part, _("Total"))


def layout(indicators: list[Indicator]) -> list[Row]:
    """The rows of the figures sheet, in the order the report page shows them."""
    rows: list[Row] = []
    for indicator in indicators:
        parts: list[tuple[str, DisaggregationCategory | None]] = [("total", None)]
        if indicator.measure == Measure.PERCENT:
            parts += [("num", None), ("den", None)]
        parts += [("cell", c) for d in indicator.dimensions.all() for c in d.categories.all()]
        for part, category in parts:
            rows.append(Row(FIRST_ROW + len(rows), indicator, category, part))
    return rows


def input_kind(row: Row) -> str:
    """Which data validation the row's input gets."""
    if row.part in ("num", "den"):
        return "decimal"
    return {Measure.COUNT: "whole", Measure.PERCENT: "percent", Measure.YES_NO: "yes_no"}.get(
        Measure(row.indicator.measure), "decimal"
    )


def cell_at(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


def workbook_filename(slot: ReportSlot, *, errors: bool = False) -> str:
    codes = "-".join(slot_codes(slot))
    return f"{codes}-errors.xlsx" if errors else f"{codes}.xlsx"


def slot_codes(slot: ReportSlot) -> list[str]:
    return [slot.programme.code, slot.period.code, slot.agency_code, slot.city.code]


# --- The token ----------------------------------------------------------------------------


def sign_token(slot: ReportSlot, rows: list[Row], sheets: list[str]) -> str:
    """Signed, so that a workbook cannot be pointed at another report or layout by hand."""
    payload = {
        "format": FORMAT,
        "slot": slot_codes(slot),
        "version": slot.report.version if slot.report.pk else 0,
        "sheets": sheets,
        "rows": [row.key for row in rows],
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def token_payload(book: Any) -> dict[str, Any]:
    """The token of an opened upload, when it is one of ours and unaltered."""
    if META_SHEET not in book.sheetnames:
        raise _not_ours()
    token = read_cells(book, META_SHEET, 1, 2).get((1, 2))
    try:
        payload = signing.loads(str(token), salt=SALT)
    except signing.BadSignature:
        raise _not_ours() from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise _not_ours()
    return payload


def _not_ours() -> WorkbookRefused:
    return WorkbookRefused(
        _(
            "This workbook was not downloaded from a report page, or its hidden sheet was "
            "altered. Download the report's workbook and enter the figures there."
        )
    )


# --- Opening and saving -------------------------------------------------------------------


def corrupt() -> WorkbookRefused:
    return WorkbookRefused(
        _("The workbook cannot be read; it may be damaged. Save it again in Excel and retry.")
    )


def open_book(data: bytes, *, read_only: bool = True) -> Any:
    """Formulas stay text (``data_only=False``): they are refused, never evaluated."""
    try:
        with warnings.catch_warnings():
            # Workbooks saved by Excel carry extensions openpyxl warns about and drops.
            warnings.simplefilter("ignore")
            return load_workbook(
                io.BytesIO(data), read_only=read_only, data_only=False, keep_links=False
            )
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise corrupt() from error


class CellFormula(str):
    """A cell that holds a formula (not a text that starts with "=")."""


def read_cells(book: Any, title: str, max_row: int, max_col: int) -> dict[tuple[int, int], Any]:
    """The values of a sheet's top-left block, by (row, column); a formula as a
    ``CellFormula``."""
    if title not in book.sheetnames:
        raise WorkbookRefused(
            _("The sheet “%(sheet)s” was renamed or removed. Download the workbook again.")
            % {"sheet": title}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = book[title].iter_rows(max_row=max_row, max_col=max_col)
            return {
                (r, c): CellFormula(cell.value) if cell.data_type == "f" else cell.value
                for r, row in enumerate(rows, 1)
                for c, cell in enumerate(row, 1)
            }
    except Exception as error:  # openpyxl parses sheets lazily: a damaged one fails here
        raise corrupt() from error


def as_text(ws: Any) -> None:
    """No cell we wrote is a formula: a name, comment or narrative starting with "=" is text
    in Excel as in the database (never run when the file is opened), and reads back as typed
    on upload, where only a real formula cell is refused."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def book_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
