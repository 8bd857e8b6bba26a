"""The programme core (DESIGN §3): programmes, agencies, countries and cities, outcomes,
outputs, activities, reporting periods, memberships and the audit trail.

Invariants are database constraints (each with a message that names the rule) and, where a
rule spans tables, ``clean()``. Writes go through services; models hold no side effects."""

from .access import AuditEvent, Membership
from .followup import CLOSED_STATUSES, FollowUpAction, FollowUpStatus, open_and_overdue
from .geography import Agency, City, Country
from .jobs import FailedTask
from .programme import (
    Activity,
    Outcome,
    Output,
    Programme,
    ProgrammeAgency,
    ProgrammeCity,
    ReportingPeriod,
)
from .tokens import ApiToken, ExportJob
from .validators import code_validator, programme_code_validator

__all__ = [
    "CLOSED_STATUSES",
    "Activity",
    "Agency",
    "ApiToken",
    "AuditEvent",
    "City",
    "Country",
    "ExportJob",
    "FailedTask",
    "FollowUpAction",
    "FollowUpStatus",
    "Membership",
    "Outcome",
    "Output",
    "Programme",
    "ProgrammeAgency",
    "ProgrammeCity",
    "ReportingPeriod",
    "code_validator",
    "open_and_overdue",
    "programme_code_validator",
]
