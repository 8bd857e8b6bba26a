"""The rows below the header: each checked whole against the columns and the survey, into
``Incoming`` values, or every problem of the file named by row and column."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from budgets.imports import RowProblem, UploadInvalid, UploadRefused

from ..models import Response
from .cells import cell_text
from .columns import Columns, Position
from .values import Lookups, Refused, answer_value, field_value, from_options


@dataclass
class Incoming:
    """One valid row: the response's fields the file gives and its answers (None: blank)."""

    number: int
    external_id: str
    fields: dict[str, Any]
    answers: dict[int, dict[str, Any] | None]


@dataclass
class _Row:
    number: int
    cells: list[Any]
    problems: list[RowProblem] = field(default_factory=list)

    def cell(self, position: Position) -> Any:
        return self.cells[position[0]] if position[0] < len(self.cells) else None

    def read(self, position: Position, parse: Callable[..., Any], *args: Any) -> Any:
        """``parse(cell, *args)``, or None and the refusal noted against the cell."""
        try:
            return parse(self.cell(position), *args)
        except Refused as refused:
            self.problems.append(RowProblem(self.number, position[1], str(refused)))
            return None


def check_row(row: _Row, cols: Columns, look: Lookups) -> Incoming:
    external = cell_text(row.cell(cols.id))
    if not external or len(external) > 100:
        message = _("Every response needs its id (at most 100 characters).")
        row.problems.append(RowProblem(row.number, cols.id[1], message))
    fields = {
        name: row.read(position, field_value, name, look, cols.kobo)
        for name, position in cols.fields.items()
    }
    answers: dict[int, dict[str, Any] | None] = {}
    for q in look.questions:
        if q.id in cols.questions:
            answers[q.id] = row.read(cols.questions[q.id], answer_value, q, cols.kobo)
        elif q.id in cols.options:
            positions = cols.options[q.id]
            marks = {key: row.cell(position) for key, position in positions.items()}
            answers[q.id] = row.read(next(iter(positions.values())), from_options, q, marks)
    return Incoming(row.number, external, fields, answers)


def validate(
    cells: list[list[Any]], cols: Columns, look: Lookups, existing: dict[str, Response]
) -> list[Incoming]:
    """Every row checked; the rows to apply, or ``UploadInvalid`` naming every problem."""
    problems = list(cols.problems)
    rows: list[Incoming] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(cells[1:], start=2):
        if not row:
            continue
        checked = _Row(number, row)
        incoming, found = check_row(checked, cols, look), checked.problems
        key = incoming.external_id
        if key and key in seen:
            message = _("Repeats the id of row %(row)d.") % {"row": seen[key]}
            found.append(RowProblem(number, cols.id[1], message))
        elif key in existing and existing[key].source == Response.Source.WEB:
            message = _("This id belongs to a response given on the public page.")
            found.append(RowProblem(number, cols.id[1], message))
        seen.setdefault(key, number)
        problems += found
        rows.append(incoming)
    if not rows:
        raise UploadRefused(_("The file has no rows below its header."))
    if problems:
        raise UploadInvalid(problems)
    return rows
