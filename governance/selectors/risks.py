"""Reads of the risk register: the register with its filters, one risk with its reviews, the
heat map now and as it stood on an earlier date, and the rows of the annual report's risk
table. Donors read shareable risks only and no review notes."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from indicators.permissions import Access
from monitoring.models import Programme
from monitoring.permissions import Viewer

from ..models import Risk, RiskReview
from ..permissions import can_view_shared
from .base import GovernanceAccess, governance_access_for_user, shareable_filter

RISK_RELATED = ("owner_agency", "first_reported", "updated_by")


@dataclass(frozen=True)
class RiskFilters:
    """The register's filters, as codes (None: all)."""

    status: str | None = None
    category: str | None = None
    city: str | None = None
    outcome: str | None = None
    owner: str | None = None  # an agency code, or "none" for the programme's own risks


@dataclass(frozen=True)
class RiskSlot:
    base: GovernanceAccess
    risk: Risk


def visible_risks(base: GovernanceAccess) -> QuerySet[Risk]:
    return Risk.objects.filter(programme=base.programme, **shareable_filter(base))


def risk_register(base: GovernanceAccess, filters: RiskFilters) -> list[Risk]:
    """The risks the viewer may read, filtered, with their cities and outcomes."""
    qs = visible_risks(base).select_related(*RISK_RELATED)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.city:
        qs = qs.filter(cities__code=filters.city)
    if filters.outcome:
        qs = qs.filter(outcomes__code=filters.outcome)
    if filters.owner == "none":
        qs = qs.filter(owner_agency__isnull=True)
    elif filters.owner:
        qs = qs.filter(owner_agency__code=filters.owner)
    return list(qs.distinct().prefetch_related("cities", "outcomes").order_by("code"))


def risk_get_for_user(*, user: Viewer, programme_code: str, risk_code: str) -> RiskSlot:
    """One risk of the programme; 404 when it is not there or the viewer may not read it
    (a donor and a risk that is not shareable)."""
    base = governance_access_for_user(user=user, programme_code=programme_code)
    risk = (
        Risk.objects.filter(programme=base.programme, code=risk_code)
        .select_related("programme", *RISK_RELATED)
        .prefetch_related("cities", "outcomes")
        .first()
    )
    if risk is None or not can_view_shared(base.access, risk.shareable):
        raise Http404
    return RiskSlot(base, risk)


def risk_reviews(risk: Risk) -> list[RiskReview]:
    return list(risk.reviews.select_related("reviewed_by").order_by("-reviewed_on", "-pk"))


# ---- the heat map ----------------------------------------------------------------------------


@dataclass
class HeatMap:
    """Risks that are not closed, as they stood on a date (None: now): the codes in each
    (likelihood, impact) cell, and those not rated."""

    as_of: dt.date | None
    cells: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    unrated: list[Risk] = field(default_factory=list)

    def count(self, likelihood: int, impact: int) -> int:
        return len(self.cells.get((likelihood, impact), []))

    @property
    def rated(self) -> int:
        return sum(len(codes) for codes in self.cells.values())


def heat_map_now(risks: list[Risk]) -> HeatMap:
    heat = HeatMap(as_of=None)
    for risk in sorted(risks, key=lambda r: r.code):
        if risk.status == Risk.Status.CLOSED:
            continue
        if risk.likelihood is None or risk.impact is None:
            heat.unrated.append(risk)
        else:
            heat.cells.setdefault((risk.likelihood, risk.impact), []).append(risk.code)
    return heat


def heat_map_as_of(risks: list[Risk], as_of: dt.date) -> HeatMap:
    """Each risk's latest review on or before ``as_of``; a risk without one was not in the
    register yet. One query for all the risks."""
    latest: dict[int, RiskReview] = {}
    for found in RiskReview.objects.filter(
        risk__in=[r.pk for r in risks], reviewed_on__lte=as_of
    ).order_by("risk_id", "reviewed_on", "pk"):
        latest[found.risk_id] = found  # the last one wins
    heat = HeatMap(as_of=as_of)
    for risk in sorted(risks, key=lambda r: r.code):
        review = latest.get(risk.pk)
        if review is None or review.status == Risk.Status.CLOSED:
            continue
        if review.likelihood is None or review.impact is None:
            heat.unrated.append(risk)
        else:
            heat.cells.setdefault((review.likelihood, review.impact), []).append(risk.code)
    return heat


def heat_map_rows(heat: HeatMap) -> list[dict[str, object]]:
    """The cells as plain rows for the chart builder and the table beside it."""
    return [
        {"likelihood": lik, "impact": imp, "codes": codes}
        for (lik, imp), codes in sorted(heat.cells.items())
    ]


# ---- the annual report's table ---------------------------------------------------------------


@dataclass(frozen=True)
class RiskRow:
    """A row of the risk table of the fund's report, in the active language."""

    code: str = ""
    risk: str = ""
    category: str = ""
    likelihood: str = ""
    impact: str = ""
    mitigation: str = ""
    owner: str = ""
    status: str = ""


def rating_text(value: int | None, basis: str) -> str:
    if value is None:
        return _("not rated")
    if basis == Risk.Basis.INFERRED:
        return _("%(value)s (assessed on the platform)") % {"value": value}
    return str(value)


def risk_rows(programme: Programme, access: Access | None = None) -> list[RiskRow]:
    """The programme's risks for the report. Without an ``access`` the reader is the fund
    (a donor): shareable risks only, as the report goes to the donor whoever runs it."""
    qs = Risk.objects.filter(programme=programme).select_related("owner_agency")
    if access is None or not can_view_shared(access, False):
        qs = qs.filter(shareable=True)
    return [
        RiskRow(
            code=risk.code,
            risk=risk.title,
            category=str(risk.get_category_display()),
            likelihood=rating_text(risk.likelihood, risk.rating_basis),
            impact=rating_text(risk.impact, risk.rating_basis),
            mitigation=risk.mitigation,
            owner=risk.owner_agency.acronym if risk.owner_agency else _("Programme (RCO)"),
            status=str(risk.get_status_display()),
        )
        for risk in qs.order_by("code")
    ]
