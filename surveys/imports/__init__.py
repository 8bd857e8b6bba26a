"""Responses from a CSV/XLSX upload or a KoboToolbox export (DESIGN §7), validated whole and
applied all or nothing, idempotently: every row carries an external id (``id``; ``_uuid``, else
``_id``, in a Kobo export), so the same file twice changes nothing and a changed row updates its
response. Bad rows are refused by number (the header is row 1) and column, as the file spells it.

An upload: one row per response, a column ``id``, attribute columns (city, sex, age_group,
migratory_status, institution_type; Spanish names too), optional ``submitted_at`` and
``language``, one column per question code (multiple choice: values separated by ``;``).
A Kobo export ("XML values" or "labels" headers): questions found by code or text, group
prefixes (``group_x/q1``) dropped, its metadata ignored; a multiple-choice question's columns
per option (``q3/a``) are read only when the question's own column is absent.

Cells are data, never code: read as ``budgets.imports`` reads them (size limit, a zip bomb
refused before openpyxl unpacks it, cached values only), with room for a questionnaire's many
columns."""

from .cells import MAX_COLUMNS, MAX_ROWS, read_cells
from .columns import Columns, columns_for
from .database import ImportSummary, apply, import_responses
from .rows import Incoming, validate
from .values import Lookups, Refused, answer_value, field_value, lookups_for

__all__ = [
    "MAX_COLUMNS",
    "MAX_ROWS",
    "Columns",
    "ImportSummary",
    "Incoming",
    "Lookups",
    "Refused",
    "answer_value",
    "apply",
    "columns_for",
    "field_value",
    "import_responses",
    "lookups_for",
    "read_cells",
    "validate",
]
