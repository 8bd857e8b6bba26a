"""Reads for the quarterly report: the slot (programme × period × agency × city) fetched and
authorised in one call, what the coordinator is asked for, with last quarter's figure and the
target beside each field, and the reporting calendar."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404

from monitoring.models import Activity, Agency, City, Programme, ReportingPeriod
from monitoring.permissions import Viewer
from monitoring.selectors import programme_get_for_user

from ..models import (
    ActivityProgress,
    Deliverable,
    DisaggregationCategory,
    Indicator,
    IndicatorValue,
    ProgressReport,
    Restatement,
    Target,
)
from ..permissions import Access, access_for, can_view_report, period_is_closed

JOINT = "JOINT"


@dataclass
class ReportSlot:
    """One report's place: the report itself when it exists, an unsaved draft otherwise."""

    programme: Programme
    period: ReportingPeriod
    agency: Agency | None  # None: the RCO's joint (consolidated) report for the city
    city: City
    report: ProgressReport
    access: Access
    closed: bool

    @property
    def exists(self) -> bool:
        return self.report.pk is not None

    @property
    def is_joint(self) -> bool:
        return self.agency is None

    @property
    def agency_code(self) -> str:
        """The agency's code in addresses; ``JOINT`` for the RCO's consolidated report."""
        return self.agency.code if self.agency is not None else JOINT


def report_slot_get_for_user(
    *, user: Viewer, programme_code: str, period_code: str, agency_code: str, city_code: str
) -> ReportSlot:
    """The report of this agency and city for this period, if the viewer may see it. Not a
    member, or no such slot: 404. A member without the right to see it: 403."""
    programme = programme_get_for_user(user=user, code=programme_code)
    period = ReportingPeriod.objects.filter(programme=programme, code=period_code).first()
    joint = agency_code == JOINT
    agency = None if joint else programme.agencies.filter(code=agency_code).first()
    city = programme.cities.filter(code=city_code).first()
    if period is None or (agency is None and not joint) or city is None:
        raise Http404
    report = (
        ProgressReport.objects.filter(programme=programme, period=period, agency=agency, city=city)
        .select_related("submitted_by", "approved_by", "validated_by", "updated_by")
        .first()
    ) or ProgressReport(programme=programme, period=period, agency=agency, city=city)
    access = access_for(user, programme)
    if not can_view_report(access, report):
        raise PermissionDenied
    return ReportSlot(
        programme=programme,
        period=period,
        agency=agency,
        city=city,
        report=report,
        access=access,
        closed=period_is_closed(period, programme),
    )


def indicators_in_scope(
    *, programme: Programme, agency: Agency | None, city: City
) -> list[Indicator]:
    """Active indicators this agency answers for in this city (for the joint report: those
    whose agencies' figures the RCO consolidates), with their disaggregation categories (one
    query for the indicators, one for the categories)."""
    scope = (
        Q(agency_rule=Indicator.AgencyRule.CONSOLIDATED)
        if agency is None
        else Q(responsible_agencies=agency)
    )
    return list(
        Indicator.objects.filter(scope, programme=programme, is_active=True, cities=city)
        .exclude(measure=Indicator.Measure.TEXT)
        .select_related("outcome", "output")
        .prefetch_related(
            Prefetch(
                "dimensions__categories",
                queryset=DisaggregationCategory.objects.order_by("order", "code"),
            )
        )
        .order_by("order", "code")
        .distinct()
    )


def values_by_cell(report: ProgressReport | None) -> dict[tuple[int, int | None], IndicatorValue]:
    if report is None or report.pk is None:
        return {}
    return {
        (v.indicator_id, v.category_id): v
        for v in report.values.select_related("indicator").prefetch_related(
            Prefetch("restatements", queryset=Restatement.objects.order_by("restated_at"))
        )
    }


def previous_report(slot: ReportSlot) -> ProgressReport | None:
    """Last quarter's report of the same agency and city, if the viewer may see it (a donor
    reading an approved report is not shown last quarter's unapproved figures)."""
    earlier = (
        ReportingPeriod.objects.filter(
            programme=slot.programme, kind=slot.period.kind, end_date__lt=slot.period.start_date
        )
        .order_by("-end_date")
        .first()
    )
    if earlier is None:
        return None
    report = ProgressReport.objects.filter(
        programme=slot.programme, period=earlier, agency=slot.agency, city=slot.city
    ).first()
    if report is None or not can_view_report(slot.access, report):
        return None
    return report


def targets_for_slot(slot: ReportSlot, indicators: list[Indicator]) -> dict[int, Target]:
    """The target shown beside each indicator: this period's if one is set, else the life of
    the programme; the most specific scope first (city × agency, city, programme)."""
    candidates = Target.objects.filter(indicator__in=indicators, category__isnull=True).filter(
        Q(period__isnull=True) | Q(period=slot.period),
        Q(city=slot.city) | Q(city__isnull=True),
        Q(agency=slot.agency) | Q(agency__isnull=True),
    )

    def rank(t: Target) -> tuple[int, int, int]:
        return (t.period_id is None, t.agency_id is None, t.city_id is None)

    best: dict[int, Target] = {}
    for t in sorted(candidates, key=rank):
        best.setdefault(t.indicator_id, t)
    return best


@dataclass
class CalendarRow:
    period: ReportingPeriod
    agency: Agency | None  # None: the RCO's joint report
    city: City
    report: ProgressReport | None
    closes_on: dt.date
    state: str  # upcoming, due, overdue, draft, returned, submitted, approved, validated

    @property
    def agency_code(self) -> str:
        return self.agency.code if self.agency is not None else JOINT


@dataclass
class Calendar:
    rows: list[CalendarRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for r in self.rows:
            out[r.state] += 1
        return dict(out)


def calendar_for_user(*, user: Viewer, programme: Programme, today: dt.date) -> Calendar:
    """Every agency × city × quarter slot the viewer may see, with its state. A coordinator
    sees their own slots; an approver their agency's; the RCO and admins all of them."""
    access = access_for(user, programme)
    if not access.is_member or access.only_approved:
        raise PermissionDenied
    agencies = list(programme.agencies.order_by("code"))
    cities = list(programme.cities.order_by("code"))
    periods = list(
        programme.periods.filter(kind=ReportingPeriod.Kind.QUARTER).order_by("start_date")
    )
    reports = {
        (r.period_id, r.agency_id, r.city_id): r
        for r in ProgressReport.objects.filter(programme=programme, city__isnull=False)
    }
    wide = access.superuser or access.is_rco or access.is_admin
    # The RCO's joint (consolidated) report per city comes after the agencies'.
    slot_agencies: list[Agency | None] = [*agencies, None] if wide else list(agencies)
    calendar = Calendar()
    for period in periods:
        closes_on = period.due_date + dt.timedelta(days=programme.grace_days)
        for agency in slot_agencies:
            for city in cities:
                if agency is not None and not (
                    wide
                    or agency.pk in access.approves
                    or access.coordinates_slot(agency.pk, city.pk)
                ):
                    continue
                report = reports.get((period.pk, agency.pk if agency else None, city.pk))
                if report is not None and not can_view_report(access, report):
                    report = None  # another agency's draft: shown as not submitted
                calendar.rows.append(
                    CalendarRow(
                        period, agency, city, report, closes_on, _state(report, period, today)
                    )
                )
    return calendar


def _state(report: ProgressReport | None, period: ReportingPeriod, today: dt.date) -> str:
    status = report.status if report is not None else None
    if status in (None, ProgressReport.Status.DRAFT, ProgressReport.Status.RETURNED):
        if today > period.due_date:
            return "overdue"
        if today >= period.end_date:
            return "due"
        return status or "upcoming"
    return str(status)


def last_quarter_value(
    previous: dict[tuple[int, int | None], IndicatorValue], indicator_id: int
) -> Decimal | None:
    v = previous.get((indicator_id, None))
    return v.value if v is not None else None


def activities_in_scope(
    *, programme: Programme, agency: Agency | None, city: City
) -> list[Activity]:
    """Activities this agency leads or takes part in, in this city, or country-wide in its
    country, or binational (none for the joint report: activities are the agencies')."""
    if agency is None:
        return []
    where = (
        Q(city=city)
        | Q(city__isnull=True, country=city.country_id)
        | Q(city__isnull=True, country__isnull=True)
    )
    return list(
        Activity.objects.filter(programme=programme)
        .filter(Q(lead_agency=agency) | Q(participating_agencies=agency))
        .filter(where)
        .select_related("output")
        .order_by("output__order", "output__code", "order", "code")
        .distinct()
    )


def activity_progress_by_activity(report: ProgressReport | None) -> dict[int, ActivityProgress]:
    if report is None or report.pk is None:
        return {}
    return {p.activity_id: p for p in report.activity_progress.all()}


def deliverables_of(report: ProgressReport) -> list[Deliverable]:
    if report.pk is None:
        return []
    return list(report.deliverables.select_related("activity").order_by("date", "id"))
