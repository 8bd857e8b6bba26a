"""Evaluation pages under /programmes/<code>/knowledge/: the evaluations, an evaluation with
its recommendations (filtered by addressee, priority and response), a recommendation with its
management response and actions, and the response form. Each view: fetch and authorise
through one selector → validate → one service → redirect or render. Actions are in
``views_actions``, lessons in ``views_lessons``."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from monitoring.models import Agency

from . import services
from .forms import (
    ActionForm,
    ActionStatusForm,
    RecommendationFilterForm,
    ResponseForm,
    add_service_errors,
    response_initial,
)
from .permissions import (
    action_agencies,
    can_add_action,
    can_change_action,
    can_respond,
    sees_internal_notes,
)
from .selectors import (
    RecommendationFilters,
    RecommendationSlot,
    actions_of,
    evaluation_get_for_user,
    evaluation_rows,
    knowledge_access_for_user,
    recommendation_get_for_user,
    recommendations_of,
)


def signed_in(request: HttpRequest) -> User:
    """The signed-in user (every view here requires one)."""
    assert isinstance(request.user, User)
    return request.user


def recommendation_url(slot: RecommendationSlot, anchor: str = "") -> str:
    r = slot.recommendation
    url = reverse(
        "knowledge:recommendation", args=[slot.programme.code, r.evaluation.code, r.number]
    )
    return f"{url}#{anchor}" if anchor else url


@login_required
@require_GET
def evaluation_list(request: HttpRequest, code: str) -> HttpResponse:
    base = knowledge_access_for_user(user=request.user, programme_code=code)
    context = {
        "programme": base.programme,
        "section": "evaluations",
        "evaluations": list(evaluation_rows(base)),
        "only_approved": base.access.only_approved,
    }
    return render(request, "knowledge/evaluations.html", context)


@login_required
@require_GET
def evaluation_detail(request: HttpRequest, code: str, evaluation: str) -> HttpResponse:
    slot = evaluation_get_for_user(
        user=request.user, programme_code=code, evaluation_code=evaluation
    )
    form = RecommendationFilterForm(request.GET or None, programme=slot.programme)
    filters = RecommendationFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = RecommendationFilters(
            agency=slot.programme.agencies.filter(code=data["agency"]).first()
            if data["agency"]
            else None,
            priority=data["priority"],
            response=data["response"],
        )
    context = {
        "programme": slot.programme,
        "section": "evaluations",
        "evaluation": slot.evaluation,
        "form": form,
        "filters": filters,
        "recommendations": list(recommendations_of(slot, filters, timezone.localdate())),
        "only_approved": slot.access.only_approved,
    }
    return render(request, "knowledge/evaluation.html", context)


@login_required
@require_GET
def recommendation_detail(
    request: HttpRequest, code: str, evaluation: str, number: int
) -> HttpResponse:
    slot = recommendation_get_for_user(
        user=request.user, programme_code=code, evaluation_code=evaluation, number=number
    )
    return render_recommendation(request, slot)


def render_recommendation(
    request: HttpRequest,
    slot: RecommendationSlot,
    *,
    response_form: ResponseForm | None = None,
    action_form: ActionForm | None = None,
    status_forms: dict[int, ActionStatusForm] | None = None,
    stale: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The recommendation page, with the forms this viewer may use (bound ones kept)."""
    access, rec = slot.access, slot.recommendation
    response = getattr(rec, "response", None)
    if response_form is None and can_respond(access, rec, slot.addressees):
        response_form = ResponseForm(initial=response_initial(response))
    agencies = action_agencies(access, slot.addressees, slot.programme_agencies)
    if action_form is None and can_add_action(
        access, rec, slot.addressees, slot.programme_agencies
    ):
        codes = list(Agency.objects.filter(pk__in=agencies).values_list("code", flat=True))
        action_form = ActionForm(
            programme=slot.programme,
            allowed_agencies=agencies,
            initial={"owner_agency": codes[0] if len(codes) == 1 else None},
        )
    today = timezone.localdate()
    rows = []
    for action in actions_of(slot):
        changes = can_change_action(access, action)
        form = (status_forms or {}).get(action.pk)
        if form is None and changes:
            form = ActionStatusForm(
                initial={
                    "status": action.status,
                    "completed_on": action.completed_on,
                    "progress_note": action.progress_note,
                    "version": action.version,
                },
                auto_id=f"id_a{action.pk}_%s",
            )
        rows.append(
            {"action": action, "overdue": action.is_overdue(today), "form": form, "edit": changes}
        )
    context = {
        "programme": slot.programme,
        "section": "evaluations",
        "evaluation": rec.evaluation,
        "recommendation": rec,
        "response": response,
        "response_form": response_form,
        "action_form": action_form,
        "actions": rows,
        "stale": stale,
        "sees_notes": sees_internal_notes(access),
        "only_approved": access.only_approved,
    }
    return render(request, "knowledge/recommendation.html", context, status=status)


@login_required
@require_POST
def respond(request: HttpRequest, code: str, evaluation: str, number: int) -> HttpResponse:
    slot = recommendation_get_for_user(
        user=request.user, programme_code=code, evaluation_code=evaluation, number=number
    )
    if not can_respond(slot.access, slot.recommendation, slot.addressees):
        raise PermissionDenied
    form = ResponseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.response_save(
                recommendation=slot.recommendation,
                decision=data["decision"],
                comment_es=data["comment_es"],
                comment_en=data["comment_en"],
                actor=signed_in(request),
                expected_version=data["version"] or None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Management response saved."))
            return redirect(recommendation_url(slot, "response"))
    return render_recommendation(request, slot, response_form=form, status=400)
