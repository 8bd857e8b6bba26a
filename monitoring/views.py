"""Pages of the programme core. Thin: authorise, call a selector, render."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from indicators.selectors import ALL, framework_rows

from .models import Membership, Programme
from .selectors import (
    memberships_for_user,
    outcomes_with_outputs,
    programme_get_for_user,
    programmes_for_user,
)

# A home page with more programmes than this lists them and links to each one.
HOME_FRAMEWORKS = 2


def _framework_context(programme: Programme) -> dict:
    cities = list(programme.cities.order_by("programmecity__id"))
    rows = framework_rows(programme=programme, cities=cities)
    by_outcome: dict[int, list] = {}
    by_output: dict[int, list] = {}
    superseded = []
    for row in rows:
        ind = row.indicator
        if not ind.is_active:
            superseded.append(row)
        elif ind.output_id:
            by_output.setdefault(ind.output_id, []).append(row)
        else:
            by_outcome.setdefault(ind.outcome_id, []).append(row)
    outcomes = []
    for outcome in outcomes_with_outputs(programme=programme):
        outputs = [(output, by_output.get(output.pk, [])) for output in outcome.outputs.all()]
        outcomes.append((outcome, by_outcome.get(outcome.pk, []), outputs))
    return {
        "programme": programme,
        "scopes": [ALL, *[c.code for c in cities]],
        "cities": cities,
        "outcomes": outcomes,
        "superseded": superseded,
    }


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    programmes = list(programmes_for_user(user=request.user))
    frameworks = (
        [_framework_context(p) for p in programmes] if len(programmes) <= HOME_FRAMEWORKS else []
    )
    memberships = list(memberships_for_user(user=request.user))
    # Quarterly reports are for those who enter, approve or follow them; donors read
    # approved figures on the dashboards.
    reporting = {m.programme_id for m in memberships if m.role != Membership.Role.DONOR} | (
        {p.pk for p in programmes} if request.user.is_superuser else set()
    )
    return render(
        request,
        "monitoring/home.html",
        {
            "programmes": programmes,
            "frameworks": frameworks,
            "memberships": memberships,
            "reporting": reporting,
        },
    )


@login_required
@require_GET
def programme_detail(request: HttpRequest, code: str) -> HttpResponse:
    programme = programme_get_for_user(user=request.user, code=code)
    return render(
        request,
        "monitoring/programme_detail.html",
        {"programme": programme, "fw": _framework_context(programme)},
    )
