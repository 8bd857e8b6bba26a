"""Evaluations, recommendations, management responses and their actions; lessons learned and
good practices (issue 9)."""

from .evaluations import OWNER_ROLES, Evaluation, ManagementResponse, Recommendation, ResponseAction
from .lessons import Lesson, Theme

__all__ = [
    "OWNER_ROLES",
    "Evaluation",
    "Lesson",
    "ManagementResponse",
    "Recommendation",
    "ResponseAction",
    "Theme",
]
