"""The actions of management responses: add one, change its status (with a progress note),
edit its description, owner and due date, and the tracking page of every action across the
recommendations. A change saved by somebody else after the page was loaded is refused with a
409 that shows what they saved (no lost update)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from monitoring.models import FollowUpAction, FollowUpStatus

from . import services
from .forms import ActionFilterForm, ActionForm, ActionStatusForm, add_service_errors
from .models import ResponseAction
from .permissions import action_agencies, can_add_action, can_change_action, sees_internal_notes
from .selectors import (
    ActionFilters,
    ActionSlot,
    RecommendationSlot,
    knowledge_access_for_user,
    recommendation_get_for_user,
    tracked_actions,
)
from .selectors import action_get_for_user as _action_slot
from .views import recommendation_url, render_recommendation, signed_in


@login_required
@require_POST
def action_add(request: HttpRequest, code: str, evaluation: str, number: int) -> HttpResponse:
    slot = recommendation_get_for_user(
        user=request.user, programme_code=code, evaluation_code=evaluation, number=number
    )
    if not can_add_action(
        slot.access, slot.recommendation, slot.addressees, slot.programme_agencies
    ):
        raise PermissionDenied
    form = ActionForm(
        request.POST,
        programme=slot.programme,
        allowed_agencies=action_agencies(slot.access, slot.addressees, slot.programme_agencies),
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            action = services.action_add(
                response=slot.recommendation.response,
                description_es=data["description_es"],
                description_en=data["description_en"],
                owner_agency=data["owner_agency"],
                owner=data["owner"],
                due_on=data["due_on"],
                actor=signed_in(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Action added."))
            return redirect(recommendation_url(slot, f"action-{action.pk}"))
    return render_recommendation(request, slot, action_form=form, status=400)


def _changeable(request: HttpRequest, code: str, action_id: int) -> ActionSlot:
    slot = _action_slot(user=request.user, programme_code=code, action_id=action_id)
    if not can_change_action(slot.access, slot.action):
        raise PermissionDenied
    return slot


def _recommendation_of(request: HttpRequest, slot: ActionSlot) -> RecommendationSlot:
    rec = slot.action.response.recommendation
    return recommendation_get_for_user(
        user=request.user,
        programme_code=slot.programme.code,
        evaluation_code=rec.evaluation.code,
        number=rec.number,
    )


def stale_view(current: FollowUpAction) -> dict[str, Any]:
    """What the other person saved, to show beside the refused change."""
    owner = current.owner
    return {
        "action": current,
        "by": current.updated_by,
        "at": current.updated_at,
        "values": [
            (_("Status"), current.get_status_display()),
            (_("Completed on"), current.completed_on),
            (_("Progress note"), current.progress_note),
            (_("Due date"), current.due_on),
            (_("Responsible agency"), current.owner_agency.acronym if current.owner_agency else ""),
            (_("Responsible person"), (owner.get_full_name() or owner.username) if owner else ""),
            (_("Action"), current.description),
        ],
    }


def _rebound(form_class: type, data: Any, version: int, **kwargs: Any) -> Any:
    """The user's input again, at the version now saved: submitting it again overrides the
    other person's change knowingly."""
    posted = data.copy()
    posted["version"] = str(version)
    form = form_class(posted, **kwargs)
    form.is_valid()
    return form


@login_required
@require_POST
def action_status(request: HttpRequest, code: str, action_id: int) -> HttpResponse:
    slot = _changeable(request, code, action_id)
    action = slot.action
    prefix_id = f"id_a{action.pk}_%s"
    form = ActionStatusForm(request.POST, auto_id=prefix_id)
    stale = None
    if form.is_valid():
        try:
            saved = services.action_change(
                action=action,
                changes=form.changes(),
                actor=signed_in(request),
                expected_version=form.cleaned_data["version"],
                today=timezone.localdate(),
            )
        except services.StaleAction as error:
            stale = stale_view(error.current)
            form = _rebound(
                ActionStatusForm, request.POST, error.current.version, auto_id=prefix_id
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            done = saved.status == FollowUpStatus.DONE
            messages.success(request, _("Action marked done.") if done else _("Action saved."))
            page = _recommendation_of(request, slot)
            return redirect(recommendation_url(page, f"action-{action.pk}"))
    return render_recommendation(
        request,
        _recommendation_of(request, slot),
        status_forms={action.pk: form},
        stale=stale,
        status=409 if stale else 400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, code: str, action_id: int) -> HttpResponse:
    slot = _changeable(request, code, action_id)
    action, access = slot.action, slot.access
    rec = _recommendation_of(request, slot)
    agencies = action_agencies(access, rec.addressees, rec.programme_agencies)
    if action.owner_agency_id is not None:
        agencies = agencies | {action.owner_agency_id}  # keeping it is always allowed
    options: dict[str, Any] = {"programme": slot.programme, "allowed_agencies": agencies}
    stale = None
    if request.method == "POST":
        form = ActionForm(request.POST, **options)
        if form.is_valid():
            try:
                services.action_change(
                    action=action,
                    changes=form.changes(),
                    actor=signed_in(request),
                    expected_version=form.cleaned_data["version"] or 0,
                    today=timezone.localdate(),
                )
            except services.StaleAction as error:
                stale = stale_view(error.current)
                form = _rebound(ActionForm, request.POST, error.current.version, **options)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Action saved."))
                return redirect(recommendation_url(rec, f"action-{action.pk}"))
    else:
        form = ActionForm(initial=_edit_initial(action), **options)
    context = {
        "programme": slot.programme,
        "section": "evaluations",
        "recommendation": rec.recommendation,
        "action": action,
        "form": form,
        "stale": stale,
    }
    status = 409 if stale else (400 if form.is_bound else 200)
    return render(request, "knowledge/action_edit.html", context, status=status)


def _edit_initial(action: ResponseAction) -> dict[str, Any]:
    return {
        "description_es": action.description_es,
        "description_en": action.description_en,
        "owner_agency": action.owner_agency.code if action.owner_agency else None,
        "owner": action.owner_id,
        "due_on": action.due_on,
        "version": action.version,
    }


@login_required
@require_GET
def tracking(request: HttpRequest, code: str) -> HttpResponse:
    base = knowledge_access_for_user(user=request.user, programme_code=code)
    form = ActionFilterForm(request.GET or None, programme=base.programme)
    filters = ActionFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        agency = base.programme.agencies.filter(code=data["agency"]).first()
        filters = ActionFilters(
            agency=agency if data["agency"] else None,
            status=data["status"],
            overdue=data["overdue"],
        )
    today = timezone.localdate()
    actions, counts = tracked_actions(base, filters, today)
    context = {
        "programme": base.programme,
        "section": "tracking",
        "form": form,
        "filters": filters,
        "rows": [{"action": a, "overdue": a.is_overdue(today)} for a in actions],
        "counts": counts,
        "statuses": [(value, label, counts[value]) for value, label in FollowUpStatus.choices],
        "sees_notes": sees_internal_notes(base.access),
        "only_approved": base.access.only_approved,
    }
    return render(request, "knowledge/tracking.html", context)
