"""The quarterly report as an Excel workbook, for coordinators who work offline.

``build_workbook`` writes one row per figure (each indicator's total, numerator and
denominator of a percentage, each disaggregation cell) with last quarter's figure and the
target beside it; only the input cells are unlocked, and each carries a data validation that
matches the indicator's measure. A very hidden sheet holds a signed token with the report's
place (programme, period, agency, city), the version downloaded and the row layout, so an
upload for another report, or a workbook whose layout was altered, is refused outright.

``read_workbook`` validates the whole upload with the report form's own rules (``ReportForm``)
and either returns the entries for ``report_save`` or raises ``WorkbookErrors``, which gives
back the same workbook with each failing cell in red, a comment that explains it, and a sheet
that lists every problem. Formulas are never evaluated: a formula in an input is an error.

The package: ``layout`` (the shape of the workbook, its token, opening and saving), ``build``
(writing it), ``read`` (reading and validating an upload) and ``annotate`` (giving a failed
upload back with its problems marked)."""

from .annotate import Problem, WorkbookErrors, annotate, service_errors, stale_errors
from .build import build_workbook
from .layout import Row, WorkbookRefused, layout, workbook_filename
from .read import parse_figure, read_workbook

__all__ = [
    "Problem",
    "Row",
    "WorkbookErrors",
    "WorkbookRefused",
    "annotate",
    "build_workbook",
    "layout",
    "parse_figure",
    "read_workbook",
    "service_errors",
    "stale_errors",
    "workbook_filename",
]
