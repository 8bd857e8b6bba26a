"""The budget export (DESIGN §6, §8): the budget figures (approved budget and spending per
programme, agency, country, agency × country, category, outcome and output, with cost per
result), the budget lines, the approved revisions and the approved expenditures.

Approved data only, whoever asks: the figures are computed from approved expenditures, a
line's amount is its approved amount, and revisions and expenditures are listed once
approved. That is what donors may see (budgets.permissions), and what every member sees in
an export, so two people's downloads of the same moment agree.

The CSV holds one table (the figures unless another is asked for); the stamp goes in the
response headers. The XLSX holds them all, after an "about" sheet with the stamp sentence.
Every text cell is neutralised for spreadsheets."""

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Max
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from budgets.figures import LineSpend, line_spend
from budgets.models import BudgetFigure, BudgetLine, BudgetRevision, Expenditure
from monitoring.models import Programme

from . import csv_text, spreadsheet_safe
from .stamp import ExportStamp

FIGURE_COLUMNS = (
    "scope", "agency", "country", "outcome", "output", "category", "indicator", "currency",
    "budget", "revised_budget", "transferred", "spent", "balance", "execution_pct",
    "elapsed_pct", "burn", "spent_as_of", "lines_without_expenditure", "indicator_actual",
    "cost_per_result", "computed_at",
)  # fmt: skip
LINE_COLUMNS = (
    "line", "kind", "agency", "country", "outcome", "output", "category", "category_name",
    "currency", "original_amount", "revised_amount", "spent", "balance", "spent_as_of", "source",
)  # fmt: skip
REVISION_COLUMNS = (
    "line", "agency", "country", "output", "category", "amount_before", "amount_after",
    "reason", "approved_at", "source",
)  # fmt: skip
EXPENDITURE_COLUMNS = (
    "line", "agency", "country", "output", "category", "period", "cumulative", "kind",
    "amount", "currency", "as_of", "approved_at", "note", "source",
)  # fmt: skip
SCOPE_ORDER = {scope: n for n, scope in enumerate(BudgetFigure.Scope.values)}


# ---- a workbook of several sheets (shared with the survey export) --------------------------


@dataclass
class Sheet:
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


def xlsx_value(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    """Numbers and dates as such; text neutralised (``spreadsheet_safe``) and typed as text,
    so that no cell is ever read as a formula."""
    if value is None:
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):  # Excel has no time zones: ISO text keeps the offset
        value = value.isoformat()
    elif isinstance(value, dt.date):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(spreadsheet_safe(value))))
    cell.data_type = "s"
    return cell


def workbook_bytes(about: Sequence[Sequence[Any]], sheets: Iterable[Sheet]) -> bytes:
    """An "about" sheet first (what, as of when), then one sheet per table."""
    book = Workbook(write_only=True)
    first = book.create_sheet(_("about"))
    for row in about:
        first.append([xlsx_value(first, v) for v in row])
    for sheet in sheets:
        ws = book.create_sheet(sheet.title[:31])
        ws.append(list(sheet.header))
        for row in sheet.rows:
            ws.append([xlsx_value(ws, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def stamp_rows(stamp: ExportStamp) -> list[list[Any]]:
    """The stamp's sentence, then its facts one per row."""
    return [[stamp.sentence()], [], *([k, v] for k, v in stamp.as_dict().items())]


# ---- the tables -----------------------------------------------------------------------------


def _code(obj: Any) -> str:
    return obj.code if obj is not None else ""


def figure_rows(programme: Programme) -> list[list[Any]]:
    figures = BudgetFigure.objects.filter(programme=programme).select_related(
        "agency", "country", "category", "outcome", "output", "indicator"
    )
    ordered = sorted(
        figures,
        key=lambda f: (
            SCOPE_ORDER.get(f.scope, 99),
            _code(f.agency), _code(f.country), f.category.order if f.category else 0,
            _code(f.category), f.outcome.order if f.outcome else 0, _code(f.outcome),
            _code(f.output), _code(f.indicator),
        ),
    )  # fmt: skip
    return [_figure_row(f) for f in ordered]


def _figure_row(f: BudgetFigure) -> list[Any]:
    return [
        f.scope, _code(f.agency), _code(f.country), _code(f.outcome), _code(f.output),
        _code(f.category), _code(f.indicator), f.currency, f.budget, f.revised, f.transferred,
        f.spent, f.balance, f.execution, f.elapsed, f.burn, f.spent_as_of,
        f.missing_expenditure, f.indicator_actual, f.cost_per_result, f.computed_at,
    ]  # fmt: skip


def _lines(programme: Programme) -> list[BudgetLine]:
    return list(
        BudgetLine.objects.filter(programme=programme)
        .select_related("agency", "country", "output__outcome", "category")
        .order_by("view", "agency__code", "country__code", "output__code", "category__order", "pk")
    )


def _approved_expenditures(programme: Programme) -> list[Expenditure]:
    return list(
        Expenditure.objects.filter(line__programme=programme, status=Expenditure.Status.APPROVED)
        .select_related("line__agency", "line__country", "line__output", "line__category", "period")
        .order_by("line__agency__code", "line__country__code", "line_id", "period__start_date")
    )


def line_rows(programme: Programme, expenditures: list[Expenditure]) -> list[list[Any]]:
    by_line: dict[int, list[Expenditure]] = defaultdict(list)
    for e in expenditures:
        by_line[e.line_id].append(e)
    return [
        _line_row(line, line_spend(by_line[line.pk]) if line.view == BudgetLine.View.LINE else None)
        for line in _lines(programme)
    ]


def _line_row(line: BudgetLine, spend: LineSpend | None) -> list[Any]:
    spent = spend.spent if spend else None
    balance = line.amount - spent if spent is not None else None
    return [
        line.pk, line.view, line.agency.code, _code(line.country),
        _code(line.output.outcome) if line.output else "", _code(line.output),
        _code(line.category), line.category.name if line.category else "", line.currency,
        line.original_amount, line.amount, spent, balance, spend.as_of if spend else None,
        line.source,
    ]  # fmt: skip


def revision_rows(programme: Programme) -> list[list[Any]]:
    revisions = (
        BudgetRevision.objects.filter(
            line__programme=programme, status=BudgetRevision.Status.APPROVED
        )
        .select_related("line__agency", "line__country", "line__output", "line__category")
        .order_by("decided_at", "pk")
    )
    return [_revision_row(r) for r in revisions]


def _revision_row(r: BudgetRevision) -> list[Any]:
    line = r.line
    return [
        r.line_id, line.agency.code, _code(line.country), _code(line.output),
        _code(line.category), r.old_amount, r.new_amount, r.reason, r.decided_at, r.source,
    ]  # fmt: skip


def expenditure_rows(expenditures: list[Expenditure]) -> list[list[Any]]:
    return [_expenditure_row(e) for e in expenditures]


def _expenditure_row(e: Expenditure) -> list[Any]:
    line = e.line
    return [
        e.line_id, line.agency.code, _code(line.country), _code(line.output),
        _code(line.category), e.period.code, e.cumulative, e.kind, e.amount, line.currency,
        e.as_of, e.approved_at, e.note, e.source,
    ]  # fmt: skip


# ---- the files ------------------------------------------------------------------------------


def build_csv(programme: Programme, stamp: ExportStamp, *, table: str = "figures") -> bytes:
    """One table as CSV: ``figures`` (default), ``lines``, ``revisions`` or ``expenditures``."""
    header: Sequence[str]
    if table == "lines":
        header, rows = LINE_COLUMNS, line_rows(programme, _approved_expenditures(programme))
    elif table == "revisions":
        header, rows = REVISION_COLUMNS, revision_rows(programme)
    elif table == "expenditures":
        header, rows = EXPENDITURE_COLUMNS, expenditure_rows(_approved_expenditures(programme))
    else:
        header, rows = FIGURE_COLUMNS, figure_rows(programme)
    return csv_text(header, ([_csv(v) for v in row] for row in rows)).encode()


def _csv(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def build_xlsx(programme: Programme, stamp: ExportStamp) -> bytes:
    expenditures = _approved_expenditures(programme)
    sheets = [
        Sheet(_("figures"), FIGURE_COLUMNS, figure_rows(programme)),
        Sheet(_("lines"), LINE_COLUMNS, line_rows(programme, expenditures)),
        Sheet(_("revisions"), REVISION_COLUMNS, revision_rows(programme)),
        Sheet(_("expenditures"), EXPENDITURE_COLUMNS, expenditure_rows(expenditures)),
    ]
    return workbook_bytes(_about(programme, stamp, expenditures), sheets)


def _about(
    programme: Programme, stamp: ExportStamp, expenditures: list[Expenditure]
) -> list[list[Any]]:
    computed = BudgetFigure.objects.filter(programme=programme).aggregate(at=Max("computed_at"))
    spent_as_of = max((e.as_of for e in expenditures), default=None)
    rows: list[list[Any]] = [
        [_("Budget and expenditure of %(programme)s") % {"programme": programme.code}],
        *stamp_rows(stamp),
        [],
        [
            _(
                "Approved data only: spending counts approved expenditures, amounts are the "
                "approved ones, and only approved revisions are listed."
            )
        ],
        [_("Currency"), programme.currency],
        [_("Budget figures computed"), _moment(computed["at"])],
        [_("Spending as of"), spent_as_of],
    ]
    return rows


def _moment(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i")
