"""Plotly figure builders for the dashboards (DESIGN §5): pure functions of plain rows,
one shared theme. Pages ship the figures as JSON; static/js/charts.js draws them."""

import json
from decimal import Decimal
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
# Bars are drawn up to this achievement so one 1,400 % figure does not flatten the rest; the
# label gives the true value.
ACHIEVEMENT_AXIS_MAX = 200


def status_label(status: str) -> str:
    return str(Status(status).label)


def _number(x: Any) -> float | None:
    return None if x is None else float(Decimal(x))


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


def figure_json(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data for ``json_script``."""
    return json.loads(fig.to_json())


def empty_figure(title: str, message: str) -> go.Figure:
    fig = go.Figure(layout=_layout(title, height=220))
    fig.add_annotation(
        text=message,
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"size": 13, "color": "#5b6775"},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def build_status_by_group_figure(groups: list[dict[str, Any]], title: str) -> go.Figure:
    """Stacked bars: how many indicators of each group (outcome, city, agency) are in each
    status. ``groups``: [{"label": str, "counts": {status: n}}]."""
    if not groups:
        return empty_figure(title, _("No indicators."))
    labels = [g["label"] for g in groups]
    fig = go.Figure(layout=_layout(title, height=max(220, 70 + 42 * len(groups)), barmode="stack"))
    for status in STATUS_COLOURS:
        counts = [g["counts"].get(status, 0) for g in groups]
        if any(counts):
            fig.add_bar(
                y=labels,
                x=counts,
                orientation="h",
                name=status_label(status),
                marker_color=STATUS_COLOURS[status],
                hovertemplate="%{y}: %{x}<extra>" + status_label(status) + "</extra>",
            )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title_text=_("indicators"), dtick=1, gridcolor="#eef1f4")
    return fig


def build_achievement_figure(rows: list[dict[str, Any]], title: str) -> go.Figure:
    """Achievement against target per indicator (bars), with the 100 % line. Rows without a
    target are left out (they cannot be compared)."""
    rows = [r for r in rows if r.get("achievement") is not None]
    if not rows:
        return empty_figure(title, _("No approved figure has a target to compare with."))
    codes = [r.get("label") or r["code"] for r in rows]
    shown = [min(_number(r["achievement"]) or 0, ACHIEVEMENT_AXIS_MAX) for r in rows]
    text = [f"{_number(r['achievement']):.0f} %" for r in rows]
    actual, target = _("actual"), _("target")
    hover = [
        f"<b>{label}</b> {r['name'][:90]}<br>{actual}: {_fmt(r['actual'])} · "
        f"{target}: {_fmt(r['target'])}<br>{status_label(r['status'])}"
        for label, r in zip(codes, rows, strict=True)
    ]
    fig = go.Figure(layout=_layout(title, height=max(240, 80 + 28 * len(rows))))
    fig.add_bar(
        y=codes,
        x=shown,
        orientation="h",
        text=text,
        textposition="outside",
        marker_color=[STATUS_COLOURS[r["status"]] for r in rows],
        hovertext=hover,
        hoverinfo="text",
        cliponaxis=False,
        name=_("achievement"),
    )
    fig.add_vline(
        x=100,
        line_dash="dash",
        line_color="#1d2733",
        annotation_text=_("target"),
        annotation_position="top",
    )
    fig.update_yaxes(autorange="reversed", type="category", automargin=True)
    fig.update_xaxes(
        title_text=_("% of target"),
        range=[0, ACHIEVEMENT_AXIS_MAX * 1.12],
        gridcolor="#eef1f4",
        ticksuffix=" %",
    )
    fig.update_layout(showlegend=False)
    return fig


def build_city_comparison_figure(rows: list[dict[str, Any]], title: str) -> go.Figure:
    """Grouped bars: achievement per indicator, one colour per city."""
    rows = [r for r in rows if r.get("achievement") is not None]
    if not rows:
        return empty_figure(title, _("No city has a figure with a target yet."))
    codes = list(dict.fromkeys(r["code"] for r in rows))
    cities = list(dict.fromkeys(r["city_name"] for r in rows))
    fig = go.Figure(layout=_layout(title, height=440, barmode="group"))
    for n, city in enumerate(cities):
        mine = {r["code"]: r for r in rows if r["city_name"] == city}
        fig.add_bar(
            x=codes,
            y=[
                min(_number(mine[c]["achievement"]) or 0, ACHIEVEMENT_AXIS_MAX)
                if c in mine
                else None
                for c in codes
            ],
            name=city,
            marker_color=SERIES_COLOURS[n % len(SERIES_COLOURS)],
            hovertext=[
                (
                    f"{city} · {c}: {_fmt(mine[c]['actual'])} / {_fmt(mine[c]['target'])} "
                    f"({_number(mine[c]['achievement']):.0f} %)"
                )
                if c in mine
                else ""
                for c in codes
            ],
            hoverinfo="text",
        )
    fig.add_hline(y=100, line_dash="dash", line_color="#1d2733")
    fig.update_yaxes(
        title_text=_("% of target"),
        ticksuffix=" %",
        gridcolor="#eef1f4",
        range=[0, ACHIEVEMENT_AXIS_MAX * 1.05],
    )
    fig.update_xaxes(type="category")
    return fig


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
    fig = go.Figure(layout=_layout(title, height=460, barmode="stack"))
    for n, agency in enumerate(agencies):
        mine = {r["code"]: r for r in rows if r["agency_name"] == agency}
        fig.add_bar(
            x=codes,
            y=[_number(mine[c]["actual"]) if c in mine else None for c in codes],
            name=agency,
            marker_color=SERIES_COLOURS[n % len(SERIES_COLOURS)],
        )
    marked = [c for c in codes if totals.get(c) is not None]
    if marked:
        fig.add_scatter(
            x=marked,
            y=[_number(totals[c]) for c in marked],
            mode="markers",
            name=_("programme total"),
            marker={"symbol": "line-ew-open", "size": 26, "color": "#1d2733", "line": {"width": 3}},
        )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text=_("figure to date"), gridcolor="#eef1f4")
    return fig


def build_indicator_series_figure(
    rows: list[dict[str, Any]], *, target: Any, title: str, cumulative: bool
) -> go.Figure:
    """The indicator over time, one row per period with data: the period's figure (bars), the
    figure to date (line) where periods add up, what was expected by then (dotted) and the
    target (dashed)."""
    if not rows:
        return empty_figure(title, _("No approved figures yet."))
    periods = [r["period_name"] for r in rows]
    fig = go.Figure(layout=_layout(title, height=400))
    fig.add_bar(
        x=periods,
        y=[_number(r["period_actual"]) for r in rows],
        name=_("in the period"),
        marker_color="#9ec5ea",
    )
    if cumulative:
        fig.add_scatter(
            x=periods,
            y=[_number(r["actual"]) for r in rows],
            mode="lines+markers",
            name=_("to date"),
            line={"color": "#1f5fa6", "width": 3},
        )
    expected = [r for r in rows if r.get("expected") is not None]
    if expected:
        fig.add_scatter(
            x=[r["period_name"] for r in expected],
            y=[_number(r["expected"]) for r in expected],
            mode="lines",
            name=_("expected by then"),
            line={"color": "#e69138", "dash": "dot"},
        )
    if target is not None:
        fig.add_hline(
            y=_number(target),
            line_dash="dash",
            line_color="#1c7c3a",
            annotation_text=_("target"),
            annotation_position="top left",
        )
    fig.update_xaxes(type="category")
    fig.update_yaxes(gridcolor="#eef1f4", rangemode="tozero")
    return fig


def build_disaggregation_figure(rows: list[dict[str, Any]], title: str) -> go.Figure:
    """The latest figure per disaggregation cell, one group of bars per dimension."""
    if not rows:
        return empty_figure(title, _("No disaggregated figures."))
    fig = go.Figure(layout=_layout(title, height=360, barmode="group"))
    dimensions = list(dict.fromkeys(r["dimension"] for r in rows))
    for n, dim in enumerate(dimensions):
        mine = [r for r in rows if r["dimension"] == dim]
        fig.add_bar(
            x=[r["category_name"] for r in mine],
            y=[_number(r["actual"]) for r in mine],
            name=dim,
            marker_color=SERIES_COLOURS[n % len(SERIES_COLOURS)],
        )
    fig.update_xaxes(type="category")
    fig.update_yaxes(gridcolor="#eef1f4", rangemode="tozero")
    return fig


COMPLIANCE_CODES = {
    "approved": 4,
    "submitted": 3,
    "late": 2,
    "draft": 1,
    "missing": 0,
    "not_due": -1,
}


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
    colours = ["#eef1f4", "#c0392b", "#f4c7a1", "#e69138", "#9ec5ea", "#1c7c3a"]
    scale = []
    for n, colour in enumerate(colours):
        scale += [[n / len(colours), colour], [(n + 1) / len(colours), colour]]
    fig = go.Figure(layout=_layout(title, height=max(240, 90 + 34 * len(reporters))))
    fig.add_heatmap(
        z=z,
        x=periods,
        y=reporters,
        text=text,
        hoverinfo="text+x+y",
        colorscale=scale,
        zmin=-1.5,
        zmax=4.5,
        showscale=False,
        xgap=2,
        ygap=2,
    )
    fig.update_yaxes(autorange="reversed", type="category", automargin=True)
    fig.update_xaxes(type="category", side="top")
    return fig


def _fmt(x: Any) -> str:
    if x is None:
        return "—"
    number = Decimal(x)
    return f"{number:,.0f}" if number == number.to_integral_value() else f"{number:,.2f}"
