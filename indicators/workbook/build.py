"""Writing the report's workbook: ``build_workbook`` and the sheets, input cells, data
validations and sheet protection it is made of."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, Protection
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from ..models import Indicator, IndicatorValue, Target
from ..report_forms import ReportForm
from ..selectors.reports import ReportSlot
from .layout import (
    COMMENT_COL,
    FIRST_ROW,
    INPUT_COL,
    INPUT_FILL,
    META_SHEET,
    NARRATIVE_CELLS,
    URL_COL,
    Measure,
    Row,
    as_text,
    book_bytes,
    input_kind,
    layout,
    sign_token,
)

Figures = dict[tuple[int, int | None], IndicatorValue]

HEADER_ROW = 4
WIDTHS = {"A": 10, "B": 50, "C": 28, "D": 22, "E": 14, "F": 12, "G": 16, "H": 40, "I": 36}


def build_workbook(
    slot: ReportSlot,
    indicators: list[Indicator],
    values: Figures,
    previous: Figures,
    targets: dict[int, Target],
) -> bytes:
    """The report's workbook as .xlsx bytes, in the active language, with the saved figures
    already in the input cells (uploading it unchanged changes nothing)."""
    book = Workbook()
    rows = layout(indicators)
    figures = book.active
    figures.title = _("Figures")
    _write_figures(figures, slot, rows, values, previous, targets)
    narrative = book.create_sheet(_("Narrative"))
    _write_narrative(narrative, slot)
    meta = book.create_sheet(META_SHEET)
    meta.sheet_state = "veryHidden"  # not even Excel's "Unhide" shows it
    meta["A1"], meta["B1"] = "token", sign_token(slot, rows, [figures.title, narrative.title])
    for sheet in (figures, narrative):
        as_text(sheet)
    book.security = WorkbookProtection(lockStructure=True)
    return book_bytes(book)


def _write_figures(
    ws: Any,
    slot: ReportSlot,
    rows: list[Row],
    values: Figures,
    previous: Figures,
    targets: dict[int, Target],
) -> None:
    who = slot.agency.acronym if slot.agency else _("Joint (RCO)")
    ws["A1"] = f"{_('Quarterly report')} · {who} · {slot.city.name} · {slot.period.name}"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = _(
        "Enter this quarter's figures in the yellow cells only; the other cells are locked. "
        "Then upload the workbook on the report page."
    )
    headers = [
        _("Indicator"), _("Statement"), _("Figure"), _("Unit / measure"), _("Last quarter"),
        _("Target"), _("This quarter"), _("Comment"), _("Evidence link"),
    ]  # fmt: skip
    for column, header in enumerate(headers, 1):
        ws.cell(HEADER_ROW, column, header).font = Font(bold=True)
    for row in rows:
        for column, value in enumerate(_row_values(row, values, previous, targets), 1):
            ws.cell(row.number, column, value).alignment = Alignment(vertical="top", wrap_text=True)
    _unlock_inputs(ws, rows)
    for letter, width in WIDTHS.items():
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(FIRST_ROW, 4)
    _protect(ws)


def _row_values(
    row: Row, values: Figures, previous: Figures, targets: dict[int, Target]
) -> list[Any]:
    ind, total = row.indicator, row.part == "total"
    cell = (ind.pk, row.category.pk if row.category else None)
    unit = ind.get_measure_display()
    target = targets.get(ind.pk) if total else None
    saved = values.get(cell)
    return [
        ind.code,
        ind.name if total else "",
        row.what,
        f"{ind.unit} · {unit}" if ind.unit else unit,
        _saved(previous.get(cell), row),
        _as_cell(target.value, ind.measure) if target is not None else None,
        _saved(saved, row),
        saved.comment if total and saved is not None else None,
        saved.evidence_url if total and saved is not None else None,
    ]


def _saved(value: IndicatorValue | None, row: Row) -> Any:
    if value is None:
        return None
    if row.part in ("num", "den"):
        figure = value.numerator if row.part == "num" else value.denominator
        return _as_cell(figure, Measure.AMOUNT)
    return _as_cell(value.value, row.indicator.measure)


def _as_cell(figure: Decimal | None, measure: str) -> Any:
    """A figure as Excel holds it: a number (an int when whole), or yes / no."""
    if figure is None:
        return None
    if measure == Measure.YES_NO:
        return _("yes") if figure == 1 else _("no")
    return int(figure) if figure == figure.to_integral_value() else float(figure)


def _unlock_inputs(ws: Any, rows: list[Row]) -> None:
    checks = _validations()
    for check in checks.values():
        ws.add_data_validation(check)
    for row in rows:
        inputs = [(INPUT_COL, input_kind(row))]
        if row.part == "total":
            inputs += [(COMMENT_COL, "comment"), (URL_COL, "url")]
        for column, kind in inputs:
            cell = ws.cell(row.number, column)
            cell.protection = Protection(locked=False)
            cell.fill = INPUT_FILL
            checks[kind].add(cell)


def _validations() -> dict[str, DataValidation]:
    """Excel's own checks while typing; the upload is validated again all the same."""
    at_least_0, at_most = ("greaterThanOrEqual", "0", None), "lessThanOrEqual"
    rules = {  # kind: (type, (operator, formula1, formula2), error)
        "whole": ("whole", at_least_0, _("Enter a whole number, 0 or more.")),
        "decimal": ("decimal", at_least_0, _("Enter a number, 0 or more.")),
        "percent": ("decimal", ("between", "0", "100"), _("Enter a percentage from 0 to 100.")),
        "yes_no": ("list", (None, f'"{_("yes")},{_("no")}"', None), _("Choose yes or no.")),
        "comment": ("textLength", (at_most, "4000", None), _("At most 4,000 characters.")),
        "url": ("textLength", (at_most, "500", None), _("At most 500 characters.")),
    }
    return {
        kind: DataValidation(
            type=kind_type,
            operator=operator,
            formula1=formula1,
            formula2=formula2,
            allow_blank=True,
            showErrorMessage=True,
            error=error,
        )
        for kind, (kind_type, (operator, formula1, formula2), error) in rules.items()
    }


def _write_narrative(ws: Any, slot: ReportSlot) -> None:
    ws["A1"] = _("Narrative")
    ws["A1"].font = Font(bold=True, size=13)
    report = slot.report
    for field, coordinate in NARRATIVE_CELLS.items():
        row = ws[coordinate].row
        ws.cell(row, 1, str(ReportForm.base_fields[field].label)).font = Font(bold=True)
        cell = ws[coordinate]
        cell.value = getattr(report, field) or None
        cell.protection = Protection(locked=False)
        cell.fill = INPUT_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        ws.row_dimensions[row].height = 150
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 100
    _protect(ws)


def _protect(ws: Any) -> None:
    """Locked against accidents, not against intent: no password (the upload is checked)."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # people may still widen columns and rows
    ws.protection.formatRows = False
