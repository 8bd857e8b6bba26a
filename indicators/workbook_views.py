"""The quarterly report as an Excel workbook: download it, fill it in offline, upload it
back. Both are allowed exactly when the report page would let this user edit the report.
An upload is applied whole through ``report_save`` or not at all; a refused one comes back
as the same workbook with the failing cells marked and explained."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import services
from .models import Indicator
from .permissions import can_edit_report
from .report_views import report_page_url, report_slot, signed_in_user
from .selectors.reports import (
    ReportSlot,
    indicators_in_scope,
    previous_report,
    targets_for_slot,
    values_by_cell,
)
from .workbook import (
    WorkbookErrors,
    WorkbookRefused,
    build_workbook,
    read_workbook,
    service_errors,
    stale_errors,
    workbook_filename,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _editable_slot(
    request: HttpRequest, code: str, period: str, agency: str, city: str
) -> tuple[ReportSlot, list[Indicator]]:
    slot = report_slot(request, code, period, agency, city)
    if slot.is_joint:  # the RCO's consolidated totals are entered on the page
        raise Http404
    if not can_edit_report(slot.access, slot.report, closed=slot.closed):
        raise PermissionDenied
    indicators = indicators_in_scope(programme=slot.programme, agency=slot.agency, city=slot.city)
    return slot, indicators


def _xlsx(content: bytes, filename: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX, status=status)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def download_workbook(
    request: HttpRequest, code: str, period: str, agency: str, city: str
) -> HttpResponse:
    slot, indicators = _editable_slot(request, code, period, agency, city)
    content = build_workbook(
        slot,
        indicators,
        values_by_cell(slot.report),
        values_by_cell(previous_report(slot)),
        targets_for_slot(slot, indicators),
    )
    return _xlsx(content, workbook_filename(slot))


@login_required
@require_POST
def upload_workbook(
    request: HttpRequest, code: str, period: str, agency: str, city: str
) -> HttpResponse:
    slot, indicators = _editable_slot(request, code, period, agency, city)
    upload = request.FILES.get("workbook")
    if upload is None:
        messages.error(request, _("Choose the report's workbook (.xlsx) to upload."))
        return redirect(report_page_url(slot))
    try:
        entries, narrative_es, narrative_en, version = read_workbook(upload, slot, indicators)
    except WorkbookRefused as refused:
        messages.error(request, str(refused))
        return redirect(report_page_url(slot))
    except WorkbookErrors as errors:
        return _errors(errors, slot, status=400)
    try:
        services.report_save(
            programme=slot.programme,
            period=slot.period,
            agency=slot.agency,
            city=slot.city,
            expected_version=version,
            entries=entries,
            narrative_es=narrative_es,
            narrative_en=narrative_en,
            actor=signed_in_user(request),
            in_scope=indicators,
        )
    except services.StaleReport as stale:
        return _errors(stale_errors(_content(upload), stale.current, version), slot, status=409)
    except ValidationError as error:
        return _errors(service_errors(_content(upload), error.messages, indicators), slot, 400)
    messages.success(request, _("Workbook uploaded: its figures are saved as a draft."))
    return redirect(report_page_url(slot))


def _content(upload: UploadedFile) -> bytes:
    upload.seek(0)
    return upload.read()


def _errors(errors: WorkbookErrors, slot: ReportSlot, status: int) -> HttpResponse:
    """The uploaded workbook back, annotated: nothing of it was saved."""
    return _xlsx(errors.annotated(), workbook_filename(slot, errors=True), status=status)
