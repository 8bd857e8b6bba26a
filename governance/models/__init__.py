"""Risks, committees with their meetings, agreements and tools (issue 9, parts 3 to 5)."""

from .agreements import Agreement, AgreementStatus, AgreementUpdate, Tool, ToolAdoption
from .committees import Committee, Decision, Meeting, MeetingAction, MeetingParticipation
from .risks import RatingBasis, Risk, RiskCategory, RiskReview, RiskStatus

__all__ = [
    "Agreement",
    "AgreementStatus",
    "AgreementUpdate",
    "Committee",
    "Decision",
    "Meeting",
    "MeetingAction",
    "MeetingParticipation",
    "RatingBasis",
    "Risk",
    "RiskCategory",
    "RiskReview",
    "RiskStatus",
    "Tool",
    "ToolAdoption",
]
