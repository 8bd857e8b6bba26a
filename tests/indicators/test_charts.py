"""The chart builders write Plotly figures as plain dicts without Plotly's validation (for
speed); here every builder's output goes back through Plotly's validating classes, which
raise on any attribute or value Plotly does not know. No database needed."""

from decimal import Decimal

import plotly.graph_objects as go
import pytest
from django.utils import translation

from indicators import charts
from indicators.models import Status


def _validated(fig: go.Figure) -> go.Figure:
    """Rebuild ``fig`` through Plotly's validators (ValueError on anything invalid)."""
    return go.Figure(fig.to_plotly_json())


def _row(code: str, achievement: str | None, status: str = Status.ON_TRACK, **extra):
    return {
        "code": code,
        "name": f"Indicator {code}",
        "actual": Decimal("73"),
        "target": Decimal("100"),
        "achievement": None if achievement is None else Decimal(achievement),
        "status": status,
        "city_name": "Santiago",
        "agency_name": "OIT",
        **extra,
    }


def test_status_by_group_stacks_only_statuses_present():
    fig = _validated(
        charts.build_status_by_group_figure(
            [
                {"label": "1", "counts": {Status.ON_TRACK: 2, Status.OFF_TRACK: 1}},
                {"label": "2", "counts": {Status.ON_TRACK: 1}},
            ],
            "t",
        )
    )
    assert [t.name for t in fig.data] == ["on track", "off track"]
    assert list(fig.data[0].x) == [2, 1]
    assert list(fig.data[1].x) == [1, 0]
    assert fig.layout.barmode == "stack"


def test_achievement_caps_the_bar_but_labels_the_true_value():
    fig = _validated(
        charts.build_achievement_figure(
            [_row("1.4.A", "73", Status.AT_RISK), _row("1.2.C", "1400", Status.ACHIEVED)], "t"
        )
    )
    bar = fig.data[0]
    assert list(bar.y) == ["1.4.A", "1.2.C"]
    assert list(bar.x) == [73.0, charts.ACHIEVEMENT_AXIS_MAX]
    assert list(bar.text) == ["73 %", "1400 %"]
    assert list(bar.marker.color) == [
        charts.STATUS_COLOURS[Status.AT_RISK],
        charts.STATUS_COLOURS[Status.ACHIEVED],
    ]
    assert fig.layout.shapes[0].x0 == 100  # the target line


def test_achievement_leaves_out_rows_without_a_target():
    fig = _validated(charts.build_achievement_figure([_row("2.1.A", None)], "t"))
    assert fig.data == ()
    assert "No approved figure has a target" in fig.layout.annotations[0].text


def test_city_comparison_one_trace_per_city_with_gaps():
    rows = [
        _row("1.1.A", "50", city_name="Santiago"),
        _row("1.1.B", "80", city_name="Santiago"),
        _row("1.1.A", "120", city_name="Ciudad de México"),
    ]
    fig = _validated(charts.build_city_comparison_figure(rows, "t"))
    assert [t.name for t in fig.data] == ["Santiago", "Ciudad de México"]
    assert list(fig.data[0].x) == ["1.1.A", "1.1.B"]
    assert list(fig.data[1].y) == [120.0, None]


def test_agency_contributions_stack_with_the_consolidated_total_as_a_marker():
    rows = [
        _row("1.2.C", None, agency_name="OIT", actual=Decimal("700")),
        _row("1.2.C", None, agency_name="OIM", actual=Decimal("600")),
    ]
    fig = _validated(
        charts.build_agency_contributions_figure(rows, {"1.2.C": Decimal("1217")}, "t")
    )
    assert [t.type for t in fig.data] == ["bar", "bar", "scatter"]
    assert fig.data[2].y == (1217.0,)
    assert fig.layout.barmode == "stack"


def test_indicator_series_has_period_to_date_expected_and_target():
    rows = [
        {
            "period_name": "Q1",
            "period_actual": Decimal("10"),
            "actual": Decimal("10"),
            "expected": Decimal("25"),
        },
        {
            "period_name": "Q2",
            "period_actual": Decimal("20"),
            "actual": Decimal("30"),
            "expected": Decimal("50"),
        },
    ]
    fig = _validated(
        charts.build_indicator_series_figure(
            rows, target=Decimal("100"), title="t", cumulative=True
        )
    )
    assert [t.type for t in fig.data] == ["bar", "scatter", "scatter"]
    assert list(fig.data[1].y) == [10.0, 30.0]
    assert list(fig.data[2].y) == [25.0, 50.0]
    assert fig.layout.shapes[0].y0 == 100.0
    latest = _validated(
        charts.build_indicator_series_figure(rows, target=None, title="t", cumulative=False)
    )
    assert [t.type for t in latest.data] == ["bar", "scatter"]  # no running total
    assert latest.layout.shapes == ()


def test_disaggregation_groups_bars_by_dimension():
    rows = [
        {"dimension": "Sex", "category_name": "Women", "actual": Decimal("5")},
        {"dimension": "Sex", "category_name": "Men", "actual": Decimal("3")},
        {"dimension": "Nationality", "category_name": "Venezuela", "actual": Decimal("6")},
    ]
    fig = _validated(charts.build_disaggregation_figure(rows, "t"))
    assert [t.name for t in fig.data] == ["Sex", "Nationality"]
    assert list(fig.data[0].x) == ["Women", "Men"]


def test_compliance_heatmap_codes_each_report_state():
    cells = {("OIT · SCL", "Q1"): "approved", ("OIT · SCL", "Q2"): "missing"}
    labels = {k: k for k in charts.COMPLIANCE_CODES}
    fig = _validated(
        charts.build_compliance_figure(["OIT · SCL"], ["Q1", "Q2", "Q3"], cells, labels, "t")
    )
    heat = fig.data[0]
    assert [list(r) for r in heat.z] == [[4, 0, -1]]
    assert [list(r) for r in heat.text] == [["approved", "missing", "not_due"]]


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.build_status_by_group_figure([], "t"),
        lambda: charts.build_city_comparison_figure([], "t"),
        lambda: charts.build_agency_contributions_figure([], {}, "t"),
        lambda: charts.build_indicator_series_figure([], target=None, title="t", cumulative=True),
        lambda: charts.build_disaggregation_figure([], "t"),
        lambda: charts.build_compliance_figure([], [], {}, {}, "t"),
    ],
)
def test_every_empty_chart_says_why(build):
    fig = _validated(build())
    assert fig.data == ()
    assert fig.layout.annotations[0].text  # a message, not an empty frame


def test_spanish_figures_use_a_decimal_comma():
    with translation.override("es"):
        fig = _validated(charts.build_achievement_figure([_row("1.4.A", "73")], "t"))
    assert fig.layout.separators == ", "
    assert fig.data[0].name == "logro"
    english = _validated(charts.build_achievement_figure([_row("1.4.A", "73")], "t"))
    assert english.layout.separators == ".,"


def test_status_groups_label_bars_by_code_and_name_them_on_hover():
    fig = _validated(
        charts.build_status_by_group_figure(
            [{"label": "R1", "title": "R1 — Santiago…", "counts": {"on_track": 20}}],
            "t",
        )
    )
    assert list(fig.data[0].y) == ["R1"]
    assert list(fig.data[0].customdata) == ["R1 — Santiago…"]
    assert fig.layout.xaxis.dtick is None  # 20 indicators: let Plotly space the ticks
