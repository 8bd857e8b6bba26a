"""Plotly figure builders for the budget dashboard: pure functions of plain rows, drawn in the
dashboards' one theme (indicators.charts) and, like those, written as plain dicts that
``tests/budgets/test_charts.py`` checks against Plotly's validators."""

import datetime as dt
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from indicators import charts as theme
from monitoring.templatetags.figures import format_figure

BUDGET_COLOUR = "#c9d6e3"
SPENT_COLOUR = "#1f5fa6"
OVERSPENT_COLOUR = "#c0392b"
NO_REPORT_COLOUR = "#9aa5b1"
CATEGORY_COLOURS = [
    "#1f5fa6", "#3b7dd8", "#9ec5ea", "#0b7a75", "#b8860b", "#7b4ea3", "#c0392b", "#5b6775",
]  # fmt: skip


def _money(x: Any) -> str:
    return format_figure(x)


def _percent(x: Any) -> str:
    return format_figure(x, "percent")


def execution_label(row: dict[str, Any]) -> str:
    """What the spent bar says: the execution rate, with the lines that did not report; a
    row where nothing reported says so instead of showing zero."""
    if row["spent"] is None:
        return _("no report")
    text = _percent(row["execution"])
    if row["missing"]:
        text += "<br>" + ngettext(
            "(%(n)s line: no report)", "(%(n)s lines: no report)", row["missing"]
        ) % {"n": row["missing"]}
    return text


def _execution_hover(row: dict[str, Any], currency: str) -> str:
    spent = _("no expenditure reported") if row["spent"] is None else _money(row["spent"])
    return (
        f"<b>{row['label']}</b><br>{_('budget')}: {_money(row['revised'])} {currency}"
        f"<br>{_('spent')}: {spent}<br>{execution_label(row)}"
    )


def build_execution_figure(rows: list[dict[str, Any]], title: str, currency: str) -> go.Figure:
    """Grouped bars, spent beside budget, labelled with the execution rate. A row without any
    expenditure gets a hatched "no report" bar at its budget's height: unknown, not zero."""
    if not rows:
        return theme.empty_figure(title, _("No budget figures for these filters."))
    labels = [r["label"] for r in rows]
    hover = [_execution_hover(r, currency) for r in rows]
    common: dict[str, Any] = {"type": "bar", "x": labels, "hovertext": hover, "hoverinfo": "text"}
    budget = {**common, "y": [theme._number(r["revised"]) for r in rows], "name": _("budget"),
              "marker": {"color": BUDGET_COLOUR}, "offsetgroup": "budget"}  # fmt: skip
    spent = {
        **common,
        "y": [theme._number(r["spent"]) for r in rows],
        "name": _("spent"),
        "text": [execution_label(r) if r["spent"] is not None else "" for r in rows],
        "textposition": "outside",
        "textangle": 0,
        "constraintext": "none",  # the rate stays legible above a narrow bar
        "cliponaxis": False,
        "offsetgroup": "spent",
        "marker": {"color": [_spent_colour(r) for r in rows]},
    }
    traces: list[dict[str, Any]] = [budget, spent]
    if any(r["spent"] is None for r in rows):
        traces.append(_no_report_trace(rows, common))
    return theme._figure(
        traces,
        theme._layout(
            title,
            height=420,
            barmode="group",
            xaxis={"type": "category"},
            yaxis={"title": {"text": currency}, "gridcolor": theme.GRID, "rangemode": "tozero"},
        ),
    )


def _spent_colour(row: dict[str, Any]) -> str:
    over = row["spent"] is not None and row["revised"] is not None and row["spent"] > row["revised"]
    return OVERSPENT_COLOUR if over else SPENT_COLOUR


def _no_report_trace(rows: list[dict[str, Any]], common: dict[str, Any]) -> dict[str, Any]:
    """In the spent bar's place (same offset group), hatched and labelled."""
    return {
        **common,
        "y": [theme._number(r["revised"]) if r["spent"] is None else None for r in rows],
        "name": _("no report"),
        "text": [_("no report") if r["spent"] is None else "" for r in rows],
        "textposition": "outside",
        "textangle": 0,
        "constraintext": "none",
        "cliponaxis": False,
        "offsetgroup": "spent",
        "marker": {
            "color": "rgba(255,255,255,0)",
            "line": {"color": NO_REPORT_COLOUR, "width": 1},
            "pattern": {"shape": "/", "fgcolor": NO_REPORT_COLOUR, "size": 8},
        },
    }


def build_burn_figure(
    points: list[dict[str, Any]],
    plans: list[dict[str, Any]],
    *,
    start: dt.date,
    end: dt.date,
    marks: list[tuple[dt.date, str]],
    title: str,
    currency: str,
) -> go.Figure:
    """Per agency: its budget spent evenly from start to end (dotted) and its approved
    spending to date at each date it reported (solid, from zero at the start); the original
    end and each no-cost extension as dashed vertical lines."""
    if not plans:
        return theme.empty_figure(title, _("No budget figures for these filters."))
    traces: list[dict[str, Any]] = []
    for n, plan in enumerate(plans):
        colour = theme.SERIES_COLOURS[n % len(theme.SERIES_COLOURS)]
        name = plan["agency_name"]
        traces.append(
            {"type": "scatter", "mode": "lines", "x": [start.isoformat(), end.isoformat()],
             "y": [0, theme._number(plan["revised"])], "legendgroup": name,
             "name": _("%(agency)s: budget at an even pace") % {"agency": name},
             "line": {"color": colour, "dash": "dot", "width": 1.5}}
        )  # fmt: skip
        mine = [p for p in points if p["agency"] == plan["agency"]]
        if mine:
            traces.append(
                {"type": "scatter", "mode": "lines+markers", "legendgroup": name,
                 "x": [start.isoformat(), *(p["date"].isoformat() for p in mine)],
                 "y": [0, *(theme._number(p["spent"]) for p in mine)],
                 "name": _("%(agency)s: spent (approved)") % {"agency": name},
                 "line": {"color": colour, "width": 3}}
            )  # fmt: skip
    shapes, notes = _date_marks(marks)
    return theme._figure(
        traces,
        theme._layout(
            title,
            height=460,
            margin={"l": 70, "r": 20, "t": 110, "b": 50},
            shapes=shapes,
            annotations=notes,
            xaxis={"type": "date", "gridcolor": theme.GRID},
            yaxis={"title": {"text": currency}, "gridcolor": theme.GRID, "rangemode": "tozero"},
        ),
    )


def _date_marks(marks: list[tuple[dt.date, str]]) -> tuple[list[dict], list[dict]]:
    """Dashed vertical lines with their labels, staggered so close dates stay legible."""
    shapes, notes = [], []
    for n, (day, label) in enumerate(marks):
        x = day.isoformat()
        shapes.append(
            {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
             "line": {"color": theme.INK, "dash": "dash", "width": 1}}
        )  # fmt: skip
        notes.append(
            {"xref": "x", "yref": "paper", "x": x, "y": 0.98 - 0.07 * (n % 3), "text": label,
             "showarrow": False, "xanchor": "right", "yanchor": "top",
             "font": {"size": 10, "color": theme.INK}, "bgcolor": "rgba(255,255,255,0.8)"}
        )  # fmt: skip
    return shapes, notes


def build_category_figure(
    rows: list[dict[str, Any]], title: str, currency: str, warnings: list[str]
) -> go.Figure:
    """Stacked bars: each agency's budget by category. ``warnings`` (the indirect-cost
    ceiling findings) are written above the plot."""
    if not rows:
        return theme.empty_figure(title, _("No budget by category for these filters."))
    agencies = list(dict.fromkeys(r["agency_name"] for r in rows))
    categories = list(dict.fromkeys((r["category"], r["category_name"]) for r in rows))
    traces = []
    for n, (code, name) in enumerate(categories):
        mine = {r["agency_name"]: r for r in rows if r["category"] == code}
        traces.append(
            {"type": "bar", "x": agencies, "name": name,
             "y": [theme._number(mine[a]["amount"]) if a in mine else None for a in agencies],
             "hovertext": [_category_hover(mine.get(a), currency) for a in agencies],
             "hoverinfo": "text",
             "marker": {"color": CATEGORY_COLOURS[n % len(CATEGORY_COLOURS)]}}
        )  # fmt: skip
    notes = [
        {"xref": "paper", "yref": "paper", "x": 0, "y": 1.0 + 0.06 * (n + 1), "text": "⚠ " + w,
         "showarrow": False, "xanchor": "left", "font": {"size": 11, "color": OVERSPENT_COLOUR}}
        for n, w in enumerate(warnings)
    ]  # fmt: skip
    return theme._figure(
        traces,
        theme._layout(
            title,
            height=480 + 24 * len(warnings),
            barmode="stack",
            annotations=notes,
            legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.12, "yanchor": "top"},
            margin={"l": 70, "r": 20, "t": 70 + 24 * len(warnings), "b": 40},
            xaxis={"type": "category"},
            yaxis={"title": {"text": currency}, "gridcolor": theme.GRID},
        ),
    )


def _category_hover(row: dict[str, Any] | None, currency: str) -> str:
    if row is None:
        return ""
    return (
        f"<b>{row['agency_name']}</b> · {row['category_name']}<br>"
        f"{_money(row['amount'])} {currency} ({_percent(row['share'])})"
    )


def build_outcome_budget_figure(rows: list[dict[str, Any]], title: str, currency: str) -> go.Figure:
    """Two panels on one outcome axis: each outcome's budget (and spending, where known) on
    the left; its indicators by status, stacked, on the right."""
    if not rows:
        return theme.empty_figure(title, _("No outcomes for these filters."))
    labels = [r["outcome"] for r in rows]
    titles = [f"<b>{r['outcome']}</b> {r['title'][:80]}" for r in rows]
    traces: list[dict[str, Any]] = [
        {"type": "bar", "orientation": "h", "y": labels, "xaxis": "x", "yaxis": "y",
         "x": [theme._number(r["budget"]) for r in rows], "name": _("budget"),
         "text": [_money(r["budget"]) if r["budget"] is not None else "" for r in rows],
         "textposition": "auto", "marker": {"color": BUDGET_COLOUR}, "hoverinfo": "text",
         "hovertext": [f"{t}<br>{_('budget')}: {_money(r['budget'])} {currency}"
                       for t, r in zip(titles, rows, strict=True)]}
    ]  # fmt: skip
    if any(r["spent"] is not None for r in rows):
        traces.append(
            {"type": "scatter", "mode": "markers", "y": labels, "xaxis": "x", "yaxis": "y",
             "x": [theme._number(r["spent"]) for r in rows], "name": _("spent"),
             "marker": {"symbol": "diamond", "size": 12, "color": SPENT_COLOUR}}
        )  # fmt: skip
    traces += _status_traces(rows, labels, titles)
    return theme._figure(
        traces,
        theme._layout(
            title,
            height=max(260, 110 + 56 * len(rows)),
            barmode="stack",
            legend={"orientation": "h", "traceorder": "normal", "x": 1, "xanchor": "right",
                    "y": 1.0, "yanchor": "bottom"},
            yaxis={"type": "category", "autorange": "reversed", "automargin": True},
            xaxis={"domain": [0, 0.46], "title": {"text": currency}, "gridcolor": theme.GRID,
                   "rangemode": "tozero"},
            xaxis2={"domain": [0.56, 1], "anchor": "y", "gridcolor": theme.GRID,
                    "title": {"text": _("indicators by status")}, "rangemode": "tozero"},
        ),
    )  # fmt: skip


def _status_traces(
    rows: list[dict[str, Any]], labels: list[str], titles: list[str]
) -> list[dict[str, Any]]:
    traces = []
    for status, colour in theme.STATUS_COLOURS.items():
        counts = [r["counts"].get(status, 0) for r in rows]
        if any(counts):
            name = theme.status_label(status)
            traces.append(
                {"type": "bar", "orientation": "h", "y": labels, "x": counts, "xaxis": "x2",
                 "yaxis": "y", "name": name, "marker": {"color": colour}, "hoverinfo": "text",
                 "hovertext": [f"{t}<br>{name}: {c}" for t, c in zip(titles, counts, strict=True)]}
            )  # fmt: skip
    return traces
