"""The exports for machine clients: ``GET /api/v1/exports/<kind>/?programme=CIUDADES&format=…``
(results, budget, surveys, iati, mptf), the same catalogue, filters, permissions and files as
the export page (``monitoring.exports.registry``). Answered at once: the results table
streams as CSV or JSON whatever its size; an export that cannot stream and is larger than
``EXPORT_SYNC_MAX_ROWS`` is refused with a pointer to the streamed format or the export page,
where it runs as a background job. Errors are the API's JSON error body."""

from typing import Any

from django.http import HttpResponseBase
from django.urls import path, reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from monitoring.bilingual import CONTENT_LANGUAGES, active_content_language
from monitoring.exports.registry import (
    EXPORTS,
    FORMATS,
    REFUSALS,
    Export,
    ExportChoices,
    ExportRun,
    clean_params,
    refusal,
    sync_max_rows,
)
from monitoring.exports.stamp import export_stamp
from monitoring.exports.views import download_response

from .access import programme_access, programme_from_query

FILTER_PARAMETERS = {
    "city": OpenApiParameter("city", str, description="City code; ALL: programme totals only."),
    "agency": OpenApiParameter(
        "agency", str, description="Agency code; ALL: all agencies together only."
    ),
    "outcome": OpenApiParameter("outcome", str, description="Outcome code, e.g. R1."),
    "output": OpenApiParameter("output", str, description="Output code, e.g. 1.4."),
    "indicator": OpenApiParameter("indicator", str, description="Indicator code, e.g. 1.4.A."),
    "period": OpenApiParameter(
        "period", str, description="Reporting period code, or LOP (life of the programme)."
    ),
    "updated_since": OpenApiParameter(
        "updated_since",
        str,
        description="Only rows computed since then: a date (YYYY-MM-DD) or date and time.",
    ),
    "year": OpenApiParameter(
        "year",
        int,
        description="The annual report of the reporting year ending in this year; without "
        "it, the final report of the whole programme.",
    ),
    "language": OpenApiParameter(
        "language", str, enum=list(CONTENT_LANGUAGES), description="Language of the report."
    ),
    "survey": OpenApiParameter("survey", str, required=True, description="Survey code."),
    "wave": OpenApiParameter("wave", int, description="Survey wave; the latest without it."),
    "table": OpenApiParameter(
        "table",
        str,
        enum=["figures", "lines", "revisions", "expenditures"],
        description="CSV only: which table (the XLSX has them all). Default: figures.",
    ),
}
STAMP_HEADERS = [
    OpenApiParameter(
        "X-Generated-At",
        OpenApiTypes.DATETIME,
        OpenApiParameter.HEADER,
        response=[200],
        description="When the file was made.",
    ),
    OpenApiParameter(
        "X-Restatements",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200],
        description="Approved figures restated since their approval.",
    ),
    OpenApiParameter(
        "X-As-Of",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description="The period and date the figures are as of (absent before any approval).",
    ),
]


class JsonErrors(BaseRenderer):
    """Errors are JSON whatever ``format`` asked for; files are answered by the view itself,
    so ``format`` is this endpoint's own parameter, not DRF's content negotiation."""

    media_type = "application/json"
    format = "json"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


def _responses(export: Export) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for code in export.formats:
        fmt = FORMATS[code]
        media_type = fmt.content_type.split(";")[0]
        kind = OpenApiTypes.OBJECT if code == "json" else OpenApiTypes.BINARY
        out[(200, media_type)] = OpenApiResponse(
            kind, description="The file in the format asked for, as an attachment."
        )
    return out


def export_file(request: Request, export: Export) -> HttpResponseBase:
    programme = programme_from_query(request)
    assert programme is not None
    access = programme_access(request, programme)
    if not access.is_member:
        raise exceptions.NotFound(
            _("No programme %(code)s that you may see.") % {"code": programme.code}
        )
    if not export.may_run(access):
        raise exceptions.PermissionDenied
    fmt, params = clean_params(ExportChoices(programme), export, request.query_params)
    run = ExportRun(programme, export.kind, fmt, params, active_content_language())
    try:
        size = run.size()
        if not run.streams and size > sync_max_rows():
            raise _too_large(request, programme.code, size)
        return download_response(run, export_stamp(programme))
    except REFUSALS as error:
        field, message = refusal(error)
        raise exceptions.ValidationError({field or "non_field_errors": [message]}) from error


def _too_large(request: Request, code: str, size: int) -> exceptions.ValidationError:
    page = request.build_absolute_uri(reverse("exports:page", args=[code]))
    return exceptions.ValidationError(
        {
            "format": [
                _(
                    "This export holds %(rows)d rows, more than the %(max)d built at once "
                    "here. Narrow the filters, ask for the results as format=csv (streamed), "
                    "or prepare it on the export page: %(page)s"
                )
                % {"rows": size, "max": sync_max_rows(), "page": page}
            ]
        }
    )


def _view(export: Export) -> type[APIView]:
    parameters = [
        OpenApiParameter(
            "programme", str, description="Programme code, e.g. CIUDADES (default: the token's)."
        ),
        OpenApiParameter(
            "format",
            str,
            enum=list(export.formats),
            description=f"Default: {export.formats[0]}.",
        ),
        *(FILTER_PARAMETERS[name] for name in export.filters),
        *STAMP_HEADERS,
    ]

    class ExportView(APIView):
        renderer_classes = [JsonErrors]

        def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
            return JsonErrors(), JsonErrors.media_type

        @extend_schema(
            operation_id=f"exports_{export.kind}",
            summary=export.label,
            description=format_lazy(
                "{} {}", export.description, gettext_lazy("Approved data only.")
            ),
            parameters=parameters,
            responses=_responses(export),
            tags=["exports"],
        )
        def get(self, request: Request) -> HttpResponseBase:
            return export_file(request, export)

    ExportView.__name__ = ExportView.__qualname__ = f"{export.kind.title()}ExportView"
    return ExportView


urlpatterns = [
    path(f"exports/{kind}/", _view(export).as_view(), name=f"export-{kind}")
    for kind, export in EXPORTS.items()
]
