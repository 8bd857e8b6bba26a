"""Who may do what with evaluations, recommendations, their responses and actions, and lessons:
pure predicates over the viewer's ``Access`` (indicators.permissions). Deny by default.

- Every member of the programme reads; donors (whose only role is donor) read only what is
  marked shareable, and never the internal progress notes of actions.
- The management response is the programme's: the RCO, the programme admin, and the approvers
  (M&E officers) of an agency the recommendation is addressed to give or change it.
- Actions: the RCO and the programme admin add and change any; an agency's coordinators and
  approvers add actions for their own agency (on a recommendation addressed to it) and change
  their agency's actions; the person named as an action's owner changes it too."""

from indicators.permissions import Access

from .models import Evaluation, Lesson, Recommendation, ResponseAction


def reads_knowledge(access: Access) -> bool:
    return access.is_member


def manages_programme(access: Access) -> bool:
    """The RCO and the programme admin (and a superuser) act on everything of the programme."""
    return access.superuser or access.is_rco or access.is_admin


def sees_internal_notes(access: Access) -> bool:
    """Progress notes of actions are the programme's working notes, not for donors."""
    return access.is_member and not access.only_approved


def can_view_evaluation(access: Access, evaluation: Evaluation) -> bool:
    if not access.is_member:
        return False
    return evaluation.shareable or not access.only_approved


def can_view_recommendation(access: Access, recommendation: Recommendation) -> bool:
    return can_view_evaluation(access, recommendation.evaluation) and (
        recommendation.shareable or not access.only_approved
    )


def can_view_lesson(access: Access, lesson: Lesson) -> bool:
    if not access.is_member:
        return False
    return lesson.shareable or not access.only_approved


def own_agencies(access: Access) -> set[int]:
    """The agencies whose actions this viewer works on as a coordinator or an approver."""
    return set(access.approves) | {agency for agency, _city in access.coordinates}


def can_respond(access: Access, recommendation: Recommendation, addressees: set[int]) -> bool:
    """``addressees``: the ids of the agencies the recommendation is addressed to."""
    if not can_view_recommendation(access, recommendation):
        return False
    return manages_programme(access) or bool(set(access.approves) & addressees)


def action_agencies(access: Access, addressees: set[int], programme_agencies: set[int]) -> set[int]:
    """The agencies this viewer may name as the owner of a new action on a recommendation
    addressed to ``addressees``."""
    if manages_programme(access):
        return set(programme_agencies)
    return own_agencies(access) & addressees & programme_agencies


def can_add_action(
    access: Access,
    recommendation: Recommendation,
    addressees: set[int],
    programme_agencies: set[int],
) -> bool:
    """Only once the recommendation has a response, and not on a rejected one."""
    response = getattr(recommendation, "response", None)
    if response is None or response.decision == response.Decision.REJECTED:
        return False
    if not can_view_recommendation(access, recommendation):
        return False
    return manages_programme(access) or bool(
        action_agencies(access, addressees, programme_agencies)
    )


def can_change_action(access: Access, action: ResponseAction) -> bool:
    if not access.is_member or access.only_approved:
        return False
    if manages_programme(access):
        return True
    if action.owner_id is not None and action.owner_id == access.user_id:
        return True
    return action.owner_agency_id is not None and access.of_agency(action.owner_agency_id)
