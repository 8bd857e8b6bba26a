"""The donor's download in one request: ``GET /api/v1/results/?programme=CIUDADES``.

JSON pages of the tidy rows (DESIGN §8), or with ``format=csv`` (or ``Accept: text/csv``) the
whole table as one streamed CSV; the same filters apply to both. The rows are approved data
only, so every member of the programme, donors included, reads the same table. An ETag built
from the figures' last computation, the last restatement and the query answers a repeated
download with 304 Not Modified without reading the table again."""

import datetime as dt
import hashlib
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from indicators.selectors.results import (
    RESULT_COLUMNS,
    ResultQuery,
    UnknownCode,
    check_codes,
    result_count,
    result_rows,
)
from monitoring.exports.results import row_dict, stream_csv
from monitoring.exports.stamp import ExportStamp, export_stamp

from .access import programme_access, programme_from_query
from .pagination import StablePagination

FILTERS = ("city", "agency", "outcome", "output", "indicator", "period")


class CSVRenderer(BaseRenderer):
    """Lets ``format=csv`` and ``Accept: text/csv`` through content negotiation; the view
    answers those with a streamed response of its own."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return b""  # pragma: no cover - the view never renders through it


class ResultRowSerializer(serializers.Serializer):
    """One tidy row (documentation of the schema; rows are built by the selector)."""

    programme = serializers.CharField()
    outcome = serializers.CharField()
    output = serializers.CharField(help_text="Empty for outcome indicators.")
    indicator = serializers.CharField()
    indicator_name_es = serializers.CharField()
    indicator_name_en = serializers.CharField()
    measure = serializers.CharField()
    city = serializers.CharField(help_text="City code, or ALL for totals.")
    agency = serializers.CharField(help_text="Agency code, or ALL for totals.")
    period = serializers.CharField(help_text="Reporting period code, or LOP (life to date).")
    disaggregation = serializers.CharField(help_text="total, or dimension=category.")
    baseline = serializers.FloatField(allow_null=True)
    target = serializers.FloatField(allow_null=True)
    actual = serializers.FloatField(allow_null=True)
    achievement_pct = serializers.FloatField(allow_null=True)
    status = serializers.CharField()
    approved_at = serializers.DateTimeField(allow_null=True)
    computed_at = serializers.DateTimeField()


class StampSerializer(serializers.Serializer):
    programme = serializers.CharField()
    generated_at = serializers.DateTimeField()
    as_of_period = serializers.CharField(allow_null=True)
    as_of_date = serializers.DateField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    restatements = serializers.IntegerField()
    last_restated_at = serializers.DateTimeField(allow_null=True)


class ResultPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    stamp = StampSerializer()
    results = ResultRowSerializer(many=True)


def _parse_since(raw: str) -> dt.datetime:
    message = _("Give a date or date and time, e.g. 2023-01-31T00:00:00Z.")
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            if day is not None:
                moment = dt.datetime.combine(day, dt.time.min)
        if moment is None:
            raise ValueError(raw)
        moment = make_aware(moment) if is_naive(moment) else moment
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise exceptions.ValidationError({"updated_since": [message]}) from exc


def _positive(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= maximum:
        raise exceptions.ValidationError(
            {name: [_("Give a whole number from 1 to %(max)d.") % {"max": maximum}]}
        )
    return value


PARAMETERS = [
    OpenApiParameter("programme", str, description="Programme code, e.g. CIUDADES."),
    *(
        OpenApiParameter(name, str, description=f"{name} code (ALL for totals)")
        for name in ("city", "agency")
    ),
    *(OpenApiParameter(name, str, description=f"{name} code") for name in FILTERS[2:5]),
    OpenApiParameter("period", str, description="Reporting period code, or LOP."),
    OpenApiParameter(
        "updated_since", OpenApiTypes.DATETIME, description="Rows computed since then."
    ),
    OpenApiParameter("page", int, description="Page number (JSON)."),
    OpenApiParameter("page_size", int, description="Rows per page, at most 1000 (JSON)."),
    OpenApiParameter(
        "format", str, enum=["json", "csv"], description="csv: the whole table, streamed."
    ),
]


class ResultsView(APIView):
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    @extend_schema(
        operation_id="results_list",
        summary="The tidy results table (approved figures only)",
        parameters=PARAMETERS,
        responses={
            (200, "application/json"): ResultPageSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The whole table."),
        },
        tags=["results"],
    )
    def get(self, request: Request) -> HttpResponse | StreamingHttpResponse:
        programme = programme_from_query(request)
        assert programme is not None
        if not programme_access(request, programme).is_member:
            raise exceptions.NotFound(
                _("No programme %(code)s that you may see.") % {"code": programme.code}
            )
        query = self._query(request, programme)
        stamp = export_stamp(programme)
        etag = self._etag(request, stamp)
        if etag in _if_none_match(request):
            response = HttpResponse(status=304)
            response["ETag"] = etag
            return response
        if request.accepted_renderer.format == "csv":
            return self._csv(query, stamp, etag)
        return self._page(request, query, stamp, etag)

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are always JSON bodies, whatever format was asked for.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    def _query(self, request: Request, programme: Any) -> ResultQuery:
        get = request.query_params.get
        since = get("updated_since")
        query = ResultQuery(
            programme=programme,
            city=get("city") or None,
            agency=get("agency") or None,
            outcome=get("outcome") or None,
            output=get("output") or None,
            indicator=get("indicator") or None,
            period=get("period") or None,
            updated_since=_parse_since(since) if since else None,
        )
        try:
            check_codes(query)
        except UnknownCode as exc:
            raise exceptions.ValidationError(
                {
                    exc.field: [
                        _("%(programme)s has no %(field)s with the code %(code)s.")
                        % {"programme": programme.code, "field": exc.field, "code": exc.code}
                    ]
                }
            ) from exc
        return query

    @staticmethod
    def _etag(request: Request, stamp: ExportStamp) -> str:
        basis = "|".join(
            [
                stamp.programme,
                str(stamp.computed_at),
                str(stamp.restatements),
                str(stamp.last_restated_at),
                request.accepted_renderer.format or "",
                request.GET.urlencode(),
            ]
        )
        return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'

    @staticmethod
    def _csv(query: ResultQuery, stamp: ExportStamp, etag: str) -> StreamingHttpResponse:
        response = StreamingHttpResponse(
            stream_csv(query, stamp), content_type="text/csv; charset=utf-8"
        )
        as_of = stamp.as_of_date.isoformat() if stamp.as_of_date else "none"
        response["Content-Disposition"] = (
            f'attachment; filename="{stamp.programme}-results-{as_of}.csv"'
        )
        response["ETag"] = etag
        for name, value in stamp.headers().items():
            response[name] = value
        return response

    def _page(
        self, request: Request, query: ResultQuery, stamp: ExportStamp, etag: str
    ) -> Response:
        size = _positive(
            request, "page_size", StablePagination.page_size, StablePagination.max_page_size
        )
        page = _positive(request, "page", 1, 10**9)
        count = result_count(query)
        last = max(1, -(-count // size))
        if page > last:
            raise exceptions.NotFound(_("There is no page %(page)d.") % {"page": page})
        rows = [row_dict(r) for r in result_rows(query, offset=(page - 1) * size, limit=size)]
        url = request.build_absolute_uri()
        body = {
            "count": count,
            "next": replace_query_param(url, "page", page + 1) if page < last else None,
            "previous": (
                None
                if page == 1
                else remove_query_param(url, "page")
                if page == 2
                else replace_query_param(url, "page", page - 1)
            ),
            "stamp": stamp.as_dict(),
            "columns": list(RESULT_COLUMNS),
            "results": rows,
        }
        response = Response(body)
        response["ETag"] = etag
        return response


def _if_none_match(request: Request) -> set[str]:
    raw = request.headers.get("If-None-Match", "")
    return {part.strip() for part in raw.split(",") if part.strip()}
