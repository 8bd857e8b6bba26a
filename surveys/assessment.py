"""An assessment's figures (DESIGN §7): the unit × item heat map (a municipality × indicator
grid, say) and each unit's score per dimension. Pure functions of plain data, tested without a
database; the page builds the data in ``assessment_views``.

A cell without a level is "not assessed": it is shown as such and left out of the scores,
never counted as a zero. A dimension score is the mean level over the items assessed, and
always travels with its coverage ("k of n assessed"), so a high mean over two items is not
read like one over nine."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The dashboards' theme, shared so every chart of the platform looks the same.
from indicators.charts import GRID, SERIES_COLOURS, _figure, _layout, empty_figure

# Absent → institutionalised; a cell not assessed is grey, apart from every level.
LEVEL_COLOURS = ["#c0392b", "#f4c7a1", "#9ec5ea", "#1c7c3a"]
NOT_ASSESSED_COLOUR = "#d5dbe1"
CENT = Decimal("0.01")

EVIDENCE_LABELS = {
    "explicit": gettext_lazy("the source names the municipality"),
    "cross_reference": gettext_lazy("stated elsewhere in the source"),
    "universal_statement": gettext_lazy("a statement covering all municipalities"),
    "by_exclusion": gettext_lazy("deduced by exclusion"),
    "aggregate": gettext_lazy("a general statement only"),
    "inconsistent": gettext_lazy("the source contradicts itself"),
    "not_assessed": gettext_lazy("not assessed"),
}


@dataclass(frozen=True)
class Item:
    code: str
    text: str


@dataclass(frozen=True)
class Dimension:
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Cell:
    level: int | None  # None: not assessed
    evidence: str = ""
    finding: str = ""


@dataclass(frozen=True)
class Score:
    unit: str
    dimension: str
    assessed: int
    items: int
    score: Decimal | None  # None when no item of the dimension was assessed

    @property
    def coverage(self) -> str:
        return _("%(k)s of %(n)s assessed") % {"k": self.assessed, "n": self.items}


Cells = dict[tuple[str, str], Cell]  # (unit, item code) → cell; a missing key: not assessed


def evidence_label(code: str) -> str:
    return str(EVIDENCE_LABELS.get(code, code))


def dimension_scores(
    dimensions: Sequence[Dimension], units: Sequence[str], cells: Cells
) -> list[Score]:
    """Each unit's mean level per dimension over the items assessed, with its coverage."""
    out = []
    for unit in units:
        for dimension in dimensions:
            levels = [
                cell.level
                for item in dimension.items
                if (cell := cells.get((unit, item.code))) and cell.level is not None
            ]
            mean = None
            if levels:
                mean = (Decimal(sum(levels)) / len(levels)).quantize(CENT, ROUND_HALF_UP)
            out.append(Score(unit, dimension.title, len(levels), len(dimension.items), mean))
    return out


def heatmap_rows(
    dimensions: Sequence[Dimension], units: Sequence[str], cells: Cells, levels: dict[int, str]
) -> list[dict[str, Any]]:
    """One row per unit and item, not-assessed cells included: what the CSV gives."""
    rows = []
    for unit in units:
        for dimension in dimensions:
            for item in dimension.items:
                cell = cells.get((unit, item.code)) or Cell(None)
                rows.append(
                    {
                        "unit": unit,
                        "dimension": dimension.title,
                        "item": item.code,
                        "item_text": item.text,
                        "level": cell.level,
                        "level_label": _level_label(cell.level, levels),
                        "evidence": evidence_label(cell.evidence) if cell.evidence else "",
                        "finding": cell.finding,
                    }
                )
    return rows


def _level_label(level: int | None, levels: dict[int, str]) -> str:
    if level is None:
        return _("not assessed")
    return levels.get(level, str(level))


def _short(text: str, size: int = 140) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def _level_colourscale(count: int) -> list[list[Any]]:
    """One flat band per level (levels are categories, not a continuum)."""
    scale: list[list[Any]] = []
    for k in range(count):
        colour = LEVEL_COLOURS[round(k * (len(LEVEL_COLOURS) - 1) / max(count - 1, 1))]
        scale += [[k / count, colour], [(k + 1) / count, colour]]
    return scale


def _grid(
    dimensions: Sequence[Dimension], units: Sequence[str], cells: Cells, levels: dict[int, str]
) -> dict[str, list[list[Any]]]:
    """The heat map's matrices: assessed levels, not-assessed marks, cell texts, hovers."""
    grid: dict[str, list[list[Any]]] = {"z": [], "gaps": [], "text": [], "hover": []}
    items = [i for d in dimensions for i in d.items]
    for unit in units:
        z: list[Any] = []
        gaps: list[Any] = []
        text: list[Any] = []
        hover: list[Any] = []
        for item in items:
            cell = cells.get((unit, item.code)) or Cell(None)
            assessed = cell.level is not None
            z.append(cell.level if assessed else None)
            gaps.append(None if assessed else 0)
            text.append(str(cell.level) if assessed else "")
            evidence = evidence_label(cell.evidence) if cell.evidence else ""
            hover.append(
                [
                    _short(item.text, 90),
                    _level_label(cell.level, levels),
                    evidence,
                    _short(cell.finding),
                ]
            )
        grid["z"].append(z)
        grid["gaps"].append(gaps)
        grid["text"].append(text)
        grid["hover"].append(hover)
    return grid


def _dimension_marks(dimensions: Sequence[Dimension]) -> tuple[list[dict], list[dict]]:
    """Lines between dimensions and each dimension's name above its columns."""
    shapes, notes, start = [], [], 0
    for dimension in dimensions:
        end = start + len(dimension.items)
        if start:
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": start - 0.5,
                    "x1": start - 0.5,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#1d2733", "width": 2},
                }
            )
        notes.append(
            {
                "xref": "x",
                "yref": "paper",
                "x": (start + end - 1) / 2,
                "y": 1.0,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
                "text": _short(dimension.title.split(":")[0], 30),
            }
        )
        start = end
    return shapes, notes


def build_assessment_heatmap_figure(
    dimensions: Sequence[Dimension],
    units: Sequence[str],
    cells: Cells,
    levels: dict[int, str],
    title: str,
) -> go.Figure:
    """Heat map: units (rows) × items (columns, grouped by dimension), coloured by level;
    not-assessed cells grey with a dash, apart from every level (0 included)."""
    x = [i.code for d in dimensions for i in d.items]
    if not x or not units or not levels:
        return empty_figure(title, _("Nothing to show: no items or no units assessed."))
    low, high = min(levels), max(levels)
    grid = _grid(dimensions, units, cells, levels)
    hover = "<b>%{y}</b> · %{x} %{customdata[0]}<br>%{customdata[1]}<br>%{customdata[2]}"
    assessed = {
        "type": "heatmap",
        "name": _("level"),
        "x": x,
        "y": list(units),
        "z": grid["z"],
        "text": grid["text"],
        "texttemplate": "%{text}",
        "customdata": grid["hover"],
        "hovertemplate": hover + "<br>%{customdata[3]}<extra></extra>",
        "colorscale": _level_colourscale(high - low + 1),
        "zmin": low - 0.5,
        "zmax": high + 0.5,
        "hoverongaps": False,
        "xgap": 2,
        "ygap": 2,
        "colorbar": {
            "title": {"text": _("Level")},
            "tickvals": list(range(low, high + 1)),
            "ticktext": [
                _short(levels.get(v, str(v)).split(":")[0], 18) for v in range(low, high + 1)
            ],
        },
    }
    gaps = {
        "type": "heatmap",
        "name": _("not assessed"),
        "x": x,
        "y": list(units),
        "z": grid["gaps"],
        "text": [["–" if g == 0 else "" for g in row] for row in grid["gaps"]],
        "texttemplate": "%{text}",
        "colorscale": [[0, NOT_ASSESSED_COLOUR], [1, NOT_ASSESSED_COLOUR]],
        "showscale": False,
        "hoverongaps": False,
        "xgap": 2,
        "ygap": 2,
        "hovertemplate": "<b>%{y}</b> · %{x}<br>" + _("not assessed") + "<extra></extra>",
    }
    shapes, notes = _dimension_marks(dimensions)
    layout = _layout(
        title,
        height=max(300, 140 + 34 * len(units)),
        xaxis={"type": "category", "tickangle": 0},
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        shapes=shapes,
        annotations=notes,
    )
    layout["margin"] = {"l": 60, "r": 20, "t": 90, "b": 40}
    return _figure([assessed, gaps], layout)


def build_dimension_scores_figure(
    dimensions: Sequence[Dimension], scores: Sequence[Score], top_level: int, title: str
) -> go.Figure:
    """Grouped bars: each unit's mean level per dimension, labelled with its coverage; a
    dimension not assessed at all has no bar and a grey mark at the top, never a zero bar."""
    if not scores:
        return empty_figure(title, _("Nothing was assessed."))
    traces: list[dict[str, Any]] = []
    for n, dimension in enumerate(dimensions):
        mine = [s for s in scores if s.dimension == dimension.title]
        traces.append(
            {
                "type": "bar",
                "name": dimension.title,
                "x": [s.unit for s in mine],
                "y": [None if s.score is None else float(s.score) for s in mine],
                "text": [f"{s.assessed}/{s.items}" if s.score is not None else "" for s in mine],
                "textposition": "outside",
                "customdata": [[s.coverage] for s in mine],
                "hovertemplate": f"<b>%{{x}}</b><br>{dimension.title}: %{{y:.2f}}"
                "<br>%{customdata[0]}<extra></extra>",
                "marker": {"color": SERIES_COLOURS[n % len(SERIES_COLOURS)]},
            }
        )
    missing: dict[str, list[str]] = {}
    for s in scores:
        if s.score is None:
            missing.setdefault(s.unit, []).append(s.dimension.split(":")[0])
    if missing:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": _("not assessed"),
                "x": list(missing),
                "y": [top_level + 0.35] * len(missing),
                "marker": {"symbol": "circle-open", "size": 12, "color": "#5b6775"},
                "customdata": [[", ".join(v)] for v in missing.values()],
                "hovertemplate": "<b>%{x}</b><br>" + _("not assessed") + ": %{customdata[0]}"
                "<extra></extra>",
            }
        )
    return _figure(
        traces,
        _layout(
            title,
            barmode="group",
            xaxis={"type": "category"},
            yaxis={
                "title": {"text": _("Mean level")},
                "range": [0, top_level + 0.6],
                "gridcolor": GRID,
                "dtick": 1,
            },
        ),
    )


def level_legend(levels: dict[int, str]) -> list[tuple[int, str, str]]:
    """(value, label, colour) per level, in the heat map's colours."""
    if not levels:
        return []
    low, high = min(levels), max(levels)
    scale = _level_colourscale(high - low + 1)
    return [(v, levels.get(v, str(v)), scale[2 * (v - low)][1]) for v in range(low, high + 1)]
