"""Giving a failed upload back: ``Problem`` and ``WorkbookErrors``, ``annotate`` (failing cells
in red with a comment, and a sheet that lists every problem), and the errors of refusals that
come after reading: ``service_errors`` (from ``report_save``) and ``stale_errors`` (the report
was saved meanwhile)."""

from typing import Any, NamedTuple

from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from monitoring.bilingual import CONTENT_LANGUAGES

from ..models import Indicator, ProgressReport
from .layout import (
    INPUT_COL,
    INPUT_FILL,
    as_text,
    book_bytes,
    cell_at,
    layout,
    open_book,
    token_payload,
)

ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")


class Problem(NamedTuple):
    """One thing wrong with an upload: where (empty for the workbook as a whole) and why."""

    sheet: str
    cell: str
    message: str
    indicator: str = ""
    figure: str = ""


class WorkbookErrors(Exception):
    """The upload's figures did not pass; nothing was saved."""

    def __init__(self, original: bytes, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the workbook")
        self.original = original
        self.problems = problems

    def annotated(self) -> bytes:
        return annotate(self.original, self.problems)


def annotate(original: bytes, problems: list[Problem]) -> bytes:
    """The uploaded workbook with each failing cell in red and a comment that explains it,
    and a first sheet that lists every problem (marks of an earlier upload are cleared)."""
    book = open_book(original, read_only=False)
    _clear_marks(book)
    by_cell: dict[tuple[str, str], list[str]] = {}
    for problem in problems:
        if problem.cell and problem.sheet in book.sheetnames:
            by_cell.setdefault((problem.sheet, problem.cell), []).append(problem.message)
    for (sheet, coordinate), messages in by_cell.items():
        cell = book[sheet][coordinate]
        cell.fill = ERROR_FILL
        cell.comment = Comment("\n".join(messages), "Conjunto", height=120, width=320)
    _errors_sheet(book, problems)
    return book_bytes(book)


def _clear_marks(book: Any) -> None:
    titles = set()
    for language in CONTENT_LANGUAGES:
        with translation.override(language):
            titles.add(_("Errors"))
    for title in titles & set(book.sheetnames):
        book.remove(book[title])
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.fill.fgColor.rgb == ERROR_FILL.fgColor.rgb:
                    cell.fill, cell.comment = INPUT_FILL, None


def _errors_sheet(book: Any, problems: list[Problem]) -> None:
    ws = book.create_sheet(_("Errors"), 0)
    ws["A1"] = _(
        "Nothing was saved. Correct the cells marked in red and upload the workbook again."
    )
    ws["A1"].font = Font(bold=True)
    headers = [_("Sheet"), _("Cell"), _("Indicator"), _("Figure"), _("Problem")]
    for column, header in enumerate(headers, 1):
        ws.cell(3, column, header).font = Font(bold=True)
    for number, p in enumerate(problems, 4):
        for column, value in enumerate([p.sheet, p.cell, p.indicator, p.figure, p.message], 1):
            ws.cell(number, column, value or None).alignment = Alignment(wrap_text=True)
    for letter, width in {"A": 14, "B": 8, "C": 10, "D": 26, "E": 90}.items():
        ws.column_dimensions[letter].width = width
    as_text(ws)
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False  # else Excel opens with the sheets grouped
    book.active = 0


def service_errors(
    original: bytes, messages: list[str], indicators: list[Indicator]
) -> WorkbookErrors:
    """Refusals of ``report_save`` (each names its figure, "1.2.A: …") put on their cells."""
    book = open_book(original)
    try:
        sheet = token_payload(book)["sheets"][0]
    finally:
        book.close()
    rows = [row for row in layout(indicators) if row.part in ("total", "cell")]
    problems = []
    for message in messages:
        matches = [row for row in rows if message.startswith(f"{row.label}:")]
        row = max(matches, key=lambda r: len(r.label), default=None)
        if row is None:
            problems.append(Problem("", "", message))
        else:
            problems.append(
                Problem(
                    sheet, cell_at(row.number, INPUT_COL), message, row.indicator.code, row.what
                )
            )
    return WorkbookErrors(original, problems)


def stale_errors(original: bytes, current: ProgressReport, version: int) -> WorkbookErrors:
    """Somebody saved the report after the workbook was downloaded: say who, when, and that
    nothing of the workbook was saved."""
    by = current.updated_by
    who = (by.get_full_name() or by.username) if by is not None else "—"
    message = _(
        "Nothing was saved: %(who)s saved this report on %(when)s, after this workbook was "
        "downloaded (the workbook has version %(old)s; the report is now at version %(new)s). "
        "Download the workbook again and enter your figures there."
    ) % {
        "who": who,
        "when": date_format(localtime(current.updated_at), "SHORT_DATETIME_FORMAT"),
        "old": version,
        "new": current.version,
    }
    return WorkbookErrors(original, [Problem("", "", message)])
