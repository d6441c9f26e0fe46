"""Pure figure builders: plain Plotly figure dicts from query results, no I/O.

Figures are dicts of NumPy arrays rather than ``go.Figure`` objects: Dash then serializes
them through orjson as compact typed arrays, instead of plotly's slow pure-Python walk.
"""

import base64
from html import escape
from typing import Any

import numpy as np
import numpy.typing as npt

from dashapp.budget import budget_note
from models.queries import PlotPoints

GRAPH_ID = "fuel-efficiency-vs-horsepower-graph"
X_TITLE = "Horsepower (hp)"
Y_TITLE = "Fuel efficiency (mpg, miles per US gallon)"

Figure = dict[str, Any]

_BASE_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 70, "r": 20, "t": 80, "b": 60},
    "hovermode": "closest",
    "uirevision": "fuel-efficiency",
}


def typed_array(values: npt.NDArray[Any]) -> dict[str, str]:
    """A NumPy array in plotly.js's typed-array form: a dtype and base64 little-endian bytes.

    Dash would otherwise write every number out as JSON text.
    """
    array = np.ascontiguousarray(values)
    if array.dtype.byteorder == ">":
        array = array.byteswap().view(array.dtype.newbyteorder("<"))
    return {"dtype": array.dtype.str.lstrip("<|="), "bdata": base64.b64encode(array).decode()}


def plot_text(value: str) -> str:
    """Escape user-controlled text for Plotly, which renders a subset of HTML in titles."""
    return escape(value, quote=True)


def fuel_efficiency_figure(points: PlotPoints) -> Figure:
    """Scatter of mpg (y) against horsepower (x) for one manufacturer's vehicles."""
    name = plot_text(points.manufacturer)
    if points.plotted == 0:
        return empty_figure(
            f"{name} has no vehicles with both horsepower and mpg to plot"
            + (f" ({points.hidden} hidden)." if points.hidden else ".")
        )
    hidden_note = (
        f"{points.hidden} more hidden: missing horsepower or mpg"
        if points.hidden
        else "none hidden"
    )
    trace = {
        # [issue-5] always SVG "scatter": the page ships plotly's cartesian bundle, which
        # has no scattergl; the point budget keeps SVG fast.
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": typed_array(points.horsepower),
        "y": typed_array(points.mpg),
        "text": points.label,
        "hovertemplate": "<b>%{text}</b><br>%{x:.0f} hp, %{y:.1f} mpg<extra></extra>",
        "marker": {"size": 9, "opacity": 0.8, "color": "#2563eb"},
    }
    return {
        "data": [trace],
        "layout": {
            **_BASE_LAYOUT,
            "title": {
                "text": f"{name}: fuel efficiency vs horsepower",
                "subtitle": {"text": _plotted_note(points) + f", {hidden_note}"},
            },
            "xaxis": {"title": {"text": X_TITLE}, "zeroline": False},
            "yaxis": {"title": {"text": Y_TITLE}, "zeroline": False},
            "meta": _meta(points),
        },
    }


def _plotted_note(points: PlotPoints) -> str:
    # [issue-5 point budget] say how many points out of how many when a budget applied.
    return budget_note(points.plotted, points.total_plottable) or (
        f"{points.plotted} vehicles plotted"
    )


def _meta(points: PlotPoints) -> dict[str, int]:
    meta = {"plotted": points.plotted, "hidden": points.hidden}
    if points.total_plottable > points.plotted:
        meta["available"] = points.total_plottable
    return meta


def empty_figure(message: str) -> Figure:
    """A blank chart that says why there is nothing to show. ``message`` must be escaped."""
    return {
        "data": [],
        "layout": {
            **_BASE_LAYOUT,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "annotations": [
                {
                    "text": message,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "showarrow": False,
                    "font": {"size": 16},
                }
            ],
            "meta": {"plotted": 0, "hidden": 0},
        },
    }
