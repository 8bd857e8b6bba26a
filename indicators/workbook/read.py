"""Reading an upload: ``read_workbook`` checks the file (size, type, zip bomb), the token
(this report, its current indicators), reads every input cell and validates them all with
``ReportForm``; ``parse_figure`` reads a figure typed as text."""

import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from openpyxl.utils.cell import coordinate_to_tuple

from ..models import Indicator
from ..report_forms import ReportForm
from ..selectors.reports import ReportSlot
from ..services import Entry
from .annotate import Problem, WorkbookErrors
from .layout import (
    CODE_COL,
    COMMENT_COL,
    FIRST_ROW,
    INPUT_COL,
    NARRATIVE_CELLS,
    URL_COL,
    Row,
    WorkbookRefused,
    cell_at,
    corrupt,
    input_kind,
    layout,
    open_book,
    read_cells,
    slot_codes,
    token_payload,
)

# A zip bomb is refused before openpyxl unpacks it: no honest report workbook comes near this.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
YES, NO = {"1", "yes", "sí", "si", "true"}, {"0", "no", "false"}


@dataclass
class Input:
    """An input cell of the upload and the form field it feeds."""

    field: str
    sheet: str
    cell: str
    label: str  # names the indicator and the cell, as the report page does
    kind: str  # "yes_no", "number" or "text"
    indicator: str = ""
    figure: str = ""
    raw: Any = None

    def problem(self, message: str) -> Problem:
        text = message if message.startswith(self.label) else f"{self.label}: {message}"
        return Problem(self.sheet, self.cell, text, self.indicator, self.figure)


def read_workbook(
    file: File, slot: ReportSlot, indicators: list[Indicator]
) -> tuple[list[Entry], str, str, int]:
    """The entries, narratives and version of an uploaded workbook, validated as a whole.
    Raises ``WorkbookRefused`` for a file that is not this report's workbook and
    ``WorkbookErrors`` when any figure fails."""
    original = _upload_bytes(file)
    book = open_book(original)
    try:
        payload = _payload(book, slot, indicators)
        inputs = _inputs(book, payload, layout(indicators))
    finally:
        book.close()
    form, problems = _validate(inputs, indicators, payload["version"])
    if problems:
        raise WorkbookErrors(original, problems)
    data = form.cleaned_data
    return form.entries(), data["narrative_es"], data["narrative_en"], payload["version"]


def _upload_bytes(file: File) -> bytes:
    """The upload's content, when it is an .xlsx file within the size limit."""
    limit = settings.EVIDENCE_MAX_BYTES
    data = file.read(limit + 1)
    if len(data) > limit:
        raise WorkbookRefused(
            _("The file is larger than %(limit)s; a report workbook is much smaller.")
            % {"limit": filesizeformat(limit)}
        )
    name = (file.name or "").lower()
    if not name.endswith(".xlsx") or not data.startswith(b"PK\x03\x04"):
        raise WorkbookRefused(
            _("The file is not an Excel workbook (.xlsx). Upload the report's workbook.")
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise corrupt() from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise corrupt()
    return data


def _slot_name(codes: list[str]) -> str:
    return " · ".join(codes[1:])


def _payload(book: Any, slot: ReportSlot, indicators: list[Indicator]) -> dict[str, Any]:
    """The token, once it is known to be for this report and its current indicators."""
    payload = token_payload(book)
    codes, ours = payload["slot"], slot_codes(slot)
    if codes[0] != ours[0]:
        raise WorkbookRefused(
            _("This workbook belongs to the programme %(other)s, not to %(this)s.")
            % {"other": codes[0], "this": ours[0]}
        )
    if codes != ours:
        raise WorkbookRefused(
            _(
                "This workbook is the report of %(other)s, not of %(this)s. Upload it on its "
                "own report page, or download this report's workbook."
            )
            % {"other": _slot_name(codes), "this": _slot_name(ours)}
        )
    if payload["rows"] != [row.key for row in layout(indicators)]:
        raise WorkbookRefused(
            _(
                "The indicators of this report changed after the workbook was downloaded. "
                "Download it again and copy your figures into it."
            )
        )
    return payload


def _inputs(book: Any, payload: dict[str, Any], rows: list[Row]) -> list[Input]:
    figures_sheet, narrative_sheet = payload["sheets"]
    last = rows[-1].number if rows else FIRST_ROW
    cells = read_cells(book, figures_sheet, last, URL_COL)
    inputs: list[Input] = []
    for row in rows:
        if cells.get((row.number, CODE_COL)) != row.indicator.code:
            raise WorkbookRefused(
                _("Rows of the sheet “%(sheet)s” were moved or deleted. Download it again.")
                % {"sheet": figures_sheet}
            )
        inputs += _row_inputs(row, figures_sheet, cells)
    narrative = read_cells(book, narrative_sheet, 4, 2)
    for field, coordinate in NARRATIVE_CELLS.items():
        label = str(ReportForm.base_fields[field].label)
        raw = narrative.get(coordinate_to_tuple(coordinate))
        inputs.append(Input(field, narrative_sheet, coordinate, label, "text", raw=raw))
    return inputs


def _row_inputs(row: Row, sheet: str, cells: dict[tuple[int, int], Any]) -> list[Input]:
    code, prefix = row.indicator.code, f"i{row.indicator.pk}"
    kind = "yes_no" if input_kind(row) == "yes_no" else "number"
    wanted = [(INPUT_COL, row.field, row.label, kind, row.what)]
    if row.part == "total":  # comment and evidence belong to the indicator, on its total
        for column, part, what in (
            (COMMENT_COL, "comment", _("Comment")),
            (URL_COL, "url", _("Evidence link")),
        ):
            wanted.append((column, f"{prefix}_{part}", f"{code} · {what}", "text", what))
    return [
        Input(
            field,
            sheet,
            cell_at(row.number, column),
            label,
            kind,
            code,
            what,
            cells.get((row.number, column)),
        )
        for column, field, label, kind, what in wanted
    ]


def _validate(
    inputs: list[Input], indicators: list[Indicator], version: int
) -> tuple[ReportForm, list[Problem]]:
    """Every input through the report form, so the workbook obeys exactly its rules."""
    data = {"version": str(version)}
    own: dict[str, str] = {}
    for item in inputs:
        try:
            data[item.field] = _form_input(item)
        except ValueError as error:
            own[item.field] = str(error)
            data[item.field] = ""
    form = ReportForm(data, indicators=indicators, values={})
    form.is_valid()
    problems: list[Problem] = []
    for item in inputs:
        if item.field in own:  # the form's view of a blanked cell would only confuse
            problems.append(item.problem(own[item.field]))
        else:
            problems += [item.problem(str(m)) for m in form.errors.get(item.field, [])]
    known = {item.field for item in inputs}
    for field, messages in form.errors.items():
        if field not in known:
            problems += [Problem("", "", str(m)) for m in messages]
    return form, problems


def _form_input(item: Input) -> str:
    """A cell's value as the form field expects it typed; ValueError with the message when
    no reading makes sense."""
    raw = item.raw
    # A text cell may start with "=" (a comment as saved); a figure typed so is a formula.
    typed_formula = item.kind != "text" and isinstance(raw, str) and raw.startswith("=")
    if typed_formula or type(raw).__name__.endswith("Formula"):
        raise ValueError(_("formulas are not accepted; type the figure itself."))
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ""
    if item.kind == "text":
        return str(raw).strip()
    if item.kind == "yes_no":
        return _yes_no(raw)
    return _number(raw)


def _yes_no(raw: Any) -> str:
    if isinstance(raw, bool):
        return "1" if raw else "0"
    text = str(int(raw)) if isinstance(raw, int | float) and raw in (0, 1) else str(raw)
    text = text.strip().lower()
    if text in YES or text == _("yes").lower():
        return "1"
    if text in NO or text == _("no").lower():
        return "0"
    raise ValueError(_("a yes/no value is yes or no (or 1 / 0)."))


def _number(raw: Any) -> str:
    """Numbers as the active language writes them, for the form's localized fields."""
    if isinstance(raw, bool):
        return str(raw)  # the form says it is not a number
    if isinstance(raw, int | float | Decimal):
        figure: Decimal | None = Decimal(str(raw))
    elif isinstance(raw, str):
        figure = parse_figure(raw)
    else:
        return str(raw)  # a date, say: the form refuses it
    if figure is None or not figure.is_finite():
        return str(raw).strip()
    return f"{figure:f}".replace(".", str(get_format("DECIMAL_SEPARATOR")))


def parse_figure(text: str) -> Decimal | None:
    """A figure typed as text, with a decimal comma or point: "2,5", "2.5", "1.234,5",
    "1,234.5", "1 234". A separator that appears once, last, is the decimal mark."""
    compact = "".join(text.split())
    last = max(compact.rfind(","), compact.rfind("."))
    whole, decimals = compact, ""
    if last >= 0 and compact.count(compact[last]) == 1:
        whole, decimals = compact[:last], compact[last + 1 :]
    whole = whole.replace(",", "").replace(".", "")
    try:
        return Decimal(f"{whole}.{decimals}" if decimals else whole)
    except InvalidOperation:
        return None
