"""Reads, scoped to the viewer (views never query models directly). Each ``*_get_for_user``
fetches one object and authorises in one call: 404 outside the programme, for an object
that is not in it, or for a donor and something not shareable."""

from .base import GovernanceAccess, governance_access_for_user
from .risks import RiskFilters, RiskRow, risk_rows

__all__ = [
    "GovernanceAccess",
    "RiskFilters",
    "RiskRow",
    "governance_access_for_user",
    "risk_rows",
]
