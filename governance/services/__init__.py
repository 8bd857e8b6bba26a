"""Writes (atomic, validated, audited): the risk register, meetings, agreements and tools."""

from .followup import agreement_status_record, tool_adoption_record
from .meetings import decision_add, meeting_action_add, meeting_record
from .risks import StaleRisk, risk_create, risk_review, risk_update

__all__ = [
    "StaleRisk",
    "agreement_status_record",
    "decision_add",
    "meeting_action_add",
    "meeting_record",
    "risk_create",
    "risk_review",
    "risk_update",
    "tool_adoption_record",
]
