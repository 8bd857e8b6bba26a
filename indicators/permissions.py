"""Who may do what with a progress report (DESIGN §1, §3.3). Pure predicates over an
``Access`` (the viewer's memberships in one programme, fetched once) and a report; views,
templates and services call them and nothing else decides. Deny by default."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from monitoring.models import Membership, Programme, ReportingPeriod
from monitoring.permissions import Viewer

from .models import ProgressReport

Role = Membership.Role
Status = ProgressReport.Status
EDITABLE = (Status.DRAFT, Status.RETURNED)


@dataclass(frozen=True)
class Access:
    """One viewer's roles in one programme."""

    user_id: int | None
    superuser: bool = False
    roles: frozenset[str] = frozenset()
    coordinates: frozenset[tuple[int, int]] = frozenset()  # (agency, city)
    approves: frozenset[int] = frozenset()  # agencies

    @property
    def is_rco(self) -> bool:
        return Role.RCO in self.roles

    @property
    def is_admin(self) -> bool:
        return self.superuser or Role.ADMIN in self.roles

    @property
    def is_member(self) -> bool:
        return self.superuser or bool(self.roles)

    @property
    def only_approved(self) -> bool:
        """Donors (and anybody whose only role is donor) see approved data only."""
        return not self.superuser and (not self.roles or self.roles == {Role.DONOR})

    def coordinates_slot(self, agency_id: int | None, city_id: int | None) -> bool:
        return (agency_id, city_id) in self.coordinates

    def of_agency(self, agency_id: int | None) -> bool:
        """Coordinator (any city) or approver of this agency: its drafts are theirs to see."""
        return agency_id in self.approves or any(a == agency_id for a, _ in self.coordinates)


def access_for(user: Viewer, programme: Programme) -> Access:
    """The viewer's access to this programme, in one query."""
    if not user.is_authenticated or not user.is_active:
        return Access(user_id=None)
    rows = list(
        Membership.objects.filter(user=user, programme=programme).values_list(
            "role", "agency_id", "city_id"
        )
    )
    return Access(
        user_id=user.pk,
        superuser=user.is_superuser,
        roles=frozenset(r for r, _, _ in rows),
        coordinates=frozenset((a, c) for r, a, c in rows if r == Role.COORDINATOR),
        approves=frozenset(a for r, a, _ in rows if r == Role.APPROVER),
    )


def period_closes_on(period: ReportingPeriod, programme: Programme) -> dt.date:
    """The last day a report for this period can be edited or submitted: the due date plus
    the programme's grace period, or later when an admin reopened the period."""
    closes = period.due_date + dt.timedelta(days=programme.grace_days)
    return max(closes, period.reopened_until) if period.reopened_until else closes


def period_is_closed(
    period: ReportingPeriod, programme: Programme, today: dt.date | None = None
) -> bool:
    if period.status != ReportingPeriod.Status.OPEN:
        return True
    return (today or timezone.localdate()) > period_closes_on(period, programme)


def can_view_report(access: Access, report: ProgressReport) -> bool:
    """Drafts and returned reports: their own agency only (and a superuser). Submitted:
    also the RCO and the programme admin. Approved: every member, donors included."""
    if access.superuser:
        return True
    if not access.is_member:
        return False
    if report.is_approved:
        return True
    if report.agency_id is None:  # the RCO's joint report: the RCO's, then the admins'
        return access.is_rco or (report.status == Status.SUBMITTED and access.is_admin)
    if access.of_agency(report.agency_id):
        return True
    if report.status == Status.SUBMITTED:
        return access.is_rco or Role.ADMIN in access.roles
    return False


def can_follow_report_workflow(access: Access, report: ProgressReport) -> bool:
    """The steps before approval (submissions, returns and their reasons, the figures first
    submitted) are the agency's, the RCO's and the admins' business; whoever else may see the
    report sees its approved figures and their changes."""
    return can_view_report(access, report) and (
        access.superuser or access.is_rco or access.is_admin or access.of_agency(report.agency_id)
    )


def can_edit_report(access: Access, report: ProgressReport, *, closed: bool) -> bool:
    """Enter and save values: the coordinator of this agency and city (the RCO for the joint
    report), while the report is a draft or returned and its period is open."""
    if closed or report.status not in EDITABLE:
        return False
    if report.agency_id is None:  # consolidated (de-duplicated) totals: the RCO enters them
        return access.is_rco
    return access.coordinates_slot(report.agency_id, report.city_id)


def can_submit_report(access: Access, report: ProgressReport, *, closed: bool) -> bool:
    return can_edit_report(access, report, closed=closed) and report.pk is not None


def can_return_report(access: Access, report: ProgressReport, *, closed: bool) -> bool:
    """Send a submitted report back for correction: the agency's approver, while the period
    is open (after it closes a correction is a restatement)."""
    return not closed and report.status == Status.SUBMITTED and _approves(access, report)


def can_approve_report(access: Access, report: ProgressReport) -> bool:
    """The agency's approver, and never the person who submitted it."""
    return (
        report.status == Status.SUBMITTED
        and _approves(access, report)
        and report.submitted_by_id != access.user_id
    )


def can_validate_report(access: Access, report: ProgressReport) -> bool:
    """The RCO's second tier, on approved reports; not by whoever approved it."""
    return (
        report.status == Status.APPROVED
        and report.agency_id is not None  # a joint report is the RCO's own: approved is final
        and access.is_rco
        and report.approved_by_id != access.user_id
    )


def can_restate_report(access: Access, report: ProgressReport) -> bool:
    """Change an approved value, with a reason: the agency's approver."""
    return report.is_approved and _approves(access, report)


def _approves(access: Access, report: ProgressReport) -> bool:
    """An agency's report: its approvers. The joint report: another RCO member or the
    programme admin (separation of duties applies as for any report)."""
    if report.agency_id is None:
        return access.is_rco or access.is_admin
    return report.agency_id in access.approves
