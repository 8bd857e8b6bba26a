"""Pages of the quarterly report: the calendar, the report (entry, review, workflow
actions, audit trail), restatement, evidence downloads. Each view: authorise (one selector
that fetches and checks) → validate → one service → redirect or render."""

import mimetypes
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

from monitoring.models import AuditEvent
from monitoring.selectors import programme_get_for_user

from . import services
from .models import Indicator, IndicatorValue, ProgressReport, Target
from .permissions import (
    can_approve_report,
    can_edit_report,
    can_restate_report,
    can_return_report,
    can_validate_report,
    period_closes_on,
)
from .report_forms import ReportForm, RestateForm, cautions_for
from .selectors.reports import (
    ReportSlot,
    calendar_for_user,
    indicators_in_scope,
    previous_report,
    report_slot_get_for_user,
    targets_for_slot,
    values_by_cell,
)


def _slot(request: HttpRequest, code: str, period: str, agency: str, city: str) -> ReportSlot:
    return report_slot_get_for_user(
        user=request.user,
        programme_code=code,
        period_code=period,
        agency_code=agency,
        city_code=city,
    )


def _actor(request: HttpRequest) -> User:
    """The signed-in user (every view here requires one)."""
    assert isinstance(request.user, User)
    return request.user


def _url(slot: ReportSlot, name: str = "report") -> str:
    return reverse(
        f"reports:{name}",
        args=[slot.programme.code, slot.period.code, slot.agency.code, slot.city.code],
    )


@login_required
@require_http_methods(["GET"])
def calendar(request: HttpRequest, code: str) -> HttpResponse:
    programme = programme_get_for_user(user=request.user, code=code)
    today = timezone.localdate()
    cal = calendar_for_user(user=request.user, programme=programme, today=today)
    return render(
        request,
        "reports/calendar.html",
        {"programme": programme, "calendar": cal, "today": today, "counts": cal.counts()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, code: str, period: str, agency: str, city: str) -> HttpResponse:
    slot = _slot(request, code, period, agency, city)
    r, access = slot.report, slot.access
    indicators = indicators_in_scope(programme=slot.programme, agency=slot.agency, city=slot.city)
    values = values_by_cell(r)
    editable = can_edit_report(access, r, closed=slot.closed)
    form = None
    stale: list[dict[str, Any]] = []
    stale_by, stale_at = None, None
    if editable:
        form = ReportForm(
            request.POST or None,
            request.FILES or None,
            indicators=indicators,
            values=values,
            initial={
                "version": r.version if r.pk else 0,
                "narrative_es": r.narrative_es,
                "narrative_en": r.narrative_en,
            },
        )
        if request.method == "POST":
            submit = request.POST.get("action") == "submit"
            if form.is_valid():
                try:
                    services.report_save(
                        programme=slot.programme,
                        period=slot.period,
                        agency=slot.agency,
                        city=slot.city,
                        expected_version=form.cleaned_data["version"],
                        entries=form.entries(),
                        narrative_es=form.cleaned_data["narrative_es"],
                        narrative_en=form.cleaned_data["narrative_en"],
                        actor=_actor(request),
                        submit=submit,
                        in_scope=indicators,
                    )
                except services.StaleReport as error:
                    stale = _differences(form, error.current)
                    stale_by, stale_at = error.current.updated_by, error.current.updated_at
                    form = _rebound_at(form, error.current.version)
                except ValidationError as error:
                    for message in error.messages:
                        form.add_error(None, message)
                else:
                    messages.success(
                        request,
                        _("Report submitted for approval.") if submit else _("Draft saved."),
                    )
                    return redirect(_url(slot))
    elif request.method == "POST":
        raise PermissionDenied
    previous = values_by_cell(previous_report(slot))
    return render(
        request,
        "reports/report.html",
        {
            "slot": slot,
            "programme": slot.programme,
            "report": r,
            "form": form,
            "stale": stale,
            "rows": _rows(indicators, values, previous, targets_for_slot(slot, indicators), form),
            "cautions": cautions_for(indicators, values, previous) if r.pk else [],
            "closes_on": period_closes_on(slot.period, slot.programme),
            "can": {
                "edit": editable,
                "submit": editable,
                "return": can_return_report(access, r, closed=slot.closed),
                "approve": can_approve_report(access, r),
                "validate": can_validate_report(access, r),
                "restate": can_restate_report(access, r),
            },
            "submitted_own": r.pk
            and r.status == ProgressReport.Status.SUBMITTED
            and r.agency_id in access.approves
            and r.submitted_by_id == access.user_id,
            "audit": _audit(r),
            "stale_by": stale_by,
            "stale_at": stale_at,
        },
        status=409 if stale else 400 if (form is not None and form.is_bound) else 200,
    )


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
    rebound = ReportForm(data, indicators=[b.indicator for b in form.blocks], values={})
    rebound.is_valid()
    return rebound


AUDIT_LABELS = {
    "report.submit": gettext_lazy("submitted"),
    "report.return": gettext_lazy("returned for correction"),
    "report.approve": gettext_lazy("approved"),
    "report.validate": gettext_lazy("validated"),
    "value.restate": gettext_lazy("figure restated"),
}


def _audit(report: ProgressReport) -> list[dict[str, Any]]:
    """The report's history: who did what, when, the figures before and after, why."""
    if report.pk is None:
        return []
    events = (
        AuditEvent.objects.filter(
            object_type=ProgressReport._meta.label_lower, object_id=str(report.pk)
        )
        .select_related("actor")
        .order_by("at", "id")
    )
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
    return redirect(_url(slot))


@login_required
@require_POST
def return_report(
    request: HttpRequest, code: str, period: str, agency: str, city: str
) -> HttpResponse:
    slot = _slot(request, code, period, agency, city)
    return _workflow_action(
        request,
        slot,
        can_return_report(slot.access, slot.report, closed=slot.closed),
        lambda v: services.report_return(
            report=slot.report,
            reason=request.POST.get("reason", ""),
            actor=_actor(request),
            expected_version=v,
        ),
        _("Report returned to the coordinator."),
    )


@login_required
@require_POST
def approve_report(
    request: HttpRequest, code: str, period: str, agency: str, city: str
) -> HttpResponse:
    slot = _slot(request, code, period, agency, city)
    return _workflow_action(
        request,
        slot,
        can_approve_report(slot.access, slot.report),
        lambda v: services.report_approve(
            report=slot.report, actor=_actor(request), expected_version=v
        ),
        _("Report approved. The dashboards will show its figures in a few seconds."),
    )


@login_required
@require_POST
def validate_report(
    request: HttpRequest, code: str, period: str, agency: str, city: str
) -> HttpResponse:
    slot = _slot(request, code, period, agency, city)
    return _workflow_action(
        request,
        slot,
        can_validate_report(slot.access, slot.report),
        lambda v: services.report_validate(
            report=slot.report, actor=_actor(request), expected_version=v
        ),
        _("Report validated."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def restate(request: HttpRequest, code: str, period: str, agency: str, city: str) -> HttpResponse:
    slot = _slot(request, code, period, agency, city)
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
                actor=_actor(request),
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
            return redirect(_url(slot))
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


@login_required
@require_http_methods(["GET"])
def evidence(
    request: HttpRequest, code: str, period: str, agency: str, city: str, value_id: int
) -> FileResponse:
    """An evidence file, to whoever may see its report; always as a download, never rendered."""
    slot = _slot(request, code, period, agency, city)
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
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
