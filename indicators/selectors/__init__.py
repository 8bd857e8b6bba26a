"""Reads of indicators, targets, approved values and rollups, for a programme the viewer may
see (callers fetch the programme with ``programme_get_for_user`` first)."""

from .framework import (
    ALL,
    IndicatorRow,
    ScopeCell,
    approved_values,
    framework_rows,
    indicators_for_programme,
)

__all__ = [
    "ALL",
    "IndicatorRow",
    "ScopeCell",
    "approved_values",
    "framework_rows",
    "indicators_for_programme",
]
