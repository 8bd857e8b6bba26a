"""Indicators and what they are measured against (DESIGN §3): disaggregation as data,
indicators that declare how they add up, the crosswalk between versions, baselines, targets
with their revisions, progress reports and their values."""

from .framework import (
    DisaggregationCategory,
    DisaggregationDimension,
    Indicator,
    IndicatorSupersession,
)
from .reports import IndicatorValue, ProgressReport, ValueComponent
from .rollups import (
    QualityIssue,
    RecomputeRequest,
    RecomputeRun,
    RecomputeUnit,
    Rollup,
    Status,
)
from .targets import Baseline, Target, TargetRevision
from .workflow import ActivityProgress, Deliverable, ReminderSent, Restatement

__all__ = [
    "ActivityProgress",
    "Baseline",
    "Deliverable",
    "DisaggregationCategory",
    "DisaggregationDimension",
    "Indicator",
    "IndicatorSupersession",
    "IndicatorValue",
    "ProgressReport",
    "QualityIssue",
    "RecomputeRequest",
    "RecomputeRun",
    "RecomputeUnit",
    "ReminderSent",
    "Restatement",
    "Rollup",
    "Status",
    "Target",
    "TargetRevision",
    "ValueComponent",
]
