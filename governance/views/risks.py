"""The risk register pages: the register with its filters, the heat map (now and on an
earlier date), a risk with its review history, and the forms to enter, change and review a
risk. Each view: fetch and authorise through one selector → validate → one service →
redirect or render."""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from indicators.charts import figure_json
from monitoring.models import Agency

from .. import services
from ..charts import build_risk_heatmap_figure
from ..forms import RiskFilterForm, RiskForm, RiskReviewForm
from ..models import Risk
from ..permissions import can_add_risk, can_edit_risk, own_agencies, sees_internal
from ..selectors import GovernanceAccess, RiskFilters, governance_access_for_user
from ..selectors.risks import (
    HeatMap,
    RiskSlot,
    heat_map_as_of,
    heat_map_now,
    heat_map_rows,
    risk_get_for_user,
    risk_register,
    risk_reviews,
    visible_risks,
)
from .common import add_errors, signed_in


def _filter_form(request: HttpRequest, base: GovernanceAccess) -> RiskFilterForm:
    p = base.programme
    return RiskFilterForm(
        request.GET or None,
        cities=list(p.cities.order_by("code")),
        outcomes=list(p.outcomes.order_by("order", "code")),
        agencies=list(p.agencies.order_by("code")),
    )


@login_required
@require_GET
def register(request: HttpRequest, code: str) -> HttpResponse:
    base = governance_access_for_user(user=request.user, programme_code=code)
    form = _filter_form(request, base)
    chosen = form.cleaned_data if form.is_valid() else {}
    filters = RiskFilters(**{name: value or None for name, value in chosen.items()})
    today = timezone.localdate()
    risks = risk_register(base, filters)
    context = {
        "programme": base.programme,
        "form": form,
        "rows": [(r, _overdue(r, today)) for r in risks],
        "can_add": can_add_risk(base.access),
        "donor_view": base.donor_view,
        "filtered": any(filters.__dict__.values()),
    }
    return render(request, "governance/risks.html", context)


def _overdue(risk: Risk, today: dt.date) -> bool:
    return (
        risk.status != Risk.Status.CLOSED and risk.review_on is not None and risk.review_on < today
    )


def _compare_date(request: HttpRequest, today: dt.date) -> tuple[dt.date, str]:
    """The earlier date of the heat map: ``?as_of=`` when it is a past date, else a year
    ago. The second value says why a date given was not used."""
    raw = request.GET.get("as_of", "")
    default = today - dt.timedelta(days=365)
    if not raw:
        return default, ""
    try:
        chosen = parse_date(raw)
    except ValueError:
        chosen = None
    if chosen is None:
        return default, _("“%(value)s” is not a date (write it as YYYY-MM-DD).") % {"value": raw}
    if chosen > today:
        return default, _("The comparison date cannot be in the future.")
    return chosen, ""


def _chart(chart_id: str, title: str, heat: HeatMap) -> dict[str, Any]:
    figure = build_risk_heatmap_figure(heat_map_rows(heat), title)
    return {"id": chart_id, "title": title, "heat": heat, "figure": figure_json(figure)}


@login_required
@require_GET
def heatmap(request: HttpRequest, code: str) -> HttpResponse:
    base = governance_access_for_user(user=request.user, programme_code=code)
    today = timezone.localdate()
    as_of, refusal = _compare_date(request, today)
    risks = list(visible_risks(base).order_by("code"))
    now, then = heat_map_now(risks), heat_map_as_of(risks, as_of)
    charts = [
        _chart("heat-now", _("Now"), now),
        _chart("heat-then", _("As of %(date)s") % {"date": as_of}, then),
    ]
    context = {
        "programme": base.programme,
        "charts": charts,
        "as_of": as_of,
        "refusal": refusal,
        "donor_view": base.donor_view,
    }
    return render(request, "governance/heatmap.html", context, status=400 if refusal else 200)


def _owner_agencies(base: GovernanceAccess) -> tuple[QuerySet[Agency], bool]:
    """The agencies this person may make a risk's owner, and whether one is required."""
    agencies = base.programme.agencies.order_by("code")
    access = base.access
    if access.superuser or access.is_rco or access.is_admin:
        return agencies, False
    return agencies.filter(pk__in=own_agencies(access)), True


def _risk_form(base: GovernanceAccess, data: Any = None, **kwargs: Any) -> RiskForm:
    agencies, required = _owner_agencies(base)
    return RiskForm(
        data, programme=base.programme, owner_agencies=agencies, owner_required=required, **kwargs
    )


def _initial(risk: Risk) -> dict[str, Any]:
    initial = {name: getattr(risk, name) for name in RiskForm.MODEL_FIELDS}
    initial["owner_agency"] = risk.owner_agency_id
    initial["first_reported"] = risk.first_reported_id
    initial["cities"] = list(risk.cities.all())
    initial["outcomes"] = list(risk.outcomes.all())
    initial["version"] = risk.version
    return initial


def _risk_url(code: str, risk: Risk) -> str:
    return reverse("governance:risk", args=[code, risk.code])


@login_required
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest, code: str) -> HttpResponse:
    base = governance_access_for_user(user=request.user, programme_code=code)
    if not can_add_risk(base.access):
        raise PermissionDenied
    form = _risk_form(base, request.POST or None, initial={"version": 1})
    if request.method == "POST" and form.is_valid():
        try:
            risk = services.risk_create(
                programme=base.programme,
                actor=signed_in(request),
                values=form.values(),
                cities=form.cleaned_data["cities"],
                outcomes=form.cleaned_data["outcomes"],
                today=timezone.localdate(),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Risk %(code)s entered.") % {"code": risk.code})
            return redirect(_risk_url(code, risk))
    status = 400 if form.is_bound else 200
    context = {"programme": base.programme, "form": form, "risk": None}
    return render(request, "governance/risk_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, code: str, risk_code: str) -> HttpResponse:
    slot = risk_get_for_user(user=request.user, programme_code=code, risk_code=risk_code)
    if not can_edit_risk(slot.base.access, slot.risk):
        raise PermissionDenied
    form = _risk_form(slot.base, request.POST or None, initial=_initial(slot.risk))
    stale = None
    if request.method == "POST" and form.is_valid():
        try:
            risk = services.risk_update(
                risk=slot.risk,
                actor=signed_in(request),
                expected_version=form.cleaned_data["version"],
                values=form.values(),
                cities=form.cleaned_data["cities"],
                outcomes=form.cleaned_data["outcomes"],
                today=timezone.localdate(),
                note=form.cleaned_data["note"],
            )
        except services.StaleRisk as error:
            stale = error.current
            form = _risk_form(slot.base, initial=_initial(stale))
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Risk %(code)s saved.") % {"code": risk.code})
            return redirect(_risk_url(code, risk))
    status = 409 if stale else 400 if form.is_bound else 200
    context = {"programme": slot.base.programme, "form": form, "risk": slot.risk, "stale": stale}
    return render(request, "governance/risk_form.html", context, status=status)


def _render_risk(
    request: HttpRequest,
    slot: RiskSlot,
    review_form: RiskReviewForm | None = None,
    status: int = 200,
    stale: Risk | None = None,
) -> HttpResponse:
    risk, access = slot.risk, slot.base.access
    editable = can_edit_risk(access, risk)
    if review_form is None and editable:
        review_form = RiskReviewForm(
            initial={
                "version": risk.version,
                "reviewed_on": timezone.localdate(),
                "likelihood": risk.likelihood,
                "impact": risk.impact,
                "rating_basis": risk.rating_basis,
                "status": risk.status,
                "review_on": risk.review_on,
            }
        )
    context = {
        "programme": slot.base.programme,
        "risk": risk,
        "reviews": risk_reviews(risk),
        "internal": sees_internal(access),
        "can_edit": editable,
        "review_form": review_form if editable else None,
        "stale": stale,
        "overdue": _overdue(risk, timezone.localdate()),
    }
    return render(request, "governance/risk.html", context, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, code: str, risk_code: str) -> HttpResponse:
    return _render_risk(
        request, risk_get_for_user(user=request.user, programme_code=code, risk_code=risk_code)
    )


@login_required
@require_POST
def review(request: HttpRequest, code: str, risk_code: str) -> HttpResponse:
    slot = risk_get_for_user(user=request.user, programme_code=code, risk_code=risk_code)
    if not can_edit_risk(slot.base.access, slot.risk):
        raise PermissionDenied
    form = RiskReviewForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.risk_review(
                risk=slot.risk,
                actor=signed_in(request),
                expected_version=data["version"],
                reviewed_on=data["reviewed_on"],
                likelihood=data["likelihood"],
                impact=data["impact"],
                rating_basis=data["rating_basis"],
                status=data["status"],
                review_on=data["review_on"],
                note=data["note"],
                today=timezone.localdate(),
            )
        except services.StaleRisk as error:
            slot = RiskSlot(slot.base, error.current)
            return _render_risk(request, slot, status=409, stale=error.current)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Review recorded."))
            return redirect(_risk_url(code, slot.risk))
    return _render_risk(request, slot, review_form=form, status=400)
