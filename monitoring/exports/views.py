"""The export page (DESIGN §8): each export the viewer may run, with its formats and filters
and the stamp of the figures; small exports download at once (CSV streamed), large ones
become a background job with a page of its own that follows its progress and offers the
file when it is ready. Only the requester and the programme's admins see a job. A job whose
worker stopped (running past ``EXPORT_JOB_TIMEOUT``) is shown as failed, with a link that
starts it again."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from indicators.permissions import Access, access_for
from monitoring.bilingual import active_content_language
from monitoring.models import ExportJob, Programme
from monitoring.selectors import programme_get_for_user

from .registry import (
    EXPORTS,
    FILTER_LABELS,
    FORMATS,
    REFUSALS,
    Export,
    ExportChoices,
    ExportRun,
    can_view_export_job,
    clean_params,
    describe_filters,
    exports_for,
    refusal,
    sync_max_rows,
)
from .stamp import ExportStamp, export_stamp
from .tasks import export_job_create, job_filters, job_stamp

RECENT_JOBS = 10
Status = ExportJob.Status


def download_response(run: ExportRun, stamp: ExportStamp) -> HttpResponseBase:
    """The file as an attachment, streamed when the format allows; the stamp (as of,
    restated since) in the headers of every format."""
    chunks = run.chunks(stamp)
    content_type = run.format.content_type
    response: HttpResponseBase
    if run.streams:
        response = StreamingHttpResponse(chunks, content_type=content_type)
    else:
        response = HttpResponse(b"".join(chunks), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, run.filename(stamp))
    for name, value in stamp.headers().items():
        response[name] = value
    return response


# ---- the form --------------------------------------------------------------------------------


def _filter_field(name: str, choices: ExportChoices) -> forms.Field:
    label = FILTER_LABELS[name]
    if name == "updated_since":
        return forms.CharField(
            label=label,
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}),
            help_text=_("Only rows computed on or after this date."),
        )
    options = choices.for_filter(name)
    empty = {
        "wave": _("Latest"),
        "year": _("Final report (the whole programme)"),
        "language": None,
        "table": None,
        "survey": None,
    }.get(name, _("All"))
    if empty is not None:
        options = [("", empty), *options]
    return forms.CharField(label=label, required=False, widget=forms.Select(choices=options))


class ExportForm(forms.Form):
    """One export's format and filters. Every check is ``registry.clean_params``, the same
    the API makes; its messages land on the field they are about."""

    def __init__(
        self,
        export: Export,
        choices: ExportChoices,
        data: Any = None,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial, auto_id=f"id_{export.kind}_%s")
        self.export = export
        self.choices = choices
        self.fmt = export.formats[0]
        self.params: dict[str, Any] = {}
        self.fields["format"] = forms.CharField(
            label=_("Format"),
            required=False,
            initial=export.formats[0],
            widget=forms.RadioSelect(choices=[(f, FORMATS[f].label) for f in export.formats]),
        )
        for name in export.filters:
            self.fields[name] = _filter_field(name, choices)
        if "language" in self.fields:
            self.fields["language"].initial = active_content_language()

    def clean(self) -> dict[str, Any]:
        try:
            self.fmt, self.params = clean_params(self.choices, self.export, self.data)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return self.cleaned_data


# ---- the page -----------------------------------------------------------------------------


@dataclass
class ExportPage:
    programme: Programme
    access: Access
    exports: dict[str, Export]
    choices: ExportChoices


def _page_for(request: HttpRequest, code: str) -> ExportPage:
    programme = programme_get_for_user(user=request.user, code=code)
    access = access_for(request.user, programme)
    exports = {e.kind: e for e in exports_for(access)}
    if not exports:
        raise Http404
    return ExportPage(programme, access, exports, ExportChoices(programme))


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request: HttpRequest, code: str) -> HttpResponseBase:
    page = _page_for(request, code)
    forms_by_kind = {
        kind: ExportForm(
            export,
            page.choices,
            initial={k: v for k in export.filters if (v := request.GET.get(k))},
        )
        for kind, export in page.exports.items()
    }
    status = 200
    if request.method == "POST":
        export = page.exports.get(request.POST.get("kind", ""))
        if export is None:
            raise Http404
        form = forms_by_kind[export.kind] = ExportForm(export, page.choices, request.POST)
        if form.is_valid() and (response := _start(request, page, form)) is not None:
            return response
        status = 400
    context = {
        "programme": page.programme,
        "stamp": export_stamp(page.programme),
        "forms": list(forms_by_kind.values()),
        "jobs": _recent_jobs(request, page.programme),
        "max_rows": sync_max_rows(),
        "max_rows_text": formats.number_format(sync_max_rows(), force_grouping=True),
        "only_approved": page.access.only_approved,
    }
    return render(request, "exports/page.html", context, status=status)


def _start(request: HttpRequest, page: ExportPage, form: ExportForm) -> HttpResponseBase | None:
    """The file now, or a job for later; None when the filters turn out not to fit (the form
    then says why)."""
    run = ExportRun(page.programme, form.export.kind, form.fmt, form.params, _language())
    try:
        size = run.size()
        if size > sync_max_rows():
            job = export_job_create(run=run, user=request.user, rows_total=size)
            return redirect("exports:job", page.programme.code, job.pk)
        return download_response(run, export_stamp(page.programme))
    except REFUSALS as error:
        field, message = refusal(error)
        form.add_error(field if field in form.fields else None, message)
        return None


def _language() -> str:
    return active_content_language()


def _recent_jobs(request: HttpRequest, programme: Programme) -> list[dict[str, Any]]:
    jobs = ExportJob.objects.filter(programme=programme, requested_by=request.user.pk).order_by(
        "-created_at", "-id"
    )[:RECENT_JOBS]
    rows = []
    for job in jobs:
        job.programme = programme  # already fetched
        rows.append(_job_row(job))
    return rows


# ---- a job --------------------------------------------------------------------------------


def job_get_for_user(request: HttpRequest, code: str, job_id: int) -> ExportJob:
    """The job, if the viewer asked for it or administers the programme; 404 otherwise."""
    programme = programme_get_for_user(user=request.user, code=code)
    access = access_for(request.user, programme)
    job = ExportJob.objects.filter(pk=job_id, programme=programme).first()
    if job is None or not can_view_export_job(access, job):
        raise Http404
    job.programme = programme
    return job


def _rows_text(job: ExportJob) -> str:
    done = formats.number_format(job.rows_done, force_grouping=True)
    if job.rows_total is None:
        return ngettext("%(done)s row written", "%(done)s rows written", job.rows_done) % {
            "done": done
        }
    total = formats.number_format(job.rows_total, force_grouping=True)
    return ngettext(
        "%(done)s of %(total)s row written", "%(done)s of %(total)s rows written", job.rows_total
    ) % {"done": done, "total": total}


def _job_row(job: ExportJob) -> dict[str, Any]:
    export = EXPORTS.get(job.kind)
    fmt = FORMATS.get(job.fmt)
    status = job.shown_status
    return {
        "job": job,
        "label": export.label if export else job.kind,
        "format": fmt.label if fmt else job.fmt,
        "url": reverse("exports:job", args=[job.programme.code, job.pk]),
        "status": status,
        "status_label": str(Status(status).label),
    }


def restart_url(job: ExportJob) -> str:
    """The export page with this job's export and filters chosen again."""
    query = urlencode({k: v for k, v in job_filters(job).items() if v not in (None, "")})
    url = reverse("exports:page", args=[job.programme.code])
    return f"{url}?{query}#export-{job.kind}" if query else f"{url}#export-{job.kind}"


def job_state(job: ExportJob) -> dict[str, Any]:
    """What the job page shows, and what its script polls. A job whose worker stopped is
    failed, whatever its row still says."""
    code = job.programme.code
    status = job.shown_status
    done = status == Status.DONE and bool(job.file)
    return {
        "id": job.pk,
        "status": status,
        "status_label": str(Status(status).label),
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "rows_text": _rows_text(job),
        "percent": job.percent,
        "finished": status in (Status.DONE, Status.FAILED),
        "download_url": reverse("exports:job_download", args=[code, job.pk]) if done else None,
        "filename": job.filename if done else "",
        "error": job.shown_error,
    }


@login_required
@require_GET
def job_detail(request: HttpRequest, code: str, job_id: int) -> HttpResponse:
    job = job_get_for_user(request, code, job_id)
    stamp = job_stamp(job)
    filters = describe_filters(ExportChoices(job.programme), job_filters(job))
    context = {
        "programme": job.programme,
        "job": job,
        "row": _job_row(job),
        "state": job_state(job),
        "restart_url": restart_url(job),
        "filters": filters,
        "stamp": stamp.sentence() if stamp else "",
    }
    return render(request, "exports/job.html", context)


@never_cache
@login_required
@require_GET
def job_status(request: HttpRequest, code: str, job_id: int) -> JsonResponse:
    return JsonResponse(job_state(job_get_for_user(request, code, job_id)))


@login_required
@require_GET
def job_download(request: HttpRequest, code: str, job_id: int) -> FileResponse:
    job = job_get_for_user(request, code, job_id)
    if job.status != Status.DONE or not job.file:
        raise Http404
    try:
        handle = job.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    fmt = FORMATS.get(job.fmt)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=job.filename,
        content_type=fmt.content_type if fmt else "application/octet-stream",
    )
    stamp = job_stamp(job)
    for name, value in (stamp.headers() if stamp else {}).items():
        response[name] = value
    return response
