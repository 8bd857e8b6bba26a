"""The heat map: risks that are not closed counted per likelihood × impact cell with their
codes, the unrated listed beside it as not rated, the register as it stood on an earlier date
from the review history; the Plotly figure valid and embedded without inline script."""

import datetime as dt

import plotly.graph_objects as go
import pytest
from django.urls import reverse

from governance import services
from governance.charts import build_risk_heatmap_figure, cell_text
from governance.models import Risk
from governance.selectors import GovernanceAccess
from governance.selectors.risks import heat_map_as_of, heat_map_now, heat_map_rows, visible_risks
from indicators.permissions import access_for

from .conftest import risk_values, user

pytestmark = pytest.mark.django_db


def add(programme, code: str, likelihood, impact, status="open", shareable=False) -> Risk:
    return services.risk_create(
        programme=programme,
        actor=user("rco"),
        values=risk_values(
            code=code, likelihood=likelihood, impact=impact, status=status, shareable=shareable
        ),
        today=dt.date(2025, 3, 1),
    )


def test_cells_count_the_risks_that_are_not_closed_and_list_the_unrated(ciudades):
    for code, lik, imp, status in [
        ("RA", 3, 4, "open"),
        ("RB", 3, 4, "realised"),
        ("RC", 5, 1, "open"),
        ("RD", None, None, "open"),
        ("RE", 5, 5, "closed"),
    ]:
        add(ciudades, code, lik, imp, status)
    heat = heat_map_now(list(Risk.objects.filter(programme=ciudades)))
    assert heat.cells == {(3, 4): ["RA", "RB"], (5, 1): ["RC"]}
    assert (heat.count(3, 4), heat.count(5, 1), heat.count(1, 1)) == (2, 1, 0)
    assert [r.code for r in heat.unrated] == ["RD"]
    assert heat.rated == 3
    assert heat_map_rows(heat) == [
        {"likelihood": 3, "impact": 4, "codes": ["RA", "RB"]},
        {"likelihood": 5, "impact": 1, "codes": ["RC"]},
    ]


def test_the_map_as_of_an_earlier_date_uses_the_reviews_of_then(ciudades, ilo_risk):
    services.risk_review(
        risk=ilo_risk,
        actor=user("approver.ilo"),
        expected_version=1,
        reviewed_on=dt.date(2025, 9, 1),
        likelihood=2,
        impact=2,
        rating_basis="inferred",
        status="open",
        review_on=None,
        note="",
        today=dt.date(2026, 1, 1),
    )
    risks = list(Risk.objects.filter(programme=ciudades))
    assert heat_map_now(risks).cells == {(2, 2): ["RX"]}
    assert heat_map_as_of(risks, dt.date(2025, 6, 1)).cells == {(3, 4): ["RX"]}
    assert heat_map_as_of(risks, dt.date(2025, 9, 1)).cells == {(2, 2): ["RX"]}
    before = heat_map_as_of(risks, dt.date(2025, 1, 1))  # not in the register yet
    assert (before.cells, before.unrated) == ({}, [])


def test_the_page_draws_both_maps_and_lists_the_loaded_risks_as_not_rated(
    browser, loaded, ilo_risk
):
    response = browser("rco").get(
        reverse("governance:heatmap", args=["CIUDADES"]), {"as_of": "2024-01-01"}
    )
    assert response.status_code == 200
    now, then = response.context["charts"]
    assert now["heat"].cells == {(3, 4): ["RX"]}
    # R7 is closed; the other eleven loaded risks are open or realised and unrated
    assert [r.code for r in now["heat"].unrated] == [
        "R1",
        "R10",
        "R11",
        "R12",
        "R2",
        "R3",
        "R4",
        "R5",
        "R6",
        "R8",
        "R9",
    ]
    assert then["heat"].cells == {}  # RX was entered in 2025
    assert [r.code for r in then["heat"].unrated][:2] == ["R1", "R10"]  # R12 came in 2023
    assert "R12" in [r.code for r in then["heat"].unrated]
    html = response.content.decode()
    assert 'id="chart-heat-now" type="application/json"' in html
    assert 'data-chart="chart-heat-then"' in html
    assert "<script>" not in html  # figures ride in json_script, drawn by static/js/charts.js
    assert "Not rated" in html and "R11" in html


def test_donors_see_only_shareable_risks_on_the_map(browser, loaded, ilo_risk):
    response = browser("donor").get(reverse("governance:heatmap", args=["CIUDADES"]))
    now = response.context["charts"][0]["heat"]
    assert now.cells == {} and "RX" not in [r.code for r in now.unrated]


def test_a_bad_comparison_date_is_refused_and_named(browser, ciudades):
    page = reverse("governance:heatmap", args=["CIUDADES"])
    response = browser("rco").get(page, {"as_of": "31/02/2024"})
    assert response.status_code == 400
    assert "Comparison date: “31/02/2024” is not a date" in response.content.decode()
    future = browser("rco").get(page, {"as_of": "2999-01-01"})
    assert "The comparison date cannot be in the future." in future.content.decode()


def test_the_figure_is_valid_plotly_with_counts_and_codes_in_the_cells():
    rows = [{"likelihood": 3, "impact": 4, "codes": ["R1", "R5"]}]
    fig = go.Figure(build_risk_heatmap_figure(rows, "Now").to_plotly_json())  # validates
    trace = fig.data[0]
    assert trace.type == "heatmap"
    assert trace.text[2][3] == "<b>2</b><br>R1, R5"  # row: likelihood 3, column: impact 4
    assert trace.text[0][0] == ""
    assert trace.z[4][4] == 25 and trace.z[0][0] == 1
    assert trace.hovertext[2][3] == "Likelihood 3 × impact 4: 2 risks<br>R1, R5"
    assert cell_text([]) == ""


def test_selectors_take_the_viewer(ciudades, ilo_risk):
    donor = GovernanceAccess(ciudades, access_for(user("donor"), ciudades))
    assert list(visible_risks(donor)) == []
    rco = GovernanceAccess(ciudades, access_for(user("rco"), ciudades))
    assert [r.code for r in visible_risks(rco)] == ["RX"]
