"""Reads of the follow-up page: agreements and tools with their current status, the date it
was last observed and how long ago that was. The evaluation's finding was that nobody looked
at them again once signed or delivered, so anything not followed up for ``STALE_AFTER_MONTHS``
(or never) is flagged."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.http import Http404

from monitoring.permissions import Viewer

from ..models import Agreement, AgreementUpdate, Tool, ToolAdoption
from ..permissions import can_view_shared
from .base import GovernanceAccess, governance_access_for_user, shareable_filter

STALE_AFTER_MONTHS = 6


def months_between(earlier: dt.date, later: dt.date) -> int:
    """Whole months from ``earlier`` to ``later`` (0 when later is not after it)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if later.day < earlier.day:
        months -= 1
    return max(months, 0)


@dataclass(frozen=True)
class FollowUp:
    """An agreement or tool as the page lists it."""

    item: Agreement | Tool
    status: str  # the latest status's label ("" when never followed up)
    last_on: dt.date | None
    months: int | None  # since the last follow-up; None: never

    @property
    def stale(self) -> bool:
        return self.months is None or self.months >= STALE_AFTER_MONTHS


@dataclass(frozen=True)
class AgreementSlot:
    base: GovernanceAccess
    agreement: Agreement


@dataclass(frozen=True)
class ToolSlot:
    base: GovernanceAccess
    tool: Tool


def _follow_up(
    item: Agreement | Tool, latest: AgreementUpdate | ToolAdoption | None, today: dt.date
) -> FollowUp:
    if latest is None:
        return FollowUp(item, "", None, None)
    label = str(latest.get_status_display())
    return FollowUp(item, label, latest.observed_on, months_between(latest.observed_on, today))


def agreements_followed_up(base: GovernanceAccess, today: dt.date) -> list[FollowUp]:
    agreements = (
        Agreement.objects.filter(programme=base.programme, **shareable_filter(base))
        .select_related("city")
        .prefetch_related(
            "agencies",
            Prefetch("updates", queryset=AgreementUpdate.objects.order_by("-observed_on", "-pk")),
        )
        .order_by("code")
    )
    return [_follow_up(a, next(iter(a.updates.all()), None), today) for a in agreements]


def tools_followed_up(base: GovernanceAccess, today: dt.date) -> list[FollowUp]:
    tools = (
        Tool.objects.filter(programme=base.programme, **shareable_filter(base))
        .select_related("agency", "city", "output")
        .prefetch_related(
            Prefetch("adoptions", queryset=ToolAdoption.objects.order_by("-observed_on", "-pk"))
        )
        .order_by("code")
    )
    return [_follow_up(t, next(iter(t.adoptions.all()), None), today) for t in tools]


def agreement_get_for_user(
    *, user: Viewer, programme_code: str, agreement_code: str
) -> AgreementSlot:
    base = governance_access_for_user(user=user, programme_code=programme_code)
    agreement = (
        Agreement.objects.filter(programme=base.programme, code=agreement_code)
        .select_related("programme", "city")
        .prefetch_related("agencies")
        .first()
    )
    if agreement is None or not can_view_shared(base.access, agreement.shareable):
        raise Http404
    return AgreementSlot(base, agreement)


def tool_get_for_user(*, user: Viewer, programme_code: str, tool_code: str) -> ToolSlot:
    base = governance_access_for_user(user=user, programme_code=programme_code)
    tool = (
        Tool.objects.filter(programme=base.programme, code=tool_code)
        .select_related("programme", "agency", "city", "output")
        .first()
    )
    if tool is None or not can_view_shared(base.access, tool.shareable):
        raise Http404
    return ToolSlot(base, tool)


def agreement_history(agreement: Agreement) -> list[AgreementUpdate]:
    return list(agreement.updates.select_related("recorded_by").order_by("-observed_on", "-pk"))


def tool_history(tool: Tool) -> list[ToolAdoption]:
    return list(tool.adoptions.select_related("recorded_by").order_by("-observed_on", "-pk"))
