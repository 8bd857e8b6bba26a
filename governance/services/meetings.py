"""Writes of the governance pages: record a meeting with the institutions that took part, add
its decisions and the follow-up actions agreed (status changes go through
``monitoring.followup.action_update``, which refuses a stale save). Atomic, validated before
anything is written, audited."""

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from monitoring.models import Agency, Membership, ProgrammeAgency
from monitoring.services import audit_record

from ..models import Committee, Decision, Meeting, MeetingAction, MeetingParticipation

# Who can be named responsible for an action: anybody in the programme but a donor.
OWNER_ROLES = (
    Membership.Role.COORDINATOR,
    Membership.Role.APPROVER,
    Membership.Role.RCO,
    Membership.Role.ADMIN,
)


def _check_participants(participants: Sequence[tuple[str, int | None]]) -> None:
    if not participants:
        raise ValidationError(
            {"participants": _("Name at least one institution that took part in the meeting.")}
        )
    seen: set[str] = set()
    for institution, _people in participants:
        key = institution.strip().casefold()
        if key in seen:
            raise ValidationError(
                {
                    "participants": _("“%(institution)s” is listed twice.")
                    % {"institution": institution}
                }
            )
        seen.add(key)


@transaction.atomic
def meeting_record(
    *,
    committee: Committee,
    actor: User | None,
    held_on: dt.date,
    summary_es: str,
    summary_en: str,
    participants: Sequence[tuple[str, int | None]],
    minutes_url: str = "",
    shareable: bool = False,
    source: str = "",
    today: dt.date,
) -> Meeting:
    """A meeting that has been held (not one planned: the date cannot be in the future)."""
    if held_on > today:
        raise ValidationError(
            {"held_on": _("Record a meeting once it has been held: the date is in the future.")}
        )
    _check_participants(participants)
    meeting = Meeting(
        committee=committee,
        held_on=held_on,
        summary_es=summary_es,
        summary_en=summary_en,
        minutes_url=minutes_url,
        shareable=shareable,
        source=source,
        recorded_by=actor,
    )
    meeting.full_clean()
    meeting.save()
    for institution, people in participants:
        row = MeetingParticipation(meeting=meeting, institution=institution.strip(), people=people)
        row.full_clean()
        row.save()
    audit_record(
        actor=actor,
        programme=committee.programme,
        action="meeting.record",
        obj=meeting,
        new_value={
            "held_on": held_on.isoformat(),
            "participants": [[i, n] for i, n in participants],
            "shareable": shareable,
        },
    )
    return meeting


@transaction.atomic
def decision_add(*, meeting: Meeting, actor: User | None, text_es: str, text_en: str) -> Decision:
    decision = Decision(meeting=meeting, text_es=text_es.strip(), text_en=text_en.strip())
    decision.full_clean()
    decision.save()
    audit_record(
        actor=actor,
        programme=meeting.committee.programme,
        action="decision.add",
        obj=decision,
        new_value={"text_es": decision.text_es, "text_en": decision.text_en},
    )
    return decision


def _check_owner(meeting: Meeting, owner_agency: Agency | None, owner: User | None) -> None:
    programme = meeting.committee.programme
    if (
        owner_agency is not None
        and not ProgrammeAgency.objects.filter(programme=programme, agency=owner_agency).exists()
    ):
        raise ValidationError(
            {"owner_agency": _("This agency does not take part in the programme.")}
        )
    if (
        owner is not None
        and not Membership.objects.filter(
            programme=programme, user=owner, role__in=OWNER_ROLES
        ).exists()
    ):
        raise ValidationError(
            {"owner": _("The person responsible must work in the programme (not as a donor).")}
        )


@transaction.atomic
def meeting_action_add(
    *,
    meeting: Meeting,
    actor: User | None,
    description_es: str,
    description_en: str,
    due_on: dt.date | None,
    owner_agency: Agency | None = None,
    owner: User | None = None,
    decision: Decision | None = None,
) -> MeetingAction:
    """An action agreed at the meeting, due no earlier than the meeting itself."""
    if due_on is not None and due_on < meeting.held_on:
        raise ValidationError(
            {
                "due_on": _("The due date cannot be before the meeting (%(date)s).")
                % {"date": meeting.held_on.isoformat()}
            }
        )
    if owner_agency is None and owner is None:
        raise ValidationError(
            {"owner_agency": _("Say who is responsible: an agency, a person, or both.")}
        )
    _check_owner(meeting, owner_agency, owner)
    action = MeetingAction(
        meeting=meeting,
        decision=decision,
        description_es=description_es.strip(),
        description_en=description_en.strip(),
        due_on=due_on,
        owner_agency=owner_agency,
        owner=owner,
        updated_by=actor,
    )
    action.full_clean()
    action.save()
    audit_record(
        actor=actor,
        programme=meeting.committee.programme,
        action="meetingaction.add",
        obj=action,
        new_value={
            "due_on": due_on.isoformat() if due_on else None,
            "owner_agency": owner_agency.pk if owner_agency else None,
            "owner": owner.pk if owner else None,
        },
    )
    return action
