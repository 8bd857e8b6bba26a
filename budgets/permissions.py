"""Who may do what with budgets (DESIGN §1): pure predicates over the viewer's ``Access``
(indicators.permissions) and a budget line, expenditure or revision. Everyone in the
programme reads the budget figures (approved spending only); an agency's coordinators enter
and submit its expenditures for the countries of their cities; its approvers approve them
(never their own submission) and propose revisions of its lines; the programme admin
decides revisions. Deny by default."""

from indicators.permissions import Access

from .models import BudgetLine, BudgetRevision, Expenditure

Status = Expenditure.Status


def coordinates_line(access: Access, line: BudgetLine, city_countries: dict[int, int]) -> bool:
    """A coordinator of the line's agency in a city of the line's country.
    ``city_countries`` maps city id → country id for the programme's cities."""
    return any(
        agency == line.agency_id and city_countries.get(city or 0) == line.country_id
        for agency, city in access.coordinates
    )


def can_view_expenditure(access: Access, expenditure: Expenditure) -> bool:
    """Approved: every member. Otherwise the agency's own people, and once submitted the RCO
    and the admins."""
    if access.superuser:
        return True
    if not access.is_member:
        return False
    if expenditure.status == Status.APPROVED:
        return True
    if access.of_agency(expenditure.line.agency_id):
        return True
    return expenditure.status == Status.SUBMITTED and (access.is_rco or access.is_admin)


def can_enter_expenditure(
    access: Access, line: BudgetLine, city_countries: dict[int, int], status: str = Status.DRAFT
) -> bool:
    """Enter, change or submit an expenditure of this line while it is a draft."""
    return (
        line.view == BudgetLine.View.LINE
        and status == Status.DRAFT
        and coordinates_line(access, line, city_countries)
    )


def can_approve_expenditure(access: Access, expenditure: Expenditure) -> bool:
    return (
        expenditure.status == Status.SUBMITTED
        and expenditure.line.agency_id in access.approves
        and expenditure.submitted_by_id != access.user_id
    )


def can_return_expenditure(access: Access, expenditure: Expenditure) -> bool:
    """Send a submitted expenditure back to the coordinator, with a reason: the agency's
    approver (returning one's own submission breaks no separation of duties)."""
    return expenditure.status == Status.SUBMITTED and expenditure.line.agency_id in access.approves


def can_view_revision(access: Access, revision: BudgetRevision) -> bool:
    """Approved: every member (donors see approved figures only). Proposed or rejected: the
    line's agency, the RCO and the admins, who weigh it."""
    if access.superuser:
        return True
    if not access.is_member:
        return False
    if revision.status == BudgetRevision.Status.APPROVED:
        return True
    return access.of_agency(revision.line.agency_id) or access.is_rco or access.is_admin


def can_propose_revision(access: Access, line: BudgetLine) -> bool:
    return line.agency_id in access.approves or access.is_admin


def can_decide_revision(access: Access, revision: BudgetRevision) -> bool:
    """The programme admin, and not the person who proposed it."""
    return (
        revision.status == BudgetRevision.Status.PROPOSED
        and access.is_admin
        and revision.proposed_by_id != access.user_id
    )


def sees_budget(access: Access) -> bool:
    return access.is_member
