"""Activities and deliverables: deliverables added to a quarterly report, the product
inventory (every deliverable of approved reports, the list the evaluation rebuilt by hand),
and a page per output with its activities' reported status by city and agency."""

import csv
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from monitoring.selectors import programme_get_for_user

from . import services
from .models import Deliverable
from .permissions import access_for, can_edit_report, can_view_report, period_is_closed
from .report_forms import DeliverableForm
from .report_views import download_type, report_page_url, report_slot, signed_in_user
from .selectors.activities import (
    approved_deliverables,
    latest_activity_progress,
    output_get_for_programme,
)
from .selectors.reports import activities_in_scope


@login_required
@require_POST
def deliverable_add(
    request: HttpRequest, code: str, period: str, agency: str, city: str
) -> HttpResponse:
    slot = report_slot(request, code, period, agency, city)
    if not slot.exists or not can_edit_report(slot.access, slot.report, closed=slot.closed):
        raise PermissionDenied
    activities = activities_in_scope(programme=slot.programme, agency=slot.agency, city=slot.city)
    form = DeliverableForm(request.POST, request.FILES, activities=activities)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.deliverable_add(
                report=slot.report,
                activity=form.chosen_activity(),
                title_es=data["title_es"],
                title_en=data["title_en"],
                kind=data["kind"],
                date=data["date"],
                file=data.get("file") or None,
                url=data.get("url") or "",
                actor=signed_in_user(request),
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Deliverable added."))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for problem in errors:
                messages.error(request, f"{label}: {problem}" if label else str(problem))
    return redirect(report_page_url(slot) + "#deliverables")


@login_required
@require_POST
def deliverable_remove(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    programme = programme_get_for_user(user=request.user, code=code)
    deliverable = programme.deliverables.select_related("report").filter(pk=pk).first()
    if deliverable is None or deliverable.report is None:
        raise Http404
    report = deliverable.report
    access = access_for(request.user, programme)
    if not can_edit_report(access, report, closed=period_is_closed(report.period, programme)):
        raise PermissionDenied
    try:
        services.deliverable_remove(deliverable=deliverable, actor=signed_in_user(request))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Deliverable removed."))
    assert report.agency is not None and report.city is not None  # an agency's report
    page = reverse(
        "reports:report", args=[code, report.period.code, report.agency.code, report.city.code]
    )
    return redirect(page + "#deliverables")


@login_required
@require_GET
def deliverable_file(request: HttpRequest, code: str, pk: int) -> FileResponse:
    """A deliverable's file, to whoever may see the report it came with; as a download."""
    programme = programme_get_for_user(user=request.user, code=code)
    deliverable = programme.deliverables.select_related("report").filter(pk=pk).first()
    if deliverable is None or not deliverable.file:
        raise Http404
    access = access_for(request.user, programme)
    if deliverable.report is not None and not can_view_report(access, deliverable.report):
        raise PermissionDenied
    name = Path(str(deliverable.file.name)).name
    response = FileResponse(
        deliverable.file.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=download_type(name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_GET
def inventory(request: HttpRequest, code: str) -> HttpResponse:
    """Every deliverable of approved reports, by output and activity; CSV with ?download=csv."""
    programme = programme_get_for_user(user=request.user, code=code)
    deliverables = approved_deliverables(programme)
    if request.GET.get("download") == "csv":
        return _inventory_csv(programme.code, deliverables)
    return render(
        request,
        "activities/inventory.html",
        {"programme": programme, "deliverables": deliverables},
    )


def _inventory_csv(code: str, deliverables: list[Deliverable]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{code}-deliverables.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["output", "activity", "agency", "city", "date", "type", "title_es", "title_en", "link",
         "period"]
    )  # fmt: skip
    for d in deliverables:
        writer.writerow(
            [
                d.activity.output.code,
                d.activity.code,
                d.agency.code if d.agency else "",
                d.city.code if d.city else "",
                d.date.isoformat(),
                d.kind,
                _safe(d.title_es),
                _safe(d.title_en),
                d.url,
                d.report.period.code if d.report else "",
            ]
        )
    return response


def _safe(text: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula: neutralise it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@login_required
@require_GET
def output_detail(request: HttpRequest, code: str, output_code: str) -> HttpResponse:
    programme = programme_get_for_user(user=request.user, code=code)
    output = output_get_for_programme(programme, output_code)
    activities = list(output.activities.order_by("country__code", "order", "code"))
    progress = latest_activity_progress(programme, activities)
    return render(
        request,
        "activities/output.html",
        {
            "programme": programme,
            "output": output,
            "activities": [(a, progress.get(a.pk, [])) for a in activities],
            "deliverables": [
                d for d in approved_deliverables(programme) if d.activity.output_id == output.pk
            ],
        },
    )
