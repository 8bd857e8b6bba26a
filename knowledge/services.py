"""Writes of the management response and its actions. Each service is atomic, validates the
whole record before anything is written, audits what it changed and returns the object.

A change to an existing action goes through ``monitoring.followup.action_update``: refused
with ``StaleAction`` when somebody saved the action after the user loaded it (no lost update),
and validated by the model (``ResponseAction.clean``: a due date unless cancelled, an owner
agency of the programme, an owner who works in it)."""

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring.followup import StaleAction, action_update
from monitoring.models import Agency, FollowUpStatus
from monitoring.services import audit_record

from .models import ManagementResponse, Recommendation, ResponseAction

__all__ = ["StaleAction", "action_add", "action_change", "response_save"]

Decision = ManagementResponse.Decision
# What a change of an action may touch (the rest is the service's: version, reminders, audit).
CHANGEABLE = frozenset(
    {
        "description_es",
        "description_en",
        "owner_agency",
        "owner",
        "due_on",
        "status",
        "completed_on",
        "progress_note",
    }
)


@transaction.atomic
def response_save(
    *,
    recommendation: Recommendation,
    decision: str,
    comment_es: str = "",
    comment_en: str = "",
    actor: User,
    expected_version: int | None = None,
) -> ManagementResponse:
    """Give or change the management response to a recommendation. ``expected_version``: the
    version the user saw (None when there was no response yet)."""
    locked = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    response = ManagementResponse.objects.filter(recommendation=locked).first()
    if response is not None and response.version != expected_version:
        raise ValidationError(
            _(
                "Somebody changed the response since you opened the page (it is now "
                "“%(decision)s”); look at it again."
            )
            % {"decision": response.get_decision_display()}
        )
    old = _response_values(response) if response is not None else None
    if response is None:
        response = ManagementResponse(recommendation=locked, version=0)
    response.decision = decision
    response.comment_es, response.comment_en = comment_es.strip(), comment_en.strip()
    if decision == Decision.REJECTED and not (response.comment_es or response.comment_en):
        raise ValidationError(
            {
                "comment_es": _(
                    "A rejected recommendation needs a comment saying why (in Spanish or English)."
                )
            }
        )
    response.responded_by, response.responded_at = actor, timezone.now()
    response.version += 1
    response.full_clean()
    response.save()
    audit_record(
        actor=actor,
        programme=locked.evaluation.programme,
        action="knowledge.response.save",
        obj=locked,
        old_value=old,
        new_value=_response_values(response),
    )
    return response


def _response_values(response: ManagementResponse) -> dict[str, Any]:
    return {
        "decision": response.decision,
        "comment_es": response.comment_es,
        "comment_en": response.comment_en,
    }


@transaction.atomic
def action_add(
    *,
    response: ManagementResponse,
    description_es: str = "",
    description_en: str = "",
    owner_agency: Agency | None,
    owner: User | None = None,
    due_on: dt.date | None,
    status: str = FollowUpStatus.PLANNED,
    actor: User,
) -> ResponseAction:
    """A new action of a response (accepted or partially accepted)."""
    if response.decision == Decision.REJECTED:
        raise ValidationError(_("The recommendation was rejected: it takes no actions."))
    if status not in (FollowUpStatus.PLANNED, FollowUpStatus.IN_PROGRESS):
        raise ValidationError({"status": _("A new action is planned or in progress.")})
    action = ResponseAction(
        response=response,
        description_es=description_es.strip(),
        description_en=description_en.strip(),
        owner_agency=owner_agency,
        owner=owner,
        due_on=due_on,
        status=status,
        updated_by=actor,
    )
    action.full_clean()
    action.save()
    audit_record(
        actor=actor,
        programme=response.recommendation.evaluation.programme,
        action="knowledge.action.add",
        obj=action,
        new_value={
            "description_es": action.description_es,
            "description_en": action.description_en,
            "owner_agency": owner_agency.pk if owner_agency else None,
            "owner": owner.pk if owner else None,
            "due_on": due_on.isoformat() if due_on else None,
            "status": status,
        },
    )
    return action


def action_change(
    *,
    action: ResponseAction,
    changes: dict[str, Any],
    actor: User,
    expected_version: int,
    today: dt.date,
) -> ResponseAction:
    """Change an action's fields (its status, progress note, due date, owner…) if nobody
    saved it since ``expected_version``; raises ``StaleAction`` otherwise."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    for text in ("description_es", "description_en", "progress_note"):
        if text in changes:
            changes[text] = (changes[text] or "").strip()
    return action_update(
        action,
        actor=actor,
        expected_version=expected_version,
        programme=action.response.recommendation.evaluation.programme,
        changes=changes,
        today=today,
    )
