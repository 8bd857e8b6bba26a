"""Progress reports, their values and the workflow over the API (DESIGN §3.3, §8).

Reads list only what the requester may see: the SQL condition of ``report_visibility`` says
in a query what ``indicators.permissions.can_view_report`` says of one report (a test holds
them equal), so donors see approved and validated reports only, and drafts never leave their
agency. Writes do what the report pages do: authorise with the same predicates, validate,
call one service (``indicators.services``), which locks the report, refuses a stale version
(409 here) and writes all or nothing."""

import copy
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.contrib.auth.models import User
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.api.access import programme_access, programme_from_query, visible_programmes
from monitoring.models import Agency, City, Membership, Outcome, Output, Programme, ReportingPeriod

from .. import services
from ..models import DisaggregationCategory, Indicator, IndicatorValue, ProgressReport
from ..permissions import (
    EDITABLE,
    Access,
    can_approve_report,
    can_edit_report,
    can_restate_report,
    can_return_report,
    can_submit_report,
    can_validate_report,
    can_view_report,
    period_is_closed,
)
from ..selectors.reports import (
    JOINT,
    activities_in_scope,
    activity_progress_by_activity,
    indicators_in_scope,
    values_by_cell,
)
from ..services import ActivityEntry
from .serializers import (
    ALL,
    TOTAL,
    ApiErrorSerializer,
    OpenReportInput,
    ReportDetailSerializer,
    ReportSerializer,
    RequiredVersionInput,
    RestateInput,
    ReturnInput,
    SaveValuesInput,
    ValueSerializer,
    VersionInput,
    activity_entries,
    restate_entry,
    validated,
    value_entries,
)

Status = ProgressReport.Status
Role = Membership.Role


# ---- who sees what ----------------------------------------------------------------------


def report_visibility(access: Access, prefix: str = "") -> Q:
    """``can_view_report`` as a condition on reports (``prefix``: the path to the report,
    e.g. ``report__`` for values). Keep the two in step."""
    if access.superuser:
        return Q()
    if not access.is_member:
        return Q(pk__in=[])

    def on(**lookups: Any) -> Q:
        return Q(**{f"{prefix}{k}": v for k, v in lookups.items()})

    nothing = Q(pk__in=[])
    approved = on(status__in=ProgressReport.APPROVED_STATUSES)
    if access.is_rco:  # the joint report: the RCO's, and the admins' once submitted
        joint = on(agency__isnull=True)
    elif access.is_admin:
        joint = on(agency__isnull=True, status=Status.SUBMITTED)
    else:
        joint = nothing
    coordinated = {agency for agency, _city in access.coordinates}
    own = {a for a in access.approves | coordinated if a is not None}
    agencies = on(agency__in=sorted(own)) if own else nothing
    if access.is_rco or Role.ADMIN in access.roles:
        agencies |= on(agency__isnull=False, status=Status.SUBMITTED)
    return approved | joint | agencies


def visible_reports(request: Request, prefix: str = "") -> Q:
    """The reports (or, with ``prefix``, the rows about reports) the requester may see, in the
    programmes the request may see (a token's programme only)."""
    where = Q(pk__in=[])
    for programme in visible_programmes(request):
        access = programme_access(request, programme)
        where |= Q(**{f"{prefix}programme": programme}) & report_visibility(access, prefix)
    return where


REPORT_RELATED = (
    "programme", "period", "agency", "city", "submitted_by", "approved_by", "validated_by",
)  # fmt: skip


def report_detail_queryset() -> QuerySet[ProgressReport]:
    return ProgressReport.objects.select_related(*REPORT_RELATED).prefetch_related(
        Prefetch("values", queryset=_ordered_values(IndicatorValue.objects.all())),
        "activity_progress__activity",
    )


def _ordered_values(qs: QuerySet[IndicatorValue]) -> QuerySet[IndicatorValue]:
    """Framework order, the total before its cells, ending in the id."""
    return qs.select_related("indicator", "category__dimension").order_by(
        "report_id",
        "indicator__order",
        "indicator__code",
        F("category__dimension__order").asc(nulls_first=True),
        F("category__order").asc(nulls_first=True),
        "category_id",
        "id",
    )


def detail_response(report_id: int, code: int = status.HTTP_200_OK) -> Response:
    report = report_detail_queryset().get(pk=report_id)
    return Response(ReportDetailSerializer(report).data, status=code)


# ---- filters ----------------------------------------------------------------------------


class SinceField(IsoDateTimeField):
    """An ISO 8601 date-time, passed on in UTC: PostgreSQL refuses offsets past ±15:59 (which
    Python accepts), and year 1 at +14:00 has no UTC time at all."""

    def clean(self, value: Any) -> dt.datetime | None:
        cleaned = super().clean(value)
        if cleaned is None:
            return None
        try:
            return cleaned.astimezone(dt.UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError(_("Enter a valid date/time."), code="invalid") from exc


class SinceFilter(django_filters.IsoDateTimeFilter):
    field_class = SinceField


class StrictBooleanField(forms.Field):
    """true or false (1 or 0); any other word is an error rather than no filter at all."""

    WORDS = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        try:
            return self.WORDS[str(value).lower()]
        except KeyError:
            raise forms.ValidationError(_("Enter true or false."), code="invalid") from None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class CodeFilterSet(django_filters.FilterSet):
    """Filters by code, checked against the programmes the request may see: an unknown code is
    a 400 naming the filter, not an empty page. ``path`` leads from the rows to the report's
    (or rollup's) programme, city, agency and period."""

    path = ""
    agency_total = JOINT

    programme = django_filters.CharFilter(
        method="filter_programme",
        help_text=gettext_lazy("A programme's code (default: the token's programme)."),
    )
    city = django_filters.CharFilter(
        method="filter_city", help_text=gettext_lazy("A city's code, or ALL.")
    )
    period = django_filters.CharFilter(
        method="filter_period", help_text=gettext_lazy("A reporting period's code.")
    )

    @cached_property
    def programmes(self) -> list[Programme]:
        programme = programme_from_query(self.request, required=False)
        return [programme] if programme else list(visible_programmes(self.request))

    def known(self, field: str, qs: QuerySet[Any], code: str) -> None:
        if not qs.filter(code=code).exists():
            raise exceptions.ValidationError(
                {
                    field: [
                        _("No %(field)s with the code %(code)s.") % {"field": field, "code": code}
                    ]
                }
            )

    def on(self, qs: QuerySet[Any], **lookups: Any) -> QuerySet[Any]:
        return qs.filter(**{f"{self.path}{k}": v for k, v in lookups.items()})

    def filter_programme(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return self.on(qs, programme__in=self.programmes)

    def filter_city(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == ALL:
            return self.on(qs, city__isnull=True)
        self.known("city", City.objects.filter(programmes__in=self.programmes), value)
        return self.on(qs, city__code=value)

    def filter_agency(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == self.agency_total:
            return self.on(qs, agency__isnull=True)
        self.known("agency", Agency.objects.filter(programmes__in=self.programmes), value)
        return self.on(qs, agency__code=value)

    def filter_period(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        self.known("period", ReportingPeriod.objects.filter(programme__in=self.programmes), value)
        return self.on(qs, period__code=value, programme__in=self.programmes)

    def filter_indicator(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        self.known("indicator", Indicator.objects.filter(programme__in=self.programmes), value)
        return qs.filter(indicator__code=value, indicator__programme__in=self.programmes)

    def filter_outcome(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        self.known("outcome", Outcome.objects.filter(programme__in=self.programmes), value)
        return qs.filter(indicator__outcome__code=value)

    def filter_output(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        self.known("output", Output.objects.filter(programme__in=self.programmes), value)
        return qs.filter(indicator__output__code=value)

    def filter_cell(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == TOTAL:
            return qs.filter(category__isnull=True)
        dimension, sep, category = value.partition("=")
        if (
            not sep
            or not DisaggregationCategory.objects.filter(
                dimension__code=dimension, code=category
            ).exists()
        ):
            raise exceptions.ValidationError(
                {"cell": [_("Give 'total' or a cell as 'dimension=category', e.g. 'sex=female'.")]}
            )
        return qs.filter(category__dimension__code=dimension, category__code=category)


class ReportFilter(CodeFilterSet):
    agency = django_filters.CharFilter(
        method="filter_agency", help_text=gettext_lazy("An agency's code, or JOINT.")
    )
    status = django_filters.ChoiceFilter(choices=Status.choices)
    updated_since = SinceFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=gettext_lazy("Reports changed at or after this time (ISO 8601)."),
    )

    class Meta:
        model = ProgressReport
        fields: list[str] = []


class ValueFilter(CodeFilterSet):
    path = "report__"

    report = IdFilter(field_name="report_id", help_text=gettext_lazy("A report's id."))
    agency = django_filters.CharFilter(
        method="filter_agency", help_text=gettext_lazy("An agency's code, or JOINT.")
    )
    indicator = django_filters.CharFilter(
        method="filter_indicator", help_text=gettext_lazy("An indicator's code.")
    )
    cell = django_filters.CharFilter(
        method="filter_cell", help_text=gettext_lazy("'total' or 'dimension=category'.")
    )
    status = django_filters.ChoiceFilter(
        field_name="report__status",
        choices=Status.choices,
        help_text=gettext_lazy("The report's status."),
    )
    updated_since = SinceFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=gettext_lazy("Values changed at or after this time (ISO 8601)."),
    )

    class Meta:
        model = IndicatorValue
        fields: list[str] = []


# ---- responses in the schema ------------------------------------------------------------


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ApiErrorSerializer, description=description)


READ_ERRORS = {
    400: _error("A filter is not valid (the error names it)."),
    401: _error("Not signed in, or the token is not valid, revoked or expired."),
    403: _error("Not allowed."),
    404: _error("No such programme or report that you may see."),
    429: _error("Too many requests for this token; Retry-After says when to try again."),
}
WRITE_ERRORS = {
    **READ_ERRORS,
    400: _error("Invalid input; 'errors' names each field, e.g. 'values[2].value'."),
    403: _error("Not allowed: a read-only token, or not your role or the report's state."),
    409: _error("Somebody changed the report since the version you sent; nothing was done."),
}


# ---- reads ------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        summary="Progress reports you may see",
        description=(
            "Donors see approved and validated reports only; drafts and returned reports are "
            "seen by their own agency only."
        ),
        responses={200: ReportSerializer(many=True), **READ_ERRORS},
    ),
    post=extend_schema(
        summary="Open a report (create its draft when it does not exist yet)",
        request=OpenReportInput,
        responses={
            200: OpenApiResponse(ReportDetailSerializer, description="It existed already."),
            201: OpenApiResponse(ReportDetailSerializer, description="A new draft."),
            **WRITE_ERRORS,
        },
    ),
)
class ReportList(generics.ListAPIView):
    parser_classes = [JSONParser]
    serializer_class = ReportSerializer
    filterset_class = ReportFilter

    def get_queryset(self) -> QuerySet[ProgressReport]:
        return (
            ProgressReport.objects.filter(visible_reports(self.request))
            .select_related(*REPORT_RELATED)
            .order_by(
                "programme__code",
                "period__start_date",
                "period__code",
                F("agency__code").asc(nulls_last=True),
                F("city__code").asc(nulls_first=True),
                "id",
            )
        )

    def post(self, request: Request) -> Response:
        data = validated(OpenReportInput, request.data)
        programme, period, agency, city = _slot_from(request, data)
        access = programme_access(request, programme)
        existing = ProgressReport.objects.filter(
            programme=programme, period=period, agency=agency, city=city
        ).first()
        if existing is not None:
            if not can_view_report(access, existing):
                raise exceptions.PermissionDenied(edit_refusal(access, existing, closed=False))
            return detail_response(existing.pk)
        draft = ProgressReport(programme=programme, period=period, agency=agency, city=city)
        closed = period_is_closed(period, programme)
        if not can_edit_report(access, draft, closed=closed):
            raise exceptions.PermissionDenied(edit_refusal(access, draft, closed=closed))
        try:
            report = services.report_save(
                programme=programme,
                period=period,
                agency=agency,
                city=city,
                expected_version=0,
                entries=[],
                narrative_es="",
                narrative_en="",
                actor=signed_in(request),
            )
        except services.StaleReport as race:  # opened by somebody else at the same moment
            return detail_response(race.current.pk)
        return detail_response(report.pk, status.HTTP_201_CREATED)


def _slot_from(
    request: Request, data: dict[str, Any]
) -> tuple[Programme, ReportingPeriod, Agency | None, City]:
    programme = visible_programmes(request).filter(code=data["programme"]).first()
    if programme is None:  # a refusal, as for any other address of a programme not one's own
        raise Http404(_("No programme %(code)s that you may see.") % {"code": data["programme"]})
    period = programme.periods.filter(code=data["period"]).first()
    joint = data["agency"] == JOINT
    agency = None if joint else programme.agencies.filter(code=data["agency"]).first()
    city = programme.cities.filter(code=data["city"]).first()
    errors = {}
    if period is None:
        errors["period"] = [_("No period %(code)s in the programme.") % {"code": data["period"]}]
    if agency is None and not joint:
        errors["agency"] = [_("No agency %(code)s in the programme.") % {"code": data["agency"]}]
    if city is None:
        errors["city"] = [_("No city %(code)s in the programme.") % {"code": data["city"]}]
    if errors:
        raise exceptions.ValidationError(errors)
    assert period is not None and city is not None
    return programme, period, agency, city


@extend_schema_view(
    get=extend_schema(
        summary="One progress report, with its values and activities",
        responses={200: ReportDetailSerializer, **READ_ERRORS},
    )
)
class ReportDetail(generics.RetrieveAPIView):
    serializer_class = ReportDetailSerializer

    def get_queryset(self) -> QuerySet[ProgressReport]:
        return report_detail_queryset().filter(visible_reports(self.request))

    def get_object(self) -> ProgressReport:
        report = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if report is None:
            raise Http404(_("No report %(id)s that you may see.") % {"id": self.kwargs["pk"]})
        return report


@extend_schema_view(
    get=extend_schema(
        summary="Values you may see, in every report",
        responses={200: ValueSerializer(many=True), **READ_ERRORS},
    )
)
class ValueList(generics.ListAPIView):
    serializer_class = ValueSerializer
    filterset_class = ValueFilter

    def get_queryset(self) -> QuerySet[IndicatorValue]:
        return _ordered_values(
            IndicatorValue.objects.filter(visible_reports(self.request, "report__"))
        )


# ---- writes -----------------------------------------------------------------------------


def signed_in(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


@dataclass
class Slot:
    """A report the requester may see, with their access to its programme."""

    report: ProgressReport
    access: Access

    @cached_property
    def closed(self) -> bool:
        return period_is_closed(self.report.period, self.report.programme)


def report_for_request(request: Request, pk: int) -> Slot:
    """The report, if the requester may see it (404 otherwise, as for a report that does not
    exist), with their access to its programme."""
    report = (
        ProgressReport.objects.filter(visible_reports(request), pk=pk)
        .select_related("programme", "period", "agency", "city")
        .first()
    )
    if report is None:
        raise Http404(_("No report %(id)s that you may see.") % {"id": pk})
    return Slot(report, programme_access(request, report.programme))


class ReportChanged(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "stale"


@contextmanager
def stale_as_conflict(sent: int | None) -> Iterator[None]:
    """A stale version is a 409 that says what to do."""
    try:
        yield
    except services.StaleReport as error:
        raise ReportChanged(
            _(
                "The report changed since you loaded it (you sent version %(sent)s; it is now "
                "at version %(version)s). Load it again and repeat your change."
            )
            % {"sent": sent if sent is not None else "—", "version": error.current.version}
        ) from None


# Why a predicate said no, most useful reason first: the role, then the report's state, then
# the rest. The predicates decide; these only explain (each asks the predicate again about the
# report as if it were in the state the action needs).
ROLE_REFUSALS = {
    "edit": (
        gettext_lazy("Only the coordinator of %(agency)s in %(city)s enters this report."),
        gettext_lazy("Only the RCO enters the joint report."),
    ),
    "return": (
        gettext_lazy("Only an approver of %(agency)s returns its reports."),
        gettext_lazy("Only the RCO or the programme admin returns the joint report."),
    ),
    "approve": (
        gettext_lazy("Only an approver of %(agency)s approves its reports."),
        gettext_lazy("Only the RCO or the programme admin approves the joint report."),
    ),
    "restate": (
        gettext_lazy("Only an approver of %(agency)s restates its reports' figures."),
        gettext_lazy("Only the RCO or the programme admin restates the joint report's figures."),
    ),
}


def _as_if(report: ProgressReport, **state: Any) -> ProgressReport:
    clone = copy.copy(report)
    for field, value in state.items():
        setattr(clone, field, value)
    return clone


def _role_refusal(action: str, report: ProgressReport) -> str:
    agency_message, joint_message = ROLE_REFUSALS[action]
    if report.agency_id is None:
        return str(joint_message)
    return str(agency_message) % {
        "agency": report.agency.code if report.agency else "",
        "city": report.city.code if report.city else ALL,
    }


def edit_refusal(access: Access, report: ProgressReport, *, closed: bool) -> str:
    if not can_edit_report(access, _as_if(report, status=Status.DRAFT), closed=False):
        return _role_refusal("edit", report)
    if report.status not in EDITABLE:
        return _("This report is %(status)s and can no longer be edited.") % {
            "status": report.get_status_display()
        }
    return _("The period %(period)s is closed; its reports can no longer be edited.") % {
        "period": report.period.code
    }


def return_refusal(access: Access, report: ProgressReport, *, closed: bool) -> str:
    if not can_return_report(access, _as_if(report, status=Status.SUBMITTED), closed=False):
        return _role_refusal("return", report)
    if report.status != Status.SUBMITTED:
        return _("This report is %(status)s; only a submitted report can be returned.") % {
            "status": report.get_status_display()
        }
    return _(
        "The period %(period)s is closed; a correction is now a restatement of the approved figure."
    ) % {"period": report.period.code}


def approve_refusal(access: Access, report: ProgressReport) -> str:
    if not can_approve_report(
        access, _as_if(report, status=Status.SUBMITTED, submitted_by_id=None)
    ):
        return _role_refusal("approve", report)
    if report.status != Status.SUBMITTED:
        return _("This report is %(status)s; only a submitted report can be approved.") % {
            "status": report.get_status_display()
        }
    return _("You submitted this report; somebody else must approve it.")


def validate_refusal(access: Access, report: ProgressReport) -> str:
    if report.agency_id is None:
        return _("A joint report is final once approved; it is not validated.")
    if not can_validate_report(access, _as_if(report, status=Status.APPROVED, approved_by_id=None)):
        return _("Only the RCO validates reports.")
    if report.status != Status.APPROVED:
        return _("This report is %(status)s; only an approved report can be validated.") % {
            "status": report.get_status_display()
        }
    return _("You approved this report; somebody else must validate it.")


def restate_refusal(access: Access, report: ProgressReport) -> str:
    if not can_restate_report(access, _as_if(report, status=Status.APPROVED)):
        return _role_refusal("restate", report)
    return _(
        "This report is %(status)s; only the figures of an approved or validated report are "
        "restated (edit a draft or a returned report instead)."
    ) % {"status": report.get_status_display()}


@extend_schema_view(
    get=extend_schema(
        summary="The values of one report",
        responses={200: ValueSerializer(many=True), **READ_ERRORS},
    ),
    put=extend_schema(
        summary="Replace the report's figures",
        description=(
            "The report's figures and activities become exactly what is sent: cells and "
            "activities not listed are cleared, fields left out of an item are empty, and so "
            "are narratives left out. Draft or returned reports, by their coordinator, while "
            "the period is open. All or nothing."
        ),
        request=SaveValuesInput,
        responses={200: ReportDetailSerializer, **WRITE_ERRORS},
    ),
    patch=extend_schema(
        summary="Change some of the report's figures",
        description=(
            "Only what is sent changes: the listed cells and activities (in an item, fields "
            "left out keep their saved value; a null value clears the cell) and the narratives "
            "that are sent. Draft or returned reports, by their coordinator, while the period "
            "is open. All or nothing."
        ),
        request=SaveValuesInput,
        responses={200: ReportDetailSerializer, **WRITE_ERRORS},
    ),
)
class ReportValues(generics.ListAPIView):
    parser_classes = [JSONParser]
    serializer_class = ValueSerializer

    def get_queryset(self) -> QuerySet[IndicatorValue]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator's visit
            return IndicatorValue.objects.none()
        slot = report_for_request(self.request, self.kwargs["pk"])
        return _ordered_values(IndicatorValue.objects.filter(report=slot.report))

    def put(self, request: Request, pk: int) -> Response:
        return self.save(request, pk, replace=True)

    def patch(self, request: Request, pk: int) -> Response:
        return self.save(request, pk, replace=False)

    def save(self, request: Request, pk: int, *, replace: bool) -> Response:
        slot = report_for_request(request, pk)
        report = slot.report
        if not can_edit_report(slot.access, report, closed=slot.closed):
            raise exceptions.PermissionDenied(edit_refusal(slot.access, report, closed=slot.closed))
        data = validated(SaveValuesInput, request.data)
        assert report.city is not None  # an editable report is one city's
        indicators = indicators_in_scope(
            programme=report.programme, agency=report.agency, city=report.city
        )
        errors: dict[str, list[str]] = {}
        entries = value_entries(
            report,
            data.get("values", []),
            indicators=indicators,
            saved=values_by_cell(report),
            replace=replace,
            errors=errors,
        )
        activities = None
        if replace or "activities" in data:
            activities = activity_entries(
                data.get("activities", []),
                activities=activities_in_scope(
                    programme=report.programme, agency=report.agency, city=report.city
                ),
                saved=activity_progress_by_activity(report),
                replace=replace,
                errors=errors,
            )
        if errors:
            raise exceptions.ValidationError(errors)
        with stale_as_conflict(data["version"]):
            services.report_save(
                programme=report.programme,
                period=report.period,
                agency=report.agency,
                city=report.city,
                expected_version=data["version"],
                entries=entries,
                activities=activities,
                narrative_es=_narrative(data, report, "es", replace),
                narrative_en=_narrative(data, report, "en", replace),
                actor=signed_in(request),
            )
        return detail_response(report.pk)


def _narrative(data: dict[str, Any], report: ProgressReport, lang: str, replace: bool) -> str:
    """The narrative sent; when none is sent, empty (PUT) or as saved (PATCH)."""
    saved = "" if replace else getattr(report, f"narrative_{lang}")
    return str(data.get(f"narrative_{lang}", saved))


# ---- workflow actions -------------------------------------------------------------------


class ReportAction(APIView):
    """POST /reports/{id}/<action>/: authorise with the page's predicate (403 with the reason),
    validate the input (400), call the service (409 when the version is stale); the answer is
    the report as it is now."""

    parser_classes = [JSONParser]
    input_class: type[serializers.Serializer] = VersionInput

    def allowed(self, slot: Slot) -> bool:
        raise NotImplementedError

    def refusal(self, slot: Slot) -> str:
        raise NotImplementedError

    def perform(self, slot: Slot, data: dict[str, Any], actor: User) -> None:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        slot = report_for_request(request, pk)
        if not self.allowed(slot):
            raise exceptions.PermissionDenied(self.refusal(slot))
        data = validated(self.input_class, request.data)
        with stale_as_conflict(data.get("version")):
            self.perform(slot, data, signed_in(request))
        return detail_response(slot.report.pk)


def _action_schema(summary: str, description: str, request: Any) -> Any:
    return extend_schema_view(
        post=extend_schema(
            summary=summary,
            description=description,
            request=request,
            responses={200: ReportDetailSerializer, **WRITE_ERRORS},
        )
    )


@_action_schema(
    "Submit the report for approval",
    "The report's coordinator, while it is a draft or returned and its period is open. Every "
    "indicator needs its total and every activity its status.",
    RequiredVersionInput,
)
class SubmitReport(ReportAction):
    input_class = RequiredVersionInput

    def allowed(self, slot: Slot) -> bool:
        return can_submit_report(slot.access, slot.report, closed=slot.closed)

    def refusal(self, slot: Slot) -> str:
        return edit_refusal(slot.access, slot.report, closed=slot.closed)

    def perform(self, slot: Slot, data: dict[str, Any], actor: User) -> None:
        report = slot.report
        programme, agency, city = report.programme, report.agency, report.city
        assert city is not None  # an editable report is one city's
        saved = activity_progress_by_activity(report)
        activities = [
            ActivityEntry(a, p.status, p.progress, p.comment)
            if (p := saved.get(a.pk)) is not None
            else ActivityEntry(a)
            for a in activities_in_scope(programme=programme, agency=agency, city=city)
        ]
        services.report_save(
            programme=programme,
            period=report.period,
            agency=agency,
            city=city,
            expected_version=data["version"],
            entries=[],
            activities=activities,
            narrative_es=report.narrative_es,
            narrative_en=report.narrative_en,
            actor=actor,
            submit=True,
            in_scope=indicators_in_scope(programme=programme, agency=agency, city=city),
        )


@_action_schema(
    "Return the report to its coordinator, with the reason",
    "An approver of the report's agency, while it is submitted and its period is open.",
    ReturnInput,
)
class ReturnReport(ReportAction):
    input_class = ReturnInput

    def allowed(self, slot: Slot) -> bool:
        return can_return_report(slot.access, slot.report, closed=slot.closed)

    def refusal(self, slot: Slot) -> str:
        return return_refusal(slot.access, slot.report, closed=slot.closed)

    def perform(self, slot: Slot, data: dict[str, Any], actor: User) -> None:
        services.report_return(
            report=slot.report,
            reason=data["reason"],
            actor=actor,
            expected_version=data.get("version"),
        )


@_action_schema(
    "Approve the report",
    "An approver of the report's agency who did not submit it, while it is submitted. Its "
    "figures then count in rollups, dashboards and exports.",
    VersionInput,
)
class ApproveReport(ReportAction):
    def allowed(self, slot: Slot) -> bool:
        return can_approve_report(slot.access, slot.report)

    def refusal(self, slot: Slot) -> str:
        return approve_refusal(slot.access, slot.report)

    def perform(self, slot: Slot, data: dict[str, Any], actor: User) -> None:
        services.report_approve(
            report=slot.report, actor=actor, expected_version=data.get("version")
        )


@_action_schema(
    "Validate the approved report (the RCO's second tier)",
    "An RCO member who did not approve it, while it is approved.",
    VersionInput,
)
class ValidateReport(ReportAction):
    def allowed(self, slot: Slot) -> bool:
        return can_validate_report(slot.access, slot.report)

    def refusal(self, slot: Slot) -> str:
        return validate_refusal(slot.access, slot.report)

    def perform(self, slot: Slot, data: dict[str, Any], actor: User) -> None:
        services.report_validate(
            report=slot.report, actor=actor, expected_version=data.get("version")
        )


@_action_schema(
    "Restate an approved figure, with the reason",
    "An approver of the report's agency, while it is approved or validated. Name the figure "
    "by its value_id, or by indicator and cell. The figure before and after and the reason "
    "are kept; a validated report goes back to approved.",
    RestateInput,
)
class RestateValue(ReportAction):
    input_class = RestateInput

    def allowed(self, slot: Slot) -> bool:
        return can_restate_report(slot.access, slot.report)

    def refusal(self, slot: Slot) -> str:
        return restate_refusal(slot.access, slot.report)

    def perform(self, slot: Slot, data: dict[str, Any], actor: User) -> None:
        report = slot.report
        saved = values_by_cell(report)
        if report.city is not None:
            indicators = indicators_in_scope(
                programme=report.programme, agency=report.agency, city=report.city
            )
        else:  # a historical report of the whole programme: the figures it holds
            indicators = list({v.indicator_id: v.indicator for v in saved.values()}.values())
        services.value_restate(
            report=report,
            entry=restate_entry(data, indicators=indicators, saved=saved),
            reason=data["reason"],
            actor=actor,
            expected_version=data["version"],
        )
