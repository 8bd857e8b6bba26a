"""Reads of the governance pages: each committee with the meetings recorded per year against
those expected, its last meeting and its open and overdue actions; one committee with its
meetings; one meeting with its participants, decisions and actions. Donors read shareable
committees and, of those, shareable meetings."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.http import Http404

from monitoring.models import CLOSED_STATUSES, open_and_overdue
from monitoring.permissions import Viewer

from ..models import Committee, Meeting, MeetingAction
from ..permissions import can_view_meeting, can_view_shared
from .base import GovernanceAccess, governance_access_for_user, shareable_filter


@dataclass(frozen=True)
class YearCount:
    """Meetings held in a calendar year against those expected in the part of the year the
    programme ran (``months``), pro rata: a committee expected to meet four times a year is
    expected to meet once in a programme's first two months."""

    year: int
    held: int
    expected: int | None
    months: int = 12

    @property
    def short(self) -> bool:
        return self.expected is not None and self.held < self.expected


@dataclass
class CommitteeRow:
    committee: Committee
    years: list[YearCount] = field(default_factory=list)
    last_meeting: dt.date | None = None
    open_actions: int = 0
    overdue_actions: int = 0


@dataclass(frozen=True)
class CommitteeSlot:
    base: GovernanceAccess
    committee: Committee


@dataclass(frozen=True)
class MeetingSlot:
    base: GovernanceAccess
    meeting: Meeting


@dataclass(frozen=True)
class ActionSlot:
    base: GovernanceAccess
    action: MeetingAction


def visible_committees(base: GovernanceAccess) -> QuerySet[Committee]:
    return Committee.objects.filter(programme=base.programme, **shareable_filter(base))


def visible_meetings(base: GovernanceAccess) -> QuerySet[Meeting]:
    return Meeting.objects.filter(
        committee__programme=base.programme,
        **shareable_filter(base),
        **shareable_filter(base, "committee__"),
    )


def programme_years(base: GovernanceAccess, today: dt.date) -> list[tuple[int, int]]:
    """The calendar years of the programme up to this one, each with the number of months
    (whole or begun) the programme ran in it by ``today``."""
    p = base.programme
    end = min(p.end_date, today)
    years = []
    for year in range(p.start_date.year, end.year + 1):
        first, last = max(dt.date(year, 1, 1), p.start_date), min(dt.date(year, 12, 31), end)
        years.append((year, (last.year - first.year) * 12 + last.month - first.month + 1))
    return years


def expected_in(per_year: int | None, months: int) -> int | None:
    if per_year is None:
        return None
    return int((Decimal(per_year * months) / 12).quantize(Decimal(1), ROUND_HALF_UP))


def committee_overview(base: GovernanceAccess, today: dt.date) -> list[CommitteeRow]:
    """Every committee the viewer may read, in three queries whatever their number."""
    committees = list(visible_committees(base).select_related("city", "country").order_by("code"))
    meetings = visible_meetings(base)
    held: dict[tuple[int, int], int] = {}
    for row in (
        meetings.annotate(year=ExtractYear("held_on"))
        .values("committee_id", "year")
        .annotate(n=Count("pk"))
    ):
        held[(row["committee_id"], row["year"])] = row["n"]
    last = dict(
        meetings.values("committee_id")
        .annotate(last=Max("held_on"))
        .values_list("committee_id", "last")
    )
    actions = {
        row["meeting__committee_id"]: row
        for row in MeetingAction.objects.filter(meeting__in=meetings)
        .values("meeting__committee_id")
        .annotate(
            open=Count("pk", filter=~Q(status__in=CLOSED_STATUSES)),
            overdue=Count("pk", filter=open_and_overdue(today)),
        )
    }
    years = programme_years(base, today)
    rows = []
    for c in committees:
        per_year = c.expected_meetings_per_year
        counts = [
            YearCount(y, held.get((c.pk, y), 0), expected_in(per_year, months), months)
            for y, months in years
        ]
        tally = actions.get(c.pk)
        open_, overdue = (tally["open"], tally["overdue"]) if tally else (0, 0)
        rows.append(CommitteeRow(c, counts, last.get(c.pk), open_, overdue))
    return rows


def overdue_actions(base: GovernanceAccess, today: dt.date) -> list[MeetingAction]:
    """The actions still owed past their due date, oldest due first."""
    return list(
        MeetingAction.objects.filter(meeting__in=visible_meetings(base))
        .filter(open_and_overdue(today))
        .select_related("meeting__committee", "owner_agency", "owner")
        .order_by("due_on", "pk")
    )


def committee_get_for_user(
    *, user: Viewer, programme_code: str, committee_code: str
) -> CommitteeSlot:
    base = governance_access_for_user(user=user, programme_code=programme_code)
    committee = (
        Committee.objects.filter(programme=base.programme, code=committee_code)
        .select_related("programme", "city", "country")
        .first()
    )
    if committee is None or not can_view_shared(base.access, committee.shareable):
        raise Http404
    return CommitteeSlot(base, committee)


def committee_meetings(slot: CommitteeSlot) -> list[Meeting]:
    return list(
        visible_meetings(slot.base)
        .filter(committee=slot.committee)
        .prefetch_related("participants")
        .annotate(n_decisions=Count("decisions", distinct=True))
        .annotate(n_actions=Count("actions", distinct=True))
        .order_by("-held_on", "-pk")
    )


def meeting_get_for_user(*, user: Viewer, programme_code: str, meeting_id: int) -> MeetingSlot:
    base = governance_access_for_user(user=user, programme_code=programme_code)
    meeting = (
        Meeting.objects.filter(pk=meeting_id, committee__programme=base.programme)
        .select_related("committee__programme", "recorded_by")
        .first()
    )
    if meeting is None or not can_view_meeting(base.access, meeting):
        raise Http404
    return MeetingSlot(base, meeting)


def meeting_contents(meeting: Meeting) -> tuple[list, list, list]:
    """Participants, decisions and actions of a meeting."""
    participants = list(meeting.participants.all())
    decisions = list(meeting.decisions.order_by("pk"))
    actions = list(
        meeting.actions.select_related("owner_agency", "owner", "updated_by", "decision").order_by(
            "due_on", "pk"
        )
    )
    return participants, decisions, actions


def action_get_for_user(*, user: Viewer, programme_code: str, action_id: int) -> ActionSlot:
    base = governance_access_for_user(user=user, programme_code=programme_code)
    action = (
        MeetingAction.objects.filter(pk=action_id, meeting__committee__programme=base.programme)
        .select_related("meeting__committee__programme", "owner_agency", "owner")
        .first()
    )
    if action is None or not can_view_meeting(base.access, action.meeting):
        raise Http404
    return ActionSlot(base, action)
