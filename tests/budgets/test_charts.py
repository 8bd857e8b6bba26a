"""The budget chart builders, fed plain rows (no database), and every figure put back through
Plotly's validating classes, which raise on any attribute or value Plotly does not know."""

import datetime as dt
from decimal import Decimal

import plotly.graph_objects as go
from django.utils import translation

from budgets import charts
from indicators.models import Status


def _validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_plotly_json())


def _execution(label: str, revised: str, spent: str | None, execution: str | None, missing=0):
    return {
        "label": label,
        "revised": Decimal(revised),
        "spent": None if spent is None else Decimal(spent),
        "execution": None if execution is None else Decimal(execution),
        "missing": missing,
    }


ROWS = [
    _execution("ILO", "700850", "689832", "98.43"),
    _execution("IOM", "500760", "501055", "100.06"),
    _execution("UNHCR", "500760", "249845", "100.00", missing=1),
    _execution("UNHCR · Mexico", "250915", None, None, missing=1),
]


def test_it_sets_spent_beside_budget_labelled_with_the_execution_rate():
    fig = _validated(charts.build_execution_figure(ROWS, "t", "USD"))
    budget, spent, _no_report = fig.data
    assert fig.layout.barmode == "group"
    assert list(budget.y) == [700850.0, 500760.0, 500760.0, 250915.0]
    assert list(spent.y) == [689832.0, 501055.0, 249845.0, None]
    assert list(spent.text) == ["98.43 %", "100.06 %", "100 %<br>(1 line: no report)", ""]
    assert spent.marker.color[1] == charts.OVERSPENT_COLOUR  # IOM spent more than its budget
    assert spent.marker.color[0] == charts.SPENT_COLOUR
    assert fig.layout.yaxis.title.text == "USD"


def test_it_marks_a_row_without_expenditure_as_no_report_not_zero():
    fig = _validated(charts.build_execution_figure(ROWS, "t", "USD"))
    no_report = fig.data[2]
    assert no_report.name == "no report"
    assert list(no_report.y) == [None, None, None, 250915.0]  # hatched up to its budget
    assert list(no_report.text) == ["", "", "", "no report"]
    assert no_report.marker.pattern.shape == "/"
    assert no_report.offsetgroup == fig.data[1].offsetgroup  # in the spent bar's place


def test_it_leaves_the_no_report_trace_out_when_every_row_reported():
    fig = _validated(charts.build_execution_figure(ROWS[:2], "t", "USD"))
    assert [t.name for t in fig.data] == ["budget", "spent"]


def test_it_writes_rates_the_spanish_way_in_spanish():
    with translation.override("es"):
        fig = _validated(charts.build_execution_figure(ROWS[:1], "t", "USD"))
    assert list(fig.data[1].text) == ["98,43 %"]
    assert fig.layout.separators == ", "


def test_it_says_so_when_there_is_no_figure():
    fig = _validated(charts.build_execution_figure([], "t", "USD"))
    assert fig.data == ()
    assert fig.layout.annotations[0].text == "No budget figures for these filters."


START, END = dt.date(2020, 11, 1), dt.date(2023, 5, 31)
PLANS = [
    {"agency": "ILO", "agency_name": "ILO", "revised": Decimal("700850")},
    {"agency": "UNHCR", "agency_name": "UNHCR", "revised": Decimal("500760")},
]
POINTS = [
    {"agency": "ILO", "date": dt.date(2022, 6, 30), "spent": Decimal("300000")},
    {"agency": "ILO", "date": dt.date(2023, 8, 3), "spent": Decimal("689832")},
]
MARKS = [
    (dt.date(2022, 11, 30), "original end"),
    (dt.date(2023, 2, 28), "extension 1"),
    (dt.date(2023, 5, 31), "extension 2"),
]


def _burn() -> go.Figure:
    return _validated(
        charts.build_burn_figure(
            POINTS, PLANS, start=START, end=END, marks=MARKS, title="t", currency="USD"
        )
    )


def test_it_draws_each_agency_budget_at_an_even_pace_from_start_to_end():
    fig = _burn()
    ilo_plan, ilo_spent, unhcr_plan = fig.data
    assert list(ilo_plan.x) == ["2020-11-01", "2023-05-31"]
    assert list(ilo_plan.y) == [0, 700850.0]
    assert ilo_plan.line.dash == "dot"
    assert ilo_plan.line.color == ilo_spent.line.color  # one colour per agency
    assert unhcr_plan.name == "UNHCR: budget at an even pace"
    assert fig.layout.xaxis.type == "date"


def test_it_draws_approved_spending_to_date_from_zero_at_the_start():
    spent = _burn().data[1]
    assert list(spent.x) == ["2020-11-01", "2022-06-30", "2023-08-03"]
    assert list(spent.y) == [0, 300000.0, 689832.0]
    assert spent.mode == "lines+markers"


def test_it_marks_the_original_end_and_each_extension():
    fig = _burn()
    assert [s.x0 for s in fig.layout.shapes] == ["2022-11-30", "2023-02-28", "2023-05-31"]
    assert [a.text for a in fig.layout.annotations] == [m[1] for m in MARKS]
    assert len({a.y for a in fig.layout.annotations}) == 3  # staggered, not on top of each other


CATEGORIES = [
    {"agency": a, "agency_name": a, "category": c, "category_name": n,
     "amount": Decimal(v), "share": Decimal("10")}
    for a, c, n, v in [
        ("ILO", "fund-staff", "Staff costs", "272800"),
        ("ILO", "fund-indirect", "Indirect support costs", "45851"),
        ("IOM", "fund-staff", "Staff costs", "136844"),
    ]
]  # fmt: skip


def test_it_stacks_each_agency_budget_by_category():
    fig = _validated(charts.build_category_figure(CATEGORIES, "t", "USD", []))
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["Staff costs", "Indirect support costs"]
    assert list(fig.data[0].x) == ["ILO", "IOM"]
    assert list(fig.data[0].y) == [272800.0, 136844.0]
    assert list(fig.data[1].y) == [45851.0, None]
    assert not fig.layout.annotations


def test_it_writes_the_indirect_ceiling_finding_above_the_bars():
    warning = "ILO: indirect support costs of 50000 are 7.63 % of its direct costs"
    fig = _validated(charts.build_category_figure(CATEGORIES, "t", "USD", [warning]))
    assert fig.layout.annotations[0].text == "⚠ " + warning


def _outcome(code: str, budget: str | None, spent: str | None = None, **counts: int):
    return {
        "outcome": code,
        "title": f"Outcome {code}",
        "budget": None if budget is None else Decimal(budget),
        "spent": None if spent is None else Decimal(spent),
        "counts": counts,
    }


def test_it_sets_each_outcome_budget_beside_its_indicators_status():
    rows = [
        _outcome("R1", "597100", achieved=12, at_risk=1),
        _outcome("R2", "108746", achieved=4),
        _outcome("R3", None, no_data=2),
    ]
    fig = _validated(charts.build_outcome_budget_figure(rows, "t", "USD"))
    budget, *statuses = fig.data
    assert list(budget.y) == ["R1", "R2", "R3"]
    assert list(budget.x) == [597100.0, 108746.0, None]
    assert budget.xaxis == "x"
    assert [t.name for t in statuses] == ["achieved", "at risk", "no data"]
    assert all(t.xaxis == "x2" and t.yaxis == "y" for t in statuses)
    assert list(statuses[0].x) == [12, 4, 0]
    assert fig.layout.xaxis.domain[1] < fig.layout.xaxis2.domain[0]  # side by side


def test_it_marks_outcome_spending_only_where_it_is_known():
    unknown = _validated(charts.build_outcome_budget_figure([_outcome("R1", "597100")], "t", "USD"))
    assert [t.name for t in unknown.data] == ["budget"]
    known = _validated(
        charts.build_outcome_budget_figure(
            [_outcome("R1", "597100", "400000", on_track=1)], "t", "USD"
        )
    )
    assert [t.name for t in known.data] == ["budget", "spent", str(Status.ON_TRACK.label)]
    assert list(known.data[1].x) == [400000.0]
