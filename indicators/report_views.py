"""Pages of the quarterly report: the calendar, the report (entry, review, workflow
actions, audit trail), restatement, evidence downloads. Each view: authorise (one selector
that fetches and checks) → validate → one service → redirect or render."""

import mimetypes
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from monitoring.models import Activity, AuditEvent
from monitoring.selectors import programme_get_for_user

from . import services
from .models import ActivityProgress, Indicator, IndicatorValue, ProgressReport, Target
from .permissions import (
    EDITABLE,
    Access,
    can_approve_report,
    can_edit_report,
    can_follow_report_workflow,
    can_restate_report,
    can_return_report,
    can_validate_report,
    period_closes_on,
)
from .report_forms import (
    EVIDENCE_TYPES,
    DeliverableForm,
    ReportForm,
    RestateForm,
    cautions_for,
)
from .selectors.history import AUDIT_LABELS, PUBLIC_ACTIONS
from .selectors.reports import (
    ReportSlot,
    activities_in_scope,
    activity_progress_by_activity,
    calendar_for_user,
    deliverables_of,
    indicators_in_scope,
    previous_report,
    report_slot_get_for_user,
    targets_for_slot,
    values_by_cell,
)


def report_slot(request: HttpRequest, code: str, period: str, agency: str, city: str) -> ReportSlot:
    return report_slot_get_for_user(
        user=request.user,
        programme_code=code,
        period_code=period,
        agency_code=agency,
        city_code=city,
    )


# A slot without a submitted report, by where its due date stands.
SLOT_STATES = {
    "upcoming": gettext_lazy("upcoming"),
    "due": gettext_lazy("due"),
    "overdue": gettext_lazy("overdue"),
}


def signed_in_user(request: HttpRequest) -> User:
    """The signed-in user (every view here requires one)."""
    assert isinstance(request.user, User)
    return request.user


def report_page_url(slot: ReportSlot, name: str = "report") -> str:
    return reverse(
        f"reports:{name}",
        args=[slot.programme.code, slot.period.code, slot.agency_code, slot.city.code],
    )


@login_required
@require_http_methods(["GET"])
def calendar(request: HttpRequest, code: str) -> HttpResponse:
    programme = programme_get_for_user(user=request.user, code=code)
    today = timezone.localdate()
    cal = calendar_for_user(user=request.user, programme=programme, today=today)
    labels = {**SLOT_STATES, **dict(ProgressReport.Status.choices)}
    counts = [(state, labels[state], n) for state, n in cal.counts().items()]
    return render(
        request,
        "reports/calendar.html",
        {"programme": programme, "calendar": cal, "today": today, "counts": counts},
    )


@dataclass
class Stale:
    """What the user is told when somebody saved in between."""

    differences: list[dict[str, Any]]
    by: Any
    at: Any


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, code: str, period: str, agency: str, city: str) -> HttpResponse:
    slot = report_slot(request, code, period, agency, city)
    r = slot.report
    indicators = indicators_in_scope(programme=slot.programme, agency=slot.agency, city=slot.city)
    activities = activities_in_scope(programme=slot.programme, agency=slot.agency, city=slot.city)
    values = values_by_cell(r)
    before = previous_report(slot)
    progress = activity_progress_by_activity(r if r.pk else before)
    form, stale, refused = None, None, False
    if can_edit_report(slot.access, r, closed=slot.closed):
        form = ReportForm(
            request.POST or None,
            request.FILES or None,
            indicators=indicators,
            values=values,
            activities=activities,
            progress=progress,
            initial={
                "version": r.version if r.pk else 0,
                "narrative_es": r.narrative_es,
                "narrative_en": r.narrative_en,
            },
        )
        if request.method == "POST" and form.is_valid():
            outcome = _save(request, slot, form, indicators)
            if isinstance(outcome, HttpResponse):
                return outcome
            form, stale = outcome
    elif request.method == "POST":
        if not can_edit_report(slot.access, _as_draft(r), closed=False):
            raise PermissionDenied
        # Their own report, submitted (by a colleague) or closed since they loaded the page:
        # still refused, but with the page and the reason rather than a bare 403.
        refused = True
        messages.error(request, _edit_refusal(slot))
    previous = values_by_cell(before)
    context = {
        "slot": slot,
        "programme": slot.programme,
        "report": r,
        "form": form,
        "stale": stale,
        "rows": _rows(indicators, values, previous, targets_for_slot(slot, indicators), form),
        "activities": _activity_rows(activities, activity_progress_by_activity(r), form),
        "deliverables": deliverables_of(r),
        "deliverable_form": DeliverableForm(activities=activities) if form is not None else None,
        "cautions": cautions_for(indicators, values, previous) if r.pk else [],
        "closes_on": period_closes_on(slot.period, slot.programme),
        "can": _abilities(slot, form is not None),
        "audit": _audit(r, slot.access),
    }
    status = 409 if stale else 400 if (form is not None and form.is_bound) else 200
    if refused:
        status = 403
    return render(request, "reports/report.html", context, status=status)


def _save(
    request: HttpRequest, slot: ReportSlot, form: ReportForm, indicators: list[Indicator]
) -> HttpResponse | tuple[ReportForm, Stale | None]:
    """Save (and submit, when asked): a redirect on success; otherwise the form with its
    errors, or rebound at the current version with what the other person changed."""
    submit = request.POST.get("action") == "submit"
    try:
        services.report_save(
            programme=slot.programme,
            period=slot.period,
            agency=slot.agency,
            city=slot.city,
            expected_version=form.cleaned_data["version"],
            entries=form.entries(),
            activities=form.activity_entries(),
            narrative_es=form.cleaned_data["narrative_es"],
            narrative_en=form.cleaned_data["narrative_en"],
            actor=signed_in_user(request),
            submit=submit,
            in_scope=indicators,
        )
    except services.StaleReport as error:
        current = error.current
        stale = Stale(_differences(form, current), current.updated_by, current.updated_at)
        return _rebound_at(form, current.version), stale
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return form, None
    messages.success(request, _("Report submitted for approval.") if submit else _("Draft saved."))
    return redirect(report_page_url(slot))


def _as_draft(report: ProgressReport) -> ProgressReport:
    """The same report slot as a draft: who could edit it, whatever its state now."""
    return ProgressReport(
        programme=report.programme,
        period=report.period,
        agency=report.agency,
        city=report.city,
        status=ProgressReport.Status.DRAFT,
    )


def _edit_refusal(slot: ReportSlot) -> str:
    if slot.report.status not in EDITABLE:
        return _("This report is %(status)s and can no longer be edited.") % {
            "status": slot.report.get_status_display()
        }
    return _("The period %(period)s is closed; its reports can no longer be edited.") % {
        "period": slot.period.name
    }


def _abilities(slot: ReportSlot, editable: bool) -> dict[str, bool]:
    access, r = slot.access, slot.report
    return {
        "edit": editable,
        "return": can_return_report(access, r, closed=slot.closed),
        "approve": can_approve_report(access, r),
        "validate": can_validate_report(access, r),
        "restate": can_restate_report(access, r),
        "submitted_own": bool(
            r.pk
            and r.status == ProgressReport.Status.SUBMITTED
            and r.submitted_by_id == access.user_id
            and (r.agency_id in access.approves or (r.agency_id is None and access.is_rco))
        ),
        "workbook": editable and not slot.is_joint,
    }


def _activity_rows(
    activities: list[Activity], saved: dict[int, ActivityProgress], form: ReportForm | None
) -> list[dict[str, Any]]:
    fields = {a.pk: (st, pr, co) for a, st, pr, co in form.activity_fields()} if form else {}
    return [
        {"activity": a, "saved": saved.get(a.pk), "fields": fields.get(a.pk)} for a in activities
    ]


Figures = dict[tuple[int, int | None], IndicatorValue]


def _rows(
    indicators: list[Indicator],
    values: Figures,
    previous: Figures,
    targets: dict[int, Target],
    form: ReportForm | None,
) -> list[dict[str, Any]]:
    """One row per indicator: the saved figures, last quarter's, the target, and the bound
    form fields when the report is editable."""
    blocks = {b.indicator.pk: b for b in form.blocks} if form is not None else {}
    rows = []
    for ind in indicators:
        block = blocks.get(ind.pk)
        fields: dict[str, Any] = {}
        if form is not None and block is not None:
            p = block.prefix
            fields = {
                name: form[f"{p}_{name}"]
                for name in ("total", "num", "den", "comment", "url", "file", "clear")
                if f"{p}_{name}" in form.fields
            }
        cells = []
        for dimension in ind.dimensions.all():
            group = []
            for category in dimension.categories.all():
                name = f"i{ind.pk}_c{category.pk}"
                group.append(
                    {
                        "category": category,
                        "saved": values.get((ind.pk, category.pk)),
                        "field": form[name] if form is not None and name in form.fields else None,
                    }
                )
            cells.append((dimension, group))
        rows.append(
            {
                "indicator": ind,
                "value": values.get((ind.pk, None)),
                "cells": cells,
                "previous": previous.get((ind.pk, None)),
                "target": targets.get(ind.pk),
                "f": fields,
            }
        )
    return rows


def _differences(form: ReportForm, current: ProgressReport) -> list[dict[str, Any]]:
    """What the other person saved, beside what this user entered, field by field."""
    saved = values_by_cell(current)
    out = []
    for block in form.blocks:
        cells = [block.total, *(c for _, cs in block.cells for c in cs)]
        for cell in cells:
            theirs = saved.get((block.indicator.pk, cell.category.pk if cell.category else None))
            mine = form.cleaned_data.get(cell.name)
            their_figure = theirs.value if theirs is not None else None
            if (mine is None) != (their_figure is None) or (
                mine is not None and their_figure is not None and Decimal(mine) != their_figure
            ):
                out.append(
                    {
                        "label": cell.label,
                        "theirs": theirs.display_value if theirs is not None else "—",
                        "mine": _entered(block.indicator, mine),
                    }
                )
    for lang in ("es", "en"):
        if (form.cleaned_data.get(f"narrative_{lang}") or "").strip() != getattr(
            current, f"narrative_{lang}"
        ):
            out.append(
                {
                    "label": str(form.fields[f"narrative_{lang}"].label),
                    "theirs": getattr(current, f"narrative_{lang}") or "—",
                    "mine": form.cleaned_data.get(f"narrative_{lang}") or "—",
                }
            )
    return out


def _entered(indicator: Any, figure: Decimal | None) -> str:
    """A figure as the user typed it, shown the way saved figures are."""
    if figure is None:
        return "—"
    return IndicatorValue(indicator=indicator, value=figure).display_value


def _rebound_at(form: ReportForm, version: int) -> ReportForm:
    """The same entries, now against the current version: saving again overwrites knowingly."""
    data = {key: form.data.get(key) for key in form.data}
    data["version"] = str(version)
    rebound = ReportForm(
        data,
        indicators=[b.indicator for b in form.blocks],
        values={},
        activities=form.activities,
    )
    rebound.is_valid()
    return rebound


def _audit(report: ProgressReport, access: Access) -> list[dict[str, Any]]:
    """The report's history: who did what, when, the figures before and after, why. Whoever
    does not follow its workflow sees its approval, validation and restatements only."""
    if report.pk is None:
        return []
    events = AuditEvent.objects.filter(
        object_type=ProgressReport._meta.label_lower, object_id=str(report.pk)
    )
    if not can_follow_report_workflow(access, report):
        events = events.filter(action__in=PUBLIC_ACTIONS)
    events = events.select_related("actor").order_by("at", "id")
    return [
        {
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "label": AUDIT_LABELS.get(e.action, e.action),
            "before": _describe(e.old_value),
            "after": _describe(e.new_value),
            "reason": e.reason,
        }
        for e in events
    ]


def _describe(change: Any) -> str:
    """An audit value as one line: a status by its name, figures as "code = value"."""
    if not isinstance(change, dict):
        return "" if change is None else str(change)
    parts = []
    status = change.get("status")
    if status:
        parts.append(str(ProgressReport.Status(status).label))
    figures = change.get("values", {k: v for k, v in change.items() if k != "status"})
    parts += [f"{k} = {v}" for k, v in figures.items()]
    return "; ".join(parts)


def _workflow_action(
    request: HttpRequest, slot: ReportSlot, allowed: bool, call: Any, done: str
) -> HttpResponse:
    if not allowed:
        raise PermissionDenied
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        call(version)
    except services.StaleReport:
        messages.error(
            request, _("The report changed since you opened it. Look at it again and repeat.")
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect(report_page_url(slot))


@login_required
@require_POST
def return_report(
    request: HttpRequest, code: str, period: str, agency: str, city: str
) -> HttpResponse:
    slot = report_slot(request, code, period, agency, city)
    return _workflow_action(
        request,
        slot,
        can_return_report(slot.access, slot.report, closed=slot.closed),
        lambda v: services.report_return(
            report=slot.report,
            reason=request.POST.get("reason", ""),
            actor=signed_in_user(request),
            expected_version=v,
        ),
        _("Report returned to the coordinator."),
    )


@login_required
@require_POST
def approve_report(
    request: HttpRequest, code: str, period: str, agency: str, city: str
) -> HttpResponse:
    slot = report_slot(request, code, period, agency, city)
    return _workflow_action(
        request,
        slot,
        can_approve_report(slot.access, slot.report),
        lambda v: services.report_approve(
            report=slot.report, actor=signed_in_user(request), expected_version=v
        ),
        _("Report approved. The dashboards will show its figures in a few seconds."),
    )


@login_required
@require_POST
def validate_report(
    request: HttpRequest, code: str, period: str, agency: str, city: str
) -> HttpResponse:
    slot = report_slot(request, code, period, agency, city)
    return _workflow_action(
        request,
        slot,
        can_validate_report(slot.access, slot.report),
        lambda v: services.report_validate(
            report=slot.report, actor=signed_in_user(request), expected_version=v
        ),
        _("Report validated."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def restate(request: HttpRequest, code: str, period: str, agency: str, city: str) -> HttpResponse:
    slot = report_slot(request, code, period, agency, city)
    if not can_restate_report(slot.access, slot.report):
        raise PermissionDenied
    indicators = indicators_in_scope(programme=slot.programme, agency=slot.agency, city=slot.city)
    values = values_by_cell(slot.report)
    form = RestateForm(
        request.POST or None,
        indicators=indicators,
        values=values,
        initial={"version": slot.report.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.value_restate(
                report=slot.report,
                entry=form.entry(),
                reason=form.cleaned_data["reason"],
                actor=signed_in_user(request),
                expected_version=form.cleaned_data["version"],
            )
        except services.StaleReport:
            form.add_error(
                None,
                _(
                    "The report changed since you opened it; the figures below are the "
                    "current ones. Check and repeat."
                ),
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request, _("Figure restated. The dashboards will show it in a few seconds.")
            )
            return redirect(report_page_url(slot))
    return render(
        request,
        "reports/restate.html",
        {
            "slot": slot,
            "programme": slot.programme,
            "report": slot.report,
            "form": form,
            "values": values,
        },
        status=400 if form.is_bound else 200,
    )


def download_type(name: str) -> str:
    """The type an evidence or deliverable file is served as: that of the kinds the upload
    accepts, by its suffix; anything else (a file that got in another way: an HTML page, an
    SVG) is an opaque download, never a type a browser would render."""
    suffix = Path(name).suffix.lower()
    known = mimetypes.guess_type(f"file{suffix}")[0] if suffix in EVIDENCE_TYPES else None
    return known or "application/octet-stream"


@login_required
@require_http_methods(["GET"])
def evidence(
    request: HttpRequest, code: str, period: str, agency: str, city: str, value_id: int
) -> FileResponse:
    """An evidence file, to whoever may see its report; always as a download, never rendered."""
    slot = report_slot(request, code, period, agency, city)
    value = (
        IndicatorValue.objects.filter(pk=value_id, report=slot.report.pk).first()
        if slot.exists
        else None
    )
    if value is None or not value.evidence:
        raise Http404
    name = Path(str(value.evidence.name)).name
    response = FileResponse(
        value.evidence.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=download_type(name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
