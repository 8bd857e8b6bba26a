"""Survey charts, every one rebuilt through Plotly's validators: Likert results as diverging
stacked bars (levels below the middle left of zero, the neutral level split across it, the
top levels right), choices as bars, the same builders drawing computed results and published
``AggregateResult`` rows, and the under-30 warning on the chart. No database needed."""

from decimal import Decimal

import plotly.graph_objects as go

from surveys import charts, results
from surveys.models import Question

from .test_results import SAT, twelve

LEVELS = [
    {"answer": "1", "label": "Very bad", "top_box": False},
    {"answer": "2", "label": "Bad", "top_box": False},
    {"answer": "3", "label": "Neither", "top_box": False},
    {"answer": "4", "label": "Good", "top_box": True},
    {"answer": "5", "label": "Very good", "top_box": True},
]


def _validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_plotly_json())


def _row(group: str, answer: str, share: str, n: int | None = 40) -> dict:
    return {"group": group, "answer": answer, "share": Decimal(share), "respondents": n}


def _by_name(fig: go.Figure) -> dict[str, list]:
    """Each trace's x values by legend name (the neutral level's two halves added up)."""
    out: dict[str, list] = {}
    for trace in fig.data:
        before = out.get(trace.name, [0.0] * len(trace.x))
        out[trace.name] = [a + b for a, b in zip(before, trace.x, strict=True)]
    return out


def test_scale_levels_diverge_around_zero_with_the_neutral_split():
    shares = {"1": "10", "2": "20", "3": "30", "4": "25", "5": "15"}
    rows = [_row("all", answer, share) for answer, share in shares.items()]
    fig = _validated(charts.build_scale_figure(LEVELS, rows, "t"))
    assert fig.layout.barmode == "relative"
    neutral = [t for t in fig.data if t.name == "Neither"]
    assert [list(t.x) for t in neutral] == [[-15.0], [15.0]]  # half of 30 on either side
    assert [t.showlegend for t in neutral] == [True, False]
    xs = {t.name: list(t.x) for t in fig.data if t.name != "Neither"}
    assert xs == {"Bad": [-20.0], "Very bad": [-10.0], "Good": [25.0], "Very good": [15.0]}
    # Stacked in this order, the extremes sit farthest from zero on each side.
    names = ["Neither", "Neither", "Bad", "Very bad", "Good", "Very good"]
    assert [t.name for t in fig.data] == names
    # The legend reads the scale in order; the hover gives the true (positive) share.
    ranks = {t.name: t.legendrank for t in fig.data}
    assert sorted(ranks, key=ranks.get) == ["Very bad", "Bad", "Neither", "Good", "Very good"]
    assert list(neutral[0].customdata) == [30.0]
    assert list(fig.layout.xaxis.range) == [-100, 100]


def test_a_bar_per_group_with_its_n_and_a_warning_under_30():
    rows = [_row("Santiago", "5", "60", n=29), _row("Mexico City", "5", "40", n=30)]
    fig = _validated(charts.build_scale_figure(LEVELS, rows, "t"))
    top = next(t for t in fig.data if t.name == "Very good")
    assert list(top.y) == ["⚠ Santiago (n=29)", "Mexico City (n=30)"]
    assert list(top.x) == [60.0, 40.0]
    assert "fewer than 30 respondents" in fig.layout.annotations[0].text


def test_no_warning_when_every_group_has_30():
    fig = _validated(charts.build_scale_figure(LEVELS, [_row("all", "5", "60", n=30)], "t"))
    assert not fig.layout.annotations


def test_computed_results_and_published_rows_draw_the_same():
    (block,) = [b for b in results.compute_results(twelve()) if b.question.code == "sat"]
    computed = charts.build_scale_figure(
        results.chart_options(SAT), results.result_rows(block), "t"
    )
    # AggregateResult rows as ``values()`` gives them: group as written, answers by level.
    published = [
        {"group": "all respondents", "answer": a, "share": Decimal(s), "respondents": 12,
         "count": None}
        for a, s in [("1", "8.3"), ("2", "16.7"), ("3", "16.7"), ("4", "33.3"), ("5", "25.0")]
    ]  # fmt: skip
    drawn = charts.build_scale_figure(results.chart_options(SAT), published, "t")
    assert _by_name(_validated(computed)) == _by_name(_validated(drawn))
    assert list(_validated(drawn).data[-1].y) == ["⚠ all respondents (n=12)"]


def test_published_answers_may_name_the_level_by_its_label():
    rows = [{"group": "all", "answer": "Very good", "share": Decimal("70"), "respondents": None}]
    fig = _validated(charts.build_scale_figure(LEVELS, rows, "t"))
    assert _by_name(fig)["Very good"] == [70.0]
    assert list(fig.data[0].y) == ["all"]  # n not printed: no n, no warning
    assert not fig.layout.annotations


def test_a_published_combined_top_box_is_drawn_beyond_its_levels():
    rows = [_row("all", "4+5", "73", 52), _row("all", "1+2", "9", 52), _row("all", "3", "18", 52)]
    fig = _validated(charts.build_scale_figure(LEVELS, rows, "t"))
    xs = _by_name(fig)
    assert xs["Good + Very good"] == [73.0]
    assert xs["Very bad + Bad"] == [-9.0]
    assert xs["Neither"] == [0.0]  # its halves: -9 + 9
    ranks = {t.name: t.legendrank for t in fig.data}
    assert sorted(ranks, key=ranks.get)[0] == "Very bad + Bad"
    assert sorted(ranks, key=ranks.get)[-1] == "Good + Very good"


def test_a_published_combined_choice_gets_its_labels():
    options = [{"answer": "b", "label": "Markets"}, {"answer": "c", "label": "Online"}]
    fig = _validated(charts.build_choice_figure(options, [_row("all", "b+c", "57", 44)], "t"))
    assert list(fig.data[0].y) == ["Markets", "Online", "Markets + Online"]
    assert list(fig.data[0].x) == [0.0, 0.0, 57.0]


def test_a_scale_written_best_first_is_turned_round():
    best_first = [dict(level, top_box=level["answer"] in ("1", "2")) for level in LEVELS]
    sides = charts.scale_sides(best_first)
    assert [lv["answer"] for lv in sides[0]] == ["5", "4"]
    assert [lv["answer"] for lv in sides[2]] == ["2", "1"]


def test_an_eleven_point_scale_keeps_every_level():
    levels = [{"answer": str(v), "label": str(v), "top_box": v >= 9} for v in range(11)]
    rows = [_row("all", str(v), "9") for v in range(11)]
    fig = _validated(charts.build_scale_figure(levels, rows, "t"))
    assert sorted(_by_name(fig)) == sorted(str(v) for v in range(11))


def test_choices_as_bars_one_colour_per_group():
    options = [{"answer": "jobs", "label": "Jobs"}, {"answer": "legal", "label": "Legal advice"}]
    rows = [_row("Santiago", "jobs", "70", 35), _row("Santiago", "legal", "30", 35),
            _row("Mexico City", "jobs", "50", 12)]  # fmt: skip
    fig = _validated(charts.build_choice_figure(options, rows, "t"))
    assert [t.name for t in fig.data] == ["Santiago (n=35)", "⚠ Mexico City (n=12)"]
    assert list(fig.data[0].y) == ["Jobs", "Legal advice"]
    assert list(fig.data[1].x) == [50.0, 0.0]
    assert fig.layout.barmode == "group"
    assert "fewer than 30 respondents" in fig.layout.annotations[0].text


def test_yes_no_is_drawn_as_choices():
    spec = next(q for q in twelve().questions if q.type == Question.Type.YES_NO)
    rows = [_row("all", "1", "75", 40), _row("all", "0", "25", 40)]
    fig = _validated(charts.build_choice_figure(results.chart_options(spec), rows, "t"))
    assert list(fig.data[0].y) == ["yes", "no"]
    assert list(fig.data[0].x) == [75.0, 25.0]


def test_no_answers_gives_an_empty_chart_with_a_message():
    for build in (charts.build_scale_figure, charts.build_choice_figure):
        fig = _validated(build(LEVELS, [], "t"))
        assert fig.data == ()
        assert "No answers yet" in fig.layout.annotations[0].text
