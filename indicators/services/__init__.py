"""Writes of the indicators app: targets, and the quarterly report's workflow. Each service
is atomic, validates before it saves, writes its audit events and requests the recompute of
what it changed."""

from .deliverables import deliverable_add, deliverable_remove
from .reports import (
    ActivityEntry,
    Entry,
    StaleReport,
    report_approve,
    report_return,
    report_save,
    report_validate,
    value_restate,
)
from .targets import target_create, target_revise

__all__ = [
    "ActivityEntry",
    "Entry",
    "StaleReport",
    "deliverable_add",
    "deliverable_remove",
    "report_approve",
    "report_return",
    "report_save",
    "report_validate",
    "target_create",
    "target_revise",
    "value_restate",
]
