"""Who owes which quarterly report, and in what state each one is."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring.models import Agency, City, Programme, ReportingPeriod

from ..models import Indicator, ProgressReport
from .lookups import ProgrammeLookups

Status = ProgressReport.Status


def expected_reporters(programme: Programme) -> set[tuple[int, int]]:
    """(agency id, city id) pairs that owe a quarterly report: an agency responsible for an
    indicator in use in that city."""
    pairs = Indicator.objects.filter(programme=programme, is_active=True).values_list(
        "responsible_agencies", "cities"
    )
    return {(a, c) for a, c in pairs if a is not None and c is not None}


def report_state(report: ProgressReport | None, period: ReportingPeriod, today: dt.date) -> str:
    if report is not None and report.submitted_at is not None:
        late = timezone.localdate(report.submitted_at) > period.due_date
    else:
        late = False
    if report is not None and report.status in ProgressReport.APPROVED_STATUSES:
        return "late" if late else "approved"
    if report is not None and report.status == Status.SUBMITTED:
        return "late" if late else "submitted"
    if period.due_date >= today:
        return "draft" if report is not None else "not_due"
    return "missing"


@dataclass
class ComplianceGrid:
    reporters: list[tuple[Agency, City]]
    periods: list[ReportingPeriod]
    cells: dict[tuple[str, str], str] = field(default_factory=dict)
    due: dict[str, dt.date] = field(default_factory=dict)

    @property
    def reporter_labels(self) -> list[str]:
        return [f"{a.acronym} · {c.name}" for a, c in self.reporters]

    @property
    def period_labels(self) -> list[str]:
        return [p.name for p in self.periods]

    @staticmethod
    def state_labels() -> dict[str, str]:
        return {
            "approved": _("approved"),
            "submitted": _("submitted, awaiting approval"),
            "late": _("submitted late"),
            "draft": _("in preparation"),
            "missing": _("missing"),
            "not_due": _("not due yet"),
        }

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "reporter": r,
                "period": p,
                "state": self.cells.get((r, p), "not_due"),
                "due": self.due.get(p),
            }
            for r in self.reporter_labels
            for p in self.period_labels
        ]

    def summary(self) -> dict[str, int]:
        counts = {k: 0 for k in self.state_labels()}
        for state in self.cells.values():
            counts[state] += 1
        counts["due"] = sum(v for k, v in counts.items() if k not in ("not_due", "draft"))
        counts["on_time"] = counts["approved"] + counts["submitted"]
        return counts


def compliance_grid(
    programme: Programme,
    *,
    city: City | None = None,
    agency: Agency | None = None,
    lookups: ProgrammeLookups | None = None,
) -> ComplianceGrid:
    today = timezone.localdate()
    lookups = lookups or ProgrammeLookups(programme)
    pairs = expected_reporters(programme)
    agencies = {a.pk: a for a in lookups.agencies}
    cities = {c.pk: c for c in lookups.cities}
    reporters = sorted(
        (
            (agencies[a], cities[c])
            for a, c in pairs
            if a in agencies
            and c in cities
            and (city is None or c == city.pk)
            and (agency is None or a == agency.pk)
        ),
        key=lambda ac: (ac[0].code, ac[1].code),
    )
    periods = sorted(
        (
            p
            for p in lookups.periods
            if p.kind == ReportingPeriod.Kind.QUARTER
            and p.end_date >= programme.start_date
            and p.start_date <= programme.end_date
        ),
        key=lambda p: p.start_date,
    )
    reports = {
        (r.agency_id, r.city_id, r.period_id): r
        for r in ProgressReport.objects.filter(
            programme=programme, agency__isnull=False, period__in=periods
        )
    }
    grid = ComplianceGrid(reporters=reporters, periods=periods)
    for a, c in reporters:
        label = f"{a.acronym} · {c.name}"
        for p in periods:
            grid.cells[(label, p.name)] = report_state(reports.get((a.pk, c.pk, p.pk)), p, today)
            grid.due[p.name] = p.due_date
    return grid
