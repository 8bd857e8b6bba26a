"""Reads for the budget entry pages (lines, a line, an expenditure, a revision, the upload),
scoped to the viewer. Each ``*_get_for_user`` fetches one object and authorises in one call:
404 outside the programme (or for an object that is not in it), 403 for a member without the
right. The querysets mirror the predicates of ``budgets.permissions`` so that a list never
shows what the object's own page would refuse."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy

from indicators.permissions import Access, access_for
from monitoring.models import AuditEvent, Programme, ReportingPeriod
from monitoring.permissions import Viewer
from monitoring.selectors import programme_get_for_user

from .figures import line_spend
from .models import BudgetLine, BudgetRevision, Expenditure
from .permissions import can_enter_expenditure, can_view_expenditure, can_view_revision, sees_budget

Status = Expenditure.Status
EXPENDITURE_RELATED = (
    "line__programme", "line__agency", "line__country", "period",
    "entered_by", "submitted_by", "approved_by",
)  # fmt: skip


@dataclass
class BudgetAccess:
    """A viewer in a programme's budget: their roles and where the programme's cities are."""

    programme: Programme
    access: Access
    city_countries: dict[int, int]  # city id → country id


@dataclass
class LineSlot(BudgetAccess):
    line: BudgetLine


@dataclass
class ExpenditureSlot(BudgetAccess):
    expenditure: Expenditure


@dataclass
class RevisionSlot(BudgetAccess):
    revision: BudgetRevision


def budget_access_for_user(*, user: Viewer, programme_code: str) -> BudgetAccess:
    programme = programme_get_for_user(user=user, code=programme_code)
    access = access_for(user, programme)
    if not sees_budget(access):
        raise PermissionDenied
    countries = dict(programme.cities.values_list("pk", "country_id"))
    return BudgetAccess(programme, access, countries)


def line_get_for_user(*, user: Viewer, programme_code: str, line_id: int) -> LineSlot:
    """A budget line (not a category split: nothing is entered on those) of the programme."""
    base = budget_access_for_user(user=user, programme_code=programme_code)
    line = (
        BudgetLine.objects.filter(pk=line_id, programme=base.programme, view=BudgetLine.View.LINE)
        .select_related("programme", "agency", "country")
        .first()
    )
    if line is None:
        raise Http404
    return LineSlot(base.programme, base.access, base.city_countries, line)


def expenditure_get_for_user(
    *, user: Viewer, programme_code: str, expenditure_id: int
) -> ExpenditureSlot:
    base = budget_access_for_user(user=user, programme_code=programme_code)
    expenditure = (
        Expenditure.objects.filter(pk=expenditure_id, line__programme=base.programme)
        .select_related(*EXPENDITURE_RELATED)
        .first()
    )
    if expenditure is None:
        raise Http404
    if not can_view_expenditure(base.access, expenditure):
        raise PermissionDenied
    return ExpenditureSlot(base.programme, base.access, base.city_countries, expenditure)


def revision_get_for_user(*, user: Viewer, programme_code: str, revision_id: int) -> RevisionSlot:
    base = budget_access_for_user(user=user, programme_code=programme_code)
    revision = (
        BudgetRevision.objects.filter(pk=revision_id, line__programme=base.programme)
        .select_related("line__programme", "line__agency", "line__country")
        .first()
    )
    if revision is None:
        raise Http404
    if not can_view_revision(base.access, revision):
        raise PermissionDenied
    return RevisionSlot(base.programme, base.access, base.city_countries, revision)


def _own_agencies(access: Access) -> set[int]:
    return set(access.approves) | {agency for agency, _city in access.coordinates}


def visible_expenditures(access: Access) -> Q:
    """``can_view_expenditure`` as a filter."""
    if access.superuser:
        return Q()
    if not access.is_member:
        return Q(pk__in=[])
    visible = Q(status=Status.APPROVED) | Q(line__agency__in=_own_agencies(access))
    if access.is_rco or access.is_admin:
        visible |= Q(status=Status.SUBMITTED)
    return visible


def visible_revisions(access: Access) -> Q:
    """``can_view_revision`` as a filter."""
    if access.superuser or (access.is_member and (access.is_rco or access.is_admin)):
        return Q()
    if not access.is_member:
        return Q(pk__in=[])
    return Q(status=BudgetRevision.Status.APPROVED) | Q(line__agency__in=_own_agencies(access))


@dataclass
class LineRow:
    line: BudgetLine
    spent: Decimal | None  # approved expenditures only; None: nothing approved yet
    cells: dict[int, list[Expenditure]]  # period id → what the viewer may see of it

    @property
    def balance(self) -> Decimal:
        return self.line.amount - (self.spent or Decimal(0))


@dataclass
class LinesOverview:
    rows: list[LineRow]
    periods: list[ReportingPeriod]  # the periods with at least one visible expenditure


def lines_overview(base: BudgetAccess) -> LinesOverview:
    """The programme's budget lines, each with its approved spending and, per period, the
    expenditures the viewer may see (two queries)."""
    lines = list(
        BudgetLine.objects.filter(programme=base.programme, view=BudgetLine.View.LINE)
        .select_related("agency", "country")
        .order_by("agency__code", "country__code", "pk")
    )
    expenditures = (
        Expenditure.objects.filter(line__in=lines)
        .filter(visible_expenditures(base.access))
        .select_related("period")
    )
    by_line: dict[int, list[Expenditure]] = defaultdict(list)
    periods: dict[int, ReportingPeriod] = {}
    for e in expenditures:
        by_line[e.line_id].append(e)
        periods[e.period_id] = e.period
    rows = []
    for line in lines:
        cells: dict[int, list[Expenditure]] = defaultdict(list)
        for e in by_line[line.pk]:
            cells[e.period_id].append(e)
        approved = [e for e in by_line[line.pk] if e.status == Status.APPROVED]
        rows.append(LineRow(line, line_spend(approved).spent, dict(cells)))
    ordered = sorted(periods.values(), key=lambda p: (p.start_date, p.end_date, p.code))
    return LinesOverview(rows, ordered)


def line_expenditures(slot: LineSlot) -> list[Expenditure]:
    """The line's expenditures the viewer may see, with who entered, submitted, approved."""
    return list(
        slot.line.expenditures.filter(visible_expenditures(slot.access))
        .select_related("period", "entered_by", "submitted_by", "approved_by")
        .order_by("period__start_date", "period__end_date", "cumulative")
    )


def line_revisions(slot: LineSlot) -> list[BudgetRevision]:
    return list(
        slot.line.revisions.filter(visible_revisions(slot.access))
        .select_related("proposed_by", "decided_by")
        .order_by("-proposed_at", "-id")
    )


def entry_periods(programme: Programme) -> QuerySet[ReportingPeriod]:
    """Expenditures are entered per quarter."""
    return programme.periods.filter(kind=ReportingPeriod.Kind.QUARTER).order_by("start_date")


def enterable_lines(base: BudgetAccess) -> list[BudgetLine]:
    """The lines this viewer coordinates, where they enter expenditures."""
    lines = BudgetLine.objects.filter(programme=base.programme, view=BudgetLine.View.LINE)
    return [
        line
        for line in lines.select_related("agency", "country").order_by("agency__code", "pk")
        if can_enter_expenditure(base.access, line, base.city_countries)
    ]


def upload_access_for_user(
    *, user: Viewer, programme_code: str
) -> tuple[BudgetAccess, list[BudgetLine]]:
    """The upload is for coordinators: a member who enters on no line gets 403."""
    base = budget_access_for_user(user=user, programme_code=programme_code)
    lines = enterable_lines(base)
    if not lines:
        raise PermissionDenied
    return base, lines


HISTORY_LABELS = {
    "expenditure.submit": gettext_lazy("submitted"),
    "expenditure.return": gettext_lazy("returned for correction"),
    "expenditure.approve": gettext_lazy("approved"),
}


@dataclass
class HistoryEntry:
    event: AuditEvent
    label: str
    amount: str  # as the event recorded it


def expenditure_history(slot: ExpenditureSlot) -> list[HistoryEntry]:
    """Who submitted, returned (why) and approved it, and when. Donors see the approval
    only: earlier states are unapproved figures."""
    events = AuditEvent.objects.filter(
        object_type=Expenditure._meta.label_lower, object_id=str(slot.expenditure.pk)
    )
    if slot.access.only_approved:
        events = events.filter(action="expenditure.approve")
    return [
        HistoryEntry(
            e,
            str(HISTORY_LABELS.get(e.action, e.action)),
            str((e.new_value or {}).get("amount", "")) if isinstance(e.new_value, dict) else "",
        )
        for e in events.select_related("actor").order_by("at", "id")
    ]


def last_returns(expenditures: list[Expenditure]) -> dict[int, AuditEvent]:
    """Why each draft was last sent back, when it was (one query)."""
    drafts = {str(e.pk): e.pk for e in expenditures if e.status == Status.DRAFT}
    if not drafts:
        return {}
    events = AuditEvent.objects.filter(
        object_type=Expenditure._meta.label_lower,
        object_id__in=list(drafts),
        action="expenditure.return",
    ).order_by("at", "id")
    return {drafts[e.object_id]: e for e in events}
