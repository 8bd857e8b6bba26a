"""Survey charts (DESIGN §5, §7): Likert (scale) results as diverging stacked bars and choices
as bars, one bar per group of respondents. Pure functions of plain rows, in the dashboards'
theme; the same builders draw computed results and published ``AggregateResult`` rows.

``levels`` / ``options``: [{"answer": key, "label": str, "top_box": bool}] in scale order.
``rows``: [{"group": str, "answer": key, "share": percent, "respondents": n}] — what
``results.result_rows`` gives and what ``AggregateResult.objects.values()`` holds."""

from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from budgets.imports import fold
from indicators.charts import GRID, INK, SERIES_COLOURS, _figure, _layout, empty_figure

from .results import SMALL_N

# A diverging palette (red–blue, readable by most colour-blind people): the levels left of
# the middle from the extreme inwards, those right of it from the middle outwards.
NEGATIVE = ["#67001f", "#b2182b", "#d6604d", "#f4a582"]
NEUTRAL = "#c8ced6"
POSITIVE = ["#92c5de", "#4393c3", "#2166ac", "#053061"]
SMALL_WARNING = "⚠"


def _answer_key(options: list[dict[str, Any]], answer: Any) -> str:
    """An answer as the option key it names (by key or label); a publication's combined
    answer ("4+5") as the keys of its parts in scale order; else as written."""
    keys = {fold(o["answer"]): o["answer"] for o in options}
    keys.update({fold(o["label"]): o["answer"] for o in options})
    if fold(answer) in keys:
        return keys[fold(answer)]
    parts = {keys.get(fold(part)) for part in str(answer).split("+")}
    if None in parts or len(parts) < 2:
        return str(answer)
    return "+".join(o["answer"] for o in options if o["answer"] in parts)


def _label(options: list[dict[str, Any]], key: str) -> str:
    labels = {o["answer"]: o["label"] for o in options}
    return " + ".join(labels.get(part, part) for part in key.split("+")) if key else key


def _share(rows: list[dict[str, Any]], options: list[dict[str, Any]]) -> dict[tuple, float]:
    """(group, answer key) → share."""
    return {
        (r["group"], _answer_key(options, r["answer"])): float(Decimal(r["share"]))
        for r in rows
        if r.get("share") is not None
    }


def _groups(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Each group's axis label, with its n and a warning sign under 30 respondents."""
    labels: dict[str, str] = {}
    for r in rows:
        if r["group"] in labels:
            continue
        n = r.get("respondents")
        label = str(r["group"]) if n is None else f"{r['group']} (n={n})"
        labels[r["group"]] = f"{SMALL_WARNING} {label}" if n is not None and n < SMALL_N else label
    return labels


def _warning(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The warning as a note under the chart, when a group has fewer than 30 respondents."""
    if not any(r.get("respondents") is not None and r["respondents"] < SMALL_N for r in rows):
        return []
    text = f"{SMALL_WARNING} " + _("fewer than 30 respondents: read with care")
    return [{"text": text, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0,
             "y": 0, "xanchor": "left", "yanchor": "top", "yshift": -36,
             "font": {"size": 11, "color": "#b8860b"}}]  # fmt: skip


def scale_sides(levels: list[dict[str, Any]]) -> tuple[list, dict | None, list]:
    """Levels below the middle, the neutral middle one (odd scales) and those above, worst
    first; a scale written best first (its top box at the start) is turned round."""
    order = list(levels)
    tops = [i for i, level in enumerate(order) if level.get("top_box")]
    if tops and max(tops) < len(order) / 2:
        order.reverse()
    half, odd = divmod(len(order), 2)
    return order[:half], order[half] if odd else None, order[half + odd :]


def _colours(palette: list[str], k: int) -> list[str]:
    """``k`` colours from the middle outwards; long scales (0–10) repeat the darkest."""
    return palette[:k] + [palette[-1]] * max(0, k - len(palette))


def _bar(level: dict, y: list[str], shares: list[float], sign: int, colour: str) -> dict:
    return {
        "type": "bar",
        "orientation": "h",
        "y": y,
        "x": [sign * s for s in shares],
        "name": level["label"],
        "legendgroup": level["answer"],
        "marker": {"color": colour},
        "customdata": shares,
        "text": [f"{s:.0f} %" if s >= 8 else "" for s in shares],
        "textposition": "inside",
        "insidetextanchor": "middle",
        "hovertemplate": "%{y}<br>" + level["label"] + ": %{customdata:.1f} %<extra></extra>",
    }


Segment = tuple[dict[str, Any], str]  # a level (or combined levels) and its colour


def _segments(
    levels: list[dict[str, Any]], keys: list[str]
) -> tuple[list[Segment], dict | None, list[Segment]]:
    """The bars left of zero (from the middle outwards), the neutral level, and those right
    of zero; a published "4+5" sits beyond its parts, in its outermost part's colour."""
    below, neutral, above = scale_sides(levels)
    left = list(zip(reversed(below), _colours(NEGATIVE[::-1], len(below)), strict=True))
    right = list(zip(above, _colours(POSITIVE, len(above)), strict=True))
    for key in dict.fromkeys(k for k in keys if "+" in k):
        parts = key.split("+")
        for side, outer in ((left, parts[0]), (right, parts[-1])):
            colours = {level["answer"]: colour for level, colour in side}
            if all(part in colours for part in parts):
                side.append(({"answer": key, "label": _label(levels, key)}, colours[outer]))
    return left, neutral, right


def build_scale_figure(
    levels: list[dict[str, Any]], rows: list[dict[str, Any]], title: str
) -> go.Figure:
    """Diverging stacked bars: the levels below the middle left of zero, the neutral level
    split across it, the upper (top-box) levels right of it; one bar per group."""
    shares = _share(rows, levels)
    if not levels or not shares:
        return empty_figure(title, _("No answers yet."))
    groups = _groups(rows)
    y = list(groups.values())
    left, neutral, right = _segments(levels, [k for _g, k in shares])

    def of(level: dict) -> list[float]:
        return [shares.get((g, level["answer"]), 0.0) for g in groups]

    traces = []
    if neutral is not None:  # first, so that it sits either side of zero
        for sign in (-1, 1):
            trace = _bar(neutral, y, [s / 2 for s in of(neutral)], sign, NEUTRAL)
            trace.update(customdata=of(neutral), showlegend=sign < 0, text=[""] * len(y))
            traces.append(trace)
    traces += [_bar(level, y, of(level), -1, colour) for level, colour in left]
    traces += [_bar(level, y, of(level), 1, colour) for level, colour in right]
    order = [*(lv for lv, _c in reversed(left)), neutral, *(lv for lv, _c in right)]
    rank = {level["answer"]: n for n, level in enumerate(order) if level}
    for trace in traces:
        trace["legendrank"] = rank[trace["legendgroup"]]
    return _figure(traces, _scale_layout(title, len(y), rows))


def _scale_layout(title: str, bars: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    ticks = [-100, -75, -50, -25, 0, 25, 50, 75, 100]
    return _layout(
        title,
        height=max(220, 130 + 44 * bars),
        barmode="relative",
        bargap=0.35,
        annotations=_warning(rows),
        yaxis={"autorange": "reversed", "type": "category", "automargin": True},
        xaxis={"range": [-100, 100], "tickvals": ticks, "zeroline": True,
               "ticktext": [f"{abs(t)} %" for t in ticks], "zerolinecolor": INK,
               "gridcolor": GRID, "title": {"text": _("% of respondents who answered")}},
    )  # fmt: skip


def build_choice_figure(
    options: list[dict[str, Any]], rows: list[dict[str, Any]], title: str
) -> go.Figure:
    """Bars: the share of respondents who chose each option (for multiple choice they add up
    to more than 100 %), one colour per group."""
    shares = _share(rows, options)
    if not shares:
        return empty_figure(title, _("No answers yet."))
    keys = [o["answer"] for o in options]
    keys += list(dict.fromkeys(k for _g, k in shares if k not in keys))  # printed, combined
    groups = _groups(rows)
    traces = []
    for n, (group, label) in enumerate(groups.items()):
        x = [shares.get((group, k), 0.0) for k in keys]
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "y": [_label(options, k) for k in keys],
                "x": x,
                "name": label,
                "marker": {"color": SERIES_COLOURS[n % len(SERIES_COLOURS)]},
                "text": [f"{s:.0f} %" for s in x],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": "%{y}: %{x:.1f} %<extra>" + label + "</extra>",
            }
        )
    return _figure(
        traces,
        _layout(
            title,
            height=max(220, 130 + 22 * len(keys) * len(groups)),
            barmode="group",
            annotations=_warning(rows),
            yaxis={"autorange": "reversed", "type": "category", "automargin": True},
            xaxis={"range": [0, 110], "gridcolor": GRID, "ticksuffix": " %",
                   "title": {"text": _("% of respondents who answered")}},
        ),
    )  # fmt: skip
