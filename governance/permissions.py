"""Who may do what with risks, committees, meetings, agreements and tools (issue 9): pure
predicates over the viewer's ``Access`` (indicators.permissions). Deny by default.

Every member of the programme reads; donors read only what is marked shareable (a meeting
only when its committee is shareable too) and never the internal notes (review notes, the
progress notes of actions). The RCO and the programme admins change everything of the
programme; an agency's coordinators and approvers change what their agency owns: its risks,
its actions, its tools, the agreements it is party to. Outsiders see nothing."""

from indicators.permissions import Access

from .models import Agreement, Meeting, MeetingAction, Risk, Tool


def reads(access: Access) -> bool:
    return access.is_member


def sees_internal(access: Access) -> bool:
    """Review notes, progress notes, who changed what: members other than donors."""
    return access.is_member and not access.only_approved


def can_view_shared(access: Access, shareable: bool) -> bool:
    """A risk, committee, agreement or tool: every member; a donor when it is shareable."""
    return access.is_member and (shareable or not access.only_approved)


def can_view_meeting(access: Access, meeting: Meeting) -> bool:
    return can_view_shared(access, meeting.shareable and meeting.committee.shareable)


def _runs_programme(access: Access) -> bool:
    return access.superuser or access.is_rco or access.is_admin


def works_for_an_agency(access: Access) -> bool:
    return bool(access.approves or access.coordinates)


def own_agencies(access: Access) -> set[int]:
    return set(access.approves) | {agency for agency, _city in access.coordinates}


def can_add_risk(access: Access) -> bool:
    """The RCO and admins; an agency's people for a risk their agency owns (the form offers
    only their agencies)."""
    return _runs_programme(access) or works_for_an_agency(access)


def can_edit_risk(access: Access, risk: Risk) -> bool:
    """Change or review a risk: its owner agency's people, the RCO and the admins (a risk of
    the whole programme, without an owner agency, is theirs alone)."""
    if _runs_programme(access):
        return True
    return risk.owner_agency_id is not None and access.of_agency(risk.owner_agency_id)


def can_record_meeting(access: Access) -> bool:
    """Record a meeting, its decisions and actions: the RCO, the admins and the agencies'
    people (the agencies sit on every committee)."""
    return _runs_programme(access) or works_for_an_agency(access)


def can_update_action(access: Access, action: MeetingAction) -> bool:
    """The action's own agency, the person responsible for it, the RCO and the admins."""
    if _runs_programme(access):
        return True
    if action.owner_id is not None and action.owner_id == access.user_id:
        return True
    return action.owner_agency_id is not None and access.of_agency(action.owner_agency_id)


def can_follow_up_agreement(access: Access, agreement: Agreement) -> bool:
    """Record an agreement's status: an agency party to it, the RCO and the admins (its
    agencies are prefetched by the selector)."""
    if _runs_programme(access):
        return True
    return bool(own_agencies(access) & {agency.pk for agency in agreement.agencies.all()})


def can_follow_up_tool(access: Access, tool: Tool) -> bool:
    """Record a tool's adoption status: its responsible agency, the RCO and the admins."""
    if _runs_programme(access):
        return True
    return tool.agency_id is not None and access.of_agency(tool.agency_id)
