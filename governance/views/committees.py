"""The governance pages: every committee with its meetings per year against those expected
and its overdue actions; a committee with its meetings; a meeting with its decisions and
actions, and the forms to record a meeting, add decisions and actions, and update an
action's status (refused with 409 when somebody saved it after the page was loaded)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from monitoring.followup import StaleAction, action_update

from .. import services
from ..forms import ActionUpdateForm, DecisionForm, MeetingActionForm, MeetingForm
from ..models import MeetingAction
from ..permissions import can_record_meeting, can_update_action, sees_internal
from ..selectors import governance_access_for_user
from ..selectors.committees import (
    MeetingSlot,
    action_get_for_user,
    committee_get_for_user,
    committee_meetings,
    committee_overview,
    meeting_contents,
    meeting_get_for_user,
    overdue_actions,
)
from ..services.meetings import OWNER_ROLES
from .common import add_errors, signed_in


@login_required
@require_GET
def overview(request: HttpRequest, code: str) -> HttpResponse:
    base = governance_access_for_user(user=request.user, programme_code=code)
    today = timezone.localdate()
    context = {
        "programme": base.programme,
        "rows": committee_overview(base, today),
        "overdue": overdue_actions(base, today),
        "today": today,
    }
    return render(request, "governance/committees.html", context)


@login_required
@require_GET
def committee(request: HttpRequest, code: str, committee_code: str) -> HttpResponse:
    slot = committee_get_for_user(
        user=request.user, programme_code=code, committee_code=committee_code
    )
    context = {
        "programme": slot.base.programme,
        "committee": slot.committee,
        "meetings": committee_meetings(slot),
        "can_record": can_record_meeting(slot.base.access),
    }
    return render(request, "governance/committee.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_add(request: HttpRequest, code: str, committee_code: str) -> HttpResponse:
    slot = committee_get_for_user(
        user=request.user, programme_code=code, committee_code=committee_code
    )
    if not can_record_meeting(slot.base.access):
        raise PermissionDenied
    form = MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_record(
                committee=slot.committee,
                actor=signed_in(request),
                today=timezone.localdate(),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Meeting recorded."))
            return redirect("governance:meeting", code, meeting.pk)
    context = {"programme": slot.base.programme, "committee": slot.committee, "form": form}
    return render(
        request, "governance/meeting_form.html", context, status=400 if form.is_bound else 200
    )


def _action_form(slot: MeetingSlot, data: Any = None) -> MeetingActionForm:
    programme = slot.base.programme
    people = (
        get_user_model()
        .objects.filter(
            memberships__programme=programme, memberships__role__in=OWNER_ROLES, is_active=True
        )
        .distinct()
        .order_by("username")
    )
    return MeetingActionForm(
        data,
        decisions=slot.meeting.decisions.order_by("pk"),
        agencies=programme.agencies.order_by("code"),
        people=people,
    )


def _update_form(action: MeetingAction, data: Any = None) -> ActionUpdateForm:
    return ActionUpdateForm(
        data,
        prefix=f"a{action.pk}",
        initial={
            "version": action.version,
            "status": action.status,
            "due_on": action.due_on,
            "completed_on": action.completed_on,
            "progress_note": action.progress_note,
        },
    )


def _render_meeting(
    request: HttpRequest,
    slot: MeetingSlot,
    *,
    status: int = 200,
    forms: dict[str, Any] | None = None,
    bound_action: tuple[int, ActionUpdateForm] | None = None,
    stale: MeetingAction | None = None,
) -> HttpResponse:
    access = slot.base.access
    participants, decisions, actions = meeting_contents(slot.meeting)
    recorder = can_record_meeting(access)
    forms = forms or {}
    rows = []
    today = timezone.localdate()
    for action in actions:
        form = None
        if can_update_action(access, action):
            bound = bound_action is not None and bound_action[0] == action.pk
            form = bound_action[1] if bound and bound_action else _update_form(action)
        rows.append(
            {
                "action": action,
                "form": form,
                "overdue": action.is_overdue(today),
                "stale": stale is not None and stale.pk == action.pk,
            }
        )
    context = {
        "programme": slot.base.programme,
        "meeting": slot.meeting,
        "committee": slot.meeting.committee,
        "participants": participants,
        "decisions": decisions,
        "rows": rows,
        "internal": sees_internal(access),
        "stale": stale,
        "decision_form": forms.get("decision", DecisionForm()) if recorder else None,
        "action_form": forms.get("action", _action_form(slot)) if recorder else None,
    }
    return render(request, "governance/meeting.html", context, status=status)


@login_required
@require_GET
def meeting(request: HttpRequest, code: str, meeting_id: int) -> HttpResponse:
    return _render_meeting(
        request, meeting_get_for_user(user=request.user, programme_code=code, meeting_id=meeting_id)
    )


def _meeting_url(code: str, meeting_id: int) -> str:
    return reverse("governance:meeting", args=[code, meeting_id])


@login_required
@require_POST
def decision_add(request: HttpRequest, code: str, meeting_id: int) -> HttpResponse:
    slot = meeting_get_for_user(user=request.user, programme_code=code, meeting_id=meeting_id)
    if not can_record_meeting(slot.base.access):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.decision_add(
                meeting=slot.meeting, actor=signed_in(request), **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Decision added."))
            return redirect(_meeting_url(code, meeting_id))
    return _render_meeting(request, slot, status=400, forms={"decision": form})


@login_required
@require_POST
def action_add(request: HttpRequest, code: str, meeting_id: int) -> HttpResponse:
    slot = meeting_get_for_user(user=request.user, programme_code=code, meeting_id=meeting_id)
    if not can_record_meeting(slot.base.access):
        raise PermissionDenied
    form = _action_form(slot, request.POST)
    if form.is_valid():
        try:
            services.meeting_action_add(
                meeting=slot.meeting, actor=signed_in(request), **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Action added."))
            return redirect(_meeting_url(code, meeting_id))
    return _render_meeting(request, slot, status=400, forms={"action": form})


@login_required
@require_POST
def action_status(request: HttpRequest, code: str, action_id: int) -> HttpResponse:
    """Update an action's status, due date or progress note; 409 with the current state when
    somebody saved it after the page was loaded."""
    slot = action_get_for_user(user=request.user, programme_code=code, action_id=action_id)
    action = slot.action
    if not can_update_action(slot.base.access, action):
        raise PermissionDenied
    meeting_slot = MeetingSlot(slot.base, action.meeting)
    form = _update_form(action, request.POST)
    if form.is_valid():
        try:
            action_update(
                action,
                actor=signed_in(request),
                expected_version=form.cleaned_data["version"],
                programme=slot.base.programme,
                changes=form.changes(),
                today=timezone.localdate(),
            )
        except StaleAction as error:
            current = MeetingAction.objects.get(pk=error.current.pk)
            return _render_meeting(request, meeting_slot, status=409, stale=current)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Action updated."))
            return redirect(_meeting_url(code, action.meeting_id))
    return _render_meeting(request, meeting_slot, status=400, bound_action=(action.pk, form))
