"""The follow-up page of agreements and tools (current status, last follow-up, flagged when
nobody has looked for months), an agreement or a tool with its history, and the forms to
record a status observed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import services
from ..forms import AgreementStatusForm, ToolAdoptionForm
from ..permissions import can_follow_up_agreement, can_follow_up_tool, sees_internal
from ..selectors import governance_access_for_user
from ..selectors.followup import (
    STALE_AFTER_MONTHS,
    AgreementSlot,
    ToolSlot,
    agreement_get_for_user,
    agreement_history,
    agreements_followed_up,
    tool_get_for_user,
    tool_history,
    tools_followed_up,
)
from .common import add_errors, signed_in


@login_required
@require_GET
def overview(request: HttpRequest, code: str) -> HttpResponse:
    base = governance_access_for_user(user=request.user, programme_code=code)
    today = timezone.localdate()
    context = {
        "programme": base.programme,
        "agreements": agreements_followed_up(base, today),
        "tools": tools_followed_up(base, today),
        "stale_after": STALE_AFTER_MONTHS,
    }
    return render(request, "governance/follow_up.html", context)


def _render_agreement(
    request: HttpRequest,
    slot: AgreementSlot,
    form: AgreementStatusForm | None = None,
    status: int = 200,
) -> HttpResponse:
    allowed = can_follow_up_agreement(slot.base.access, slot.agreement)
    context = {
        "programme": slot.base.programme,
        "item": slot.agreement,
        "kind": "agreement",
        "history": agreement_history(slot.agreement),
        "internal": sees_internal(slot.base.access),
        "form": (form or AgreementStatusForm()) if allowed else None,
    }
    return render(request, "governance/follow_up_item.html", context, status=status)


def _render_tool(
    request: HttpRequest, slot: ToolSlot, form: ToolAdoptionForm | None = None, status: int = 200
) -> HttpResponse:
    allowed = can_follow_up_tool(slot.base.access, slot.tool)
    context = {
        "programme": slot.base.programme,
        "item": slot.tool,
        "kind": "tool",
        "history": tool_history(slot.tool),
        "internal": sees_internal(slot.base.access),
        "form": (form or ToolAdoptionForm()) if allowed else None,
    }
    return render(request, "governance/follow_up_item.html", context, status=status)


@login_required
@require_GET
def agreement(request: HttpRequest, code: str, agreement_code: str) -> HttpResponse:
    return _render_agreement(
        request,
        agreement_get_for_user(
            user=request.user, programme_code=code, agreement_code=agreement_code
        ),
    )


@login_required
@require_POST
def agreement_status(request: HttpRequest, code: str, agreement_code: str) -> HttpResponse:
    slot = agreement_get_for_user(
        user=request.user, programme_code=code, agreement_code=agreement_code
    )
    if not can_follow_up_agreement(slot.base.access, slot.agreement):
        raise PermissionDenied
    form = AgreementStatusForm(request.POST)
    if form.is_valid():
        try:
            services.agreement_status_record(
                agreement=slot.agreement,
                actor=signed_in(request),
                today=timezone.localdate(),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Status recorded."))
            return redirect("governance:agreement", code, agreement_code)
    return _render_agreement(request, slot, form, status=400)


@login_required
@require_GET
def tool(request: HttpRequest, code: str, tool_code: str) -> HttpResponse:
    return _render_tool(
        request, tool_get_for_user(user=request.user, programme_code=code, tool_code=tool_code)
    )


@login_required
@require_POST
def tool_adoption(request: HttpRequest, code: str, tool_code: str) -> HttpResponse:
    slot = tool_get_for_user(user=request.user, programme_code=code, tool_code=tool_code)
    if not can_follow_up_tool(slot.base.access, slot.tool):
        raise PermissionDenied
    form = ToolAdoptionForm(request.POST)
    if form.is_valid():
        try:
            services.tool_adoption_record(
                tool=slot.tool,
                actor=signed_in(request),
                today=timezone.localdate(),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Status recorded."))
            return redirect("governance:tool", code, tool_code)
    return _render_tool(request, slot, form, status=400)
