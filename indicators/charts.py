"""Plotly figure builders for the dashboards (DESIGN §5): pure functions of plain rows, one
shared theme. Pages ship the figures as JSON; static/js/charts.js draws them.

Traces and layouts are written as plain dicts and wrapped without Plotly's per-property
validation: validating took ~25 ms a figure, most of a page's budget. The dicts use only
documented Plotly attributes; ``tests/indicators/test_charts.py`` checks them against the
validators."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import Status

STATUS_COLOURS = {
    Status.ACHIEVED: "#1c7c3a",
    Status.ON_TRACK: "#6aa84f",
    Status.AT_RISK: "#e69138",
    Status.OFF_TRACK: "#c0392b",
    Status.NOT_ASSESSED: "#9aa5b1",
    Status.NO_DATA: "#d5dbe1",
}
SERIES_COLOURS = ["#1f5fa6", "#0b7a75", "#b8860b", "#7b4ea3", "#c0392b", "#3b7dd8", "#5b6775"]
GRID = "#eef1f4"
INK = "#1d2733"
# Bars are drawn up to this achievement so one 1,400 % figure does not flatten the rest; the
# label gives the true value.
ACHIEVEMENT_AXIS_MAX = 200


def status_label(status: str) -> str:
    return str(Status(status).label)


def _number(x: Any) -> float | None:
    return None if x is None else float(Decimal(x))


def _pct(x: Any) -> str:
    """A whole percentage, rounded half up like the tables beside the chart."""
    return f"{Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP):f} %"


def _layout(title: str, *, height: int = 420, **extra: Any) -> dict[str, Any]:
    spanish = (get_language() or "es").startswith("es")
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
        "font": {
            "family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif",
            "size": 12,
        },
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        # Decimal comma and thin-space thousands in Spanish, as in the rest of the interface.
        "separators": ", " if spanish else ".,",
        "hoverlabel": {"align": "left"},
    }
    layout.update(extra)
    return layout


def _figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    return go.Figure(data=traces, layout=layout, _validate=False)


def _line(axis: str, value: float, label: str, colour: str) -> tuple[dict, dict]:
    """A dashed reference line across the plot (x or y = value) and its label."""
    if axis == "x":
        shape = {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": value,
            "x1": value,
            "y0": 0,
            "y1": 1,
        }
        note = {"xref": "x", "yref": "paper", "x": value, "y": 1, "yanchor": "bottom"}
    else:
        shape = {
            "type": "line",
            "xref": "paper",
            "yref": "y",
            "x0": 0,
            "x1": 1,
            "y0": value,
            "y1": value,
        }
        note = {
            "xref": "paper",
            "yref": "y",
            "x": 0,
            "y": value,
            "xanchor": "left",
            "yanchor": "bottom",
        }
    shape["line"] = {"color": colour, "dash": "dash", "width": 1.5}
    note.update(text=label, showarrow=False, font={"size": 11, "color": colour})
    return shape, note


def figure_json(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain data for ``json_script``."""
    return fig.to_plotly_json()


def empty_figure(title: str, message: str) -> go.Figure:
    return _figure(
        [],
        _layout(
            title,
            height=220,
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": message,
                    "showarrow": False,
                    "x": 0.5,
                    "y": 0.5,
                    "xref": "paper",
                    "yref": "paper",
                    "font": {"size": 13, "color": "#5b6775"},
                }
            ],
        ),
    )


def build_status_by_group_figure(groups: list[dict[str, Any]], title: str) -> go.Figure:
    """Stacked bars: how many indicators of each group (outcome, city, agency) are in each
    status. ``groups``: [{"label": str, "counts": {status: n}, "title": optional hover}]."""
    if not groups:
        return empty_figure(title, _("No indicators."))
    labels = [g["label"] for g in groups]
    names = [g.get("title") or g["label"] for g in groups]
    traces = []
    for status, colour in STATUS_COLOURS.items():
        counts = [g["counts"].get(status, 0) for g in groups]
        if any(counts):
            traces.append(
                {
                    "type": "bar",
                    "orientation": "h",
                    "y": labels,
                    "x": counts,
                    "name": status_label(status),
                    "marker": {"color": colour},
                    "customdata": names,
                    "hovertemplate": "%{customdata}: %{x}<extra>"
                    + status_label(status)
                    + "</extra>",
                }
            )
    largest = max(sum(g["counts"].values()) for g in groups)
    xaxis: dict[str, Any] = {"title": {"text": _("indicators")}, "gridcolor": GRID}
    xaxis.update({"dtick": 1} if largest <= 12 else {"tickformat": "d"})
    return _figure(
        traces,
        _layout(
            title,
            height=max(220, 70 + 42 * len(groups)),
            barmode="stack",
            yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
            xaxis=xaxis,
        ),
    )


def build_achievement_figure(rows: list[dict[str, Any]], title: str) -> go.Figure:
    """Achievement against target per indicator (bars), with the 100 % line. Rows without a
    target are left out (they cannot be compared)."""
    rows = [r for r in rows if r.get("achievement") is not None]
    if not rows:
        return empty_figure(title, _("No approved figure has a target to compare with."))
    codes = [r.get("label") or r["code"] for r in rows]
    actual, target = _("actual"), _("target")
    hover = [
        f"<b>{label}</b> {r['name'][:90]}<br>{actual}: {_fmt(r['actual'])} · "
        f"{target}: {_fmt(r['target'])}<br>{status_label(r['status'])}"
        for label, r in zip(codes, rows, strict=True)
    ]
    shape, note = _line("x", 100, target, INK)
    bar = {
        "type": "bar",
        "orientation": "h",
        "y": codes,
        "x": [min(_number(r["achievement"]) or 0, ACHIEVEMENT_AXIS_MAX) for r in rows],
        "text": [_pct(r["achievement"]) for r in rows],
        "textposition": "outside",
        "marker": {"color": [STATUS_COLOURS[r["status"]] for r in rows]},
        "hovertext": hover,
        "hoverinfo": "text",
        "cliponaxis": False,
        "name": _("achievement"),
    }
    return _figure(
        [bar],
        _layout(
            title,
            height=max(240, 80 + 28 * len(rows)),
            showlegend=False,
            shapes=[shape],
            annotations=[note],
            yaxis={"autorange": "reversed", "type": "category", "automargin": True},
            xaxis={
                "title": {"text": _("% of target")},
                "range": [0, ACHIEVEMENT_AXIS_MAX * 1.12],
                "gridcolor": GRID,
                "ticksuffix": " %",
            },
        ),
    )


def build_city_comparison_figure(rows: list[dict[str, Any]], title: str) -> go.Figure:
    """Grouped bars: achievement per indicator, one colour per city."""
    rows = [r for r in rows if r.get("achievement") is not None]
    if not rows:
        return empty_figure(title, _("No city has a figure with a target yet."))
    codes = list(dict.fromkeys(r["code"] for r in rows))
    cities = list(dict.fromkeys(r["city_name"] for r in rows))
    traces = []
    for n, city in enumerate(cities):
        mine = {r["code"]: r for r in rows if r["city_name"] == city}
        traces.append(
            {
                "type": "bar",
                "x": codes,
                "name": city,
                "y": [
                    min(_number(mine[c]["achievement"]) or 0, ACHIEVEMENT_AXIS_MAX)
                    if c in mine
                    else None
                    for c in codes
                ],
                "marker": {"color": SERIES_COLOURS[n % len(SERIES_COLOURS)]},
                "hovertext": [
                    (
                        f"{city} · {c}: {_fmt(mine[c]['actual'])} / {_fmt(mine[c]['target'])} "
                        f"({_pct(mine[c]['achievement'])})"
                    )
                    if c in mine
                    else ""
                    for c in codes
                ],
                "hoverinfo": "text",
            }
        )
    shape, note = _line("y", 100, _("target"), INK)
    return _figure(
        traces,
        _layout(
            title,
            height=440,
            barmode="group",
            shapes=[shape],
            annotations=[note],
            yaxis={
                "title": {"text": _("% of target")},
                "ticksuffix": " %",
                "gridcolor": GRID,
                "range": [0, ACHIEVEMENT_AXIS_MAX * 1.05],
            },
            xaxis={"type": "category"},
        ),
    )


def build_agency_contributions_figure(
    rows: list[dict[str, Any]], totals: dict[str, Any], title: str
) -> go.Figure:
    """Stacked bars of each agency's figure per indicator (figures that add up only), with the
    programme's total as a marker: where agencies served the same people, the consolidated
    total sits below the stack."""
    if not rows:
        return empty_figure(title, _("No agency has reported figures of its own yet."))
    codes = list(dict.fromkeys(r["code"] for r in rows))
    agencies = list(dict.fromkeys(r["agency_name"] for r in rows))
    traces = []
    for n, agency in enumerate(agencies):
        mine = {r["code"]: r for r in rows if r["agency_name"] == agency}
        traces.append(
            {
                "type": "bar",
                "x": codes,
                "name": agency,
                "y": [_number(mine[c]["actual"]) if c in mine else None for c in codes],
                "marker": {"color": SERIES_COLOURS[n % len(SERIES_COLOURS)]},
            }
        )
    marked = [c for c in codes if totals.get(c) is not None]
    if marked:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": marked,
                "name": _("programme total"),
                "y": [_number(totals[c]) for c in marked],
                "marker": {
                    "symbol": "line-ew-open",
                    "size": 26,
                    "color": INK,
                    "line": {"width": 3},
                },
            }
        )
    return _figure(
        traces,
        _layout(
            title,
            height=460,
            barmode="stack",
            xaxis={"type": "category"},
            yaxis={"title": {"text": _("figure to date")}, "gridcolor": GRID},
        ),
    )


def build_indicator_series_figure(
    rows: list[dict[str, Any]], *, target: Any, title: str, cumulative: bool
) -> go.Figure:
    """The indicator over time, one row per period with data: the period's figure (bars), the
    figure to date (line) where periods add up, what was expected by then (dotted) and the
    target (dashed)."""
    if not rows:
        return empty_figure(title, _("No approved figures yet."))
    periods = [r["period_name"] for r in rows]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "x": periods,
            "y": [_number(r["period_actual"]) for r in rows],
            "name": _("in the period"),
            "marker": {"color": "#9ec5ea"},
        }
    ]
    if cumulative:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": periods,
                "y": [_number(r["actual"]) for r in rows],
                "name": _("to date"),
                "line": {"color": "#1f5fa6", "width": 3},
            }
        )
    expected = [r for r in rows if r.get("expected") is not None]
    if expected:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [r["period_name"] for r in expected],
                "y": [_number(r["expected"]) for r in expected],
                "name": _("expected by then"),
                "line": {"color": "#e69138", "dash": "dot"},
            }
        )
    extra: dict[str, Any] = {}
    if target is not None:
        shape, note = _line("y", _number(target) or 0, _("target"), "#1c7c3a")
        extra = {"shapes": [shape], "annotations": [note]}
    return _figure(
        traces,
        _layout(
            title,
            height=400,
            xaxis={"type": "category"},
            yaxis={"gridcolor": GRID, "rangemode": "tozero"},
            **extra,
        ),
    )


def build_disaggregation_figure(rows: list[dict[str, Any]], title: str) -> go.Figure:
    """The latest figure per disaggregation cell, one group of bars per dimension."""
    if not rows:
        return empty_figure(title, _("No disaggregated figures."))
    traces = []
    for n, dim in enumerate(dict.fromkeys(r["dimension"] for r in rows)):
        mine = [r for r in rows if r["dimension"] == dim]
        traces.append(
            {
                "type": "bar",
                "x": [r["category_name"] for r in mine],
                "y": [_number(r["actual"]) for r in mine],
                "name": dim,
                "marker": {"color": SERIES_COLOURS[n % len(SERIES_COLOURS)]},
            }
        )
    return _figure(
        traces,
        _layout(
            title,
            height=360,
            barmode="group",
            xaxis={"type": "category"},
            yaxis={"gridcolor": GRID, "rangemode": "tozero"},
        ),
    )


COMPLIANCE_CODES = {
    "approved": 4,
    "submitted": 3,
    "late": 2,
    "draft": 1,
    "missing": 0,
    "not_due": -1,
}
COMPLIANCE_COLOURS = ["#eef1f4", "#c0392b", "#f4c7a1", "#e69138", "#9ec5ea", "#1c7c3a"]


def build_compliance_figure(
    reporters: list[str],
    periods: list[str],
    cells: dict[tuple[str, str], str],
    labels: dict[str, str],
    title: str,
) -> go.Figure:
    """Heat map: each agency in each city (rows) × each quarter (columns), coloured by the
    state of its report."""
    if not reporters or not periods:
        return empty_figure(title, _("No quarterly reports are due yet."))
    z = [[COMPLIANCE_CODES[cells.get((r, p), "not_due")] for p in periods] for r in reporters]
    text = [[labels[cells.get((r, p), "not_due")] for p in periods] for r in reporters]
    scale = []
    for n, colour in enumerate(COMPLIANCE_COLOURS):
        scale += [
            [n / len(COMPLIANCE_COLOURS), colour],
            [(n + 1) / len(COMPLIANCE_COLOURS), colour],
        ]
    heatmap = {
        "type": "heatmap",
        "z": z,
        "x": periods,
        "y": reporters,
        "text": text,
        "hoverinfo": "text+x+y",
        "colorscale": scale,
        "zmin": -1.5,
        "zmax": 4.5,
        "showscale": False,
        "xgap": 2,
        "ygap": 2,
    }
    return _figure(
        [heatmap],
        _layout(
            title,
            height=max(240, 90 + 34 * len(reporters)),
            yaxis={"autorange": "reversed", "type": "category", "automargin": True},
            xaxis={"type": "category", "side": "top"},
        ),
    )


def _fmt(x: Any) -> str:
    if x is None:
        return "—"
    number = Decimal(x)
    return f"{number:,.0f}" if number == number.to_integral_value() else f"{number:,.2f}"
