"""The risk heat map: a pure function of plain rows, drawn in the dashboards' theme
(indicators.charts) and written as plain dicts, which ``tests/governance/test_charts.py``
checks against Plotly's validators. Each cell is coloured by likelihood × impact and says how
many risks it holds and which."""

from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from indicators import charts as theme

SCALE = [1, 2, 3, 4, 5]
# Severity (likelihood × impact, 1 to 25): low, moderate, high, extreme.
SEVERITY_COLOURS = [
    [0.0, "#e3f1e0"],
    [0.2, "#cfe8c5"],
    [0.4, "#fbe3a6"],
    [0.64, "#f6b26b"],
    [1.0, "#e06666"],
]


def cell_text(codes: list[str]) -> str:
    """What a cell says: the number of risks, then their codes."""
    if not codes:
        return ""
    return f"<b>{len(codes)}</b><br>" + ", ".join(codes)


def build_risk_heatmap_figure(rows: list[dict[str, Any]], title: str) -> go.Figure:
    """5 × 5 heat map, impact across and likelihood up. ``rows``: [{"likelihood": 1–5,
    "impact": 1–5, "codes": [risk codes]}] for the cells that hold risks."""
    codes = {(r["likelihood"], r["impact"]): list(r["codes"]) for r in rows}
    z = [[lik * imp for imp in SCALE] for lik in SCALE]
    text = [[cell_text(codes.get((lik, imp), [])) for imp in SCALE] for lik in SCALE]
    hover = [[_hover(lik, imp, codes.get((lik, imp), [])) for imp in SCALE] for lik in SCALE]
    trace = {
        "type": "heatmap",
        "x": SCALE,
        "y": SCALE,
        "z": z,
        "zmin": 1,
        "zmax": 25,
        "colorscale": SEVERITY_COLOURS,
        "showscale": False,
        "text": text,
        "texttemplate": "%{text}",
        "hovertext": hover,
        "hoverinfo": "text",
        "xgap": 2,
        "ygap": 2,
    }
    axis = {"tickmode": "array", "tickvals": SCALE, "range": [0.5, 5.5], "fixedrange": True}
    return theme._figure(
        [trace],
        theme._layout(
            title,
            height=460,
            xaxis={**axis, "title": {"text": _("impact")}},
            yaxis={**axis, "title": {"text": _("likelihood")}},
        ),
    )


def _hover(likelihood: int, impact: int, codes: list[str]) -> str:
    where = _("Likelihood %(likelihood)s × impact %(impact)s") % {
        "likelihood": likelihood,
        "impact": impact,
    }
    if not codes:
        return where + ": " + _("no risk")
    count = ngettext("%(n)d risk", "%(n)d risks", len(codes)) % {"n": len(codes)}
    return f"{where}: {count}<br>{', '.join(codes)}"
