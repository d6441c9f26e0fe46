"""Pure figure builders: plain Plotly figure dicts from query results, no I/O.

Figures are dicts of NumPy arrays rather than ``go.Figure`` objects: Dash then serializes
them through orjson as compact typed arrays, instead of plotly's slow pure-Python walk.
"""

import base64
import hashlib
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import numpy.typing as npt

from models.compare import L100KM_PER_MPG
from models.explore import Selection

GRAPH_ID = "fuel-efficiency-vs-horsepower-graph"

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
    return {"dtype": array.dtype.str.lstrip("<|="), "bdata": base64.b64encode(array.data).decode()}


def plot_text(value: str) -> str:
    """Escape user-controlled text for Plotly, which renders a subset of HTML in names,
    titles and hover labels. Only ``&``, ``<`` and ``>``: plotly decodes ``&amp;``,
    ``&lt;`` and ``&gt;`` but not ``&quot;``, and a quote outside a tag is plain text."""
    return escape(value, quote=False)


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


# --- The exploration view: several manufacturers, any two axes, optional trend lines ---

#: Axis titles with units; the acceleration in the sample is 0-60 mph time.
AXIS_TITLES: dict[str, str] = {
    "horsepower": "Horsepower (hp)",
    "weight": "Weight (lb)",
    "displacement": "Displacement (litres)",
    "acceleration": "Acceleration (0-60 mph, s)",
    "year": "Model year",
    "city_mpg": "City fuel economy (mpg, miles per US gallon)",
    "highway_mpg": "Highway fuel economy (mpg, miles per US gallon)",
    "combined_mpg": "Combined fuel economy (mpg, miles per US gallon)",
}
#: How a field is named in a sentence, where that differs from its name.
FIELD_WORDS = {"combined_mpg": "mpg", "city_mpg": "city mpg", "highway_mpg": "highway mpg"}
#: The fuel-economy fields: in mpg (MPGe for electric vehicles), or L/100 km when asked.
FUEL_FIELDS = ("city_mpg", "highway_mpg", "combined_mpg")
#: The fuel axes' titles when the plot holds electric vehicles, whose figures are MPGe.
MPGE_TITLES = {
    "city_mpg": "City fuel economy (mpg, MPGe for electric vehicles)",
    "highway_mpg": "Highway fuel economy (mpg, MPGe for electric vehicles)",
    "combined_mpg": "Combined fuel economy (mpg, MPGe for electric vehicles)",
}
L100KM_TITLES = {
    "city_mpg": "City fuel consumption (L/100 km)",
    "highway_mpg": "Highway fuel consumption (L/100 km)",
    "combined_mpg": "Combined fuel consumption (L/100 km)",
}
AXIS_NAMES: dict[str, str] = {
    "city_mpg": "city fuel economy",
    "highway_mpg": "highway fuel economy",
    "combined_mpg": "fuel efficiency",
    "acceleration": "0-60 mph time",
}
HOVER_FORMATS: dict[str, str] = {
    "horsepower": ":.0f} hp",
    "weight": ":.0f} lb",
    "displacement": ":.1f} L",
    "acceleration": ":.1f} s",
    "year": ":.0f}",
    "city_mpg": ":.1f} mpg city",
    "highway_mpg": ":.1f} mpg highway",
    "combined_mpg": ":.1f} mpg",
}
#: Okabe-Ito's colour-blind-safe palette, its black (unseen on a dark page) made grey.
PALETTE = (
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
    "#999999",
)
#: Marker shapes, so two makers that share a colour still look different.
SYMBOLS = ("circle", "square", "diamond", "triangle-up")
#: Each axis field's unit in a sentence ("+0.1 mpg per lb"); fuel fields follow the units.
FIELD_UNITS = {
    "horsepower": "hp",
    "weight": "lb",
    "displacement": "L",
    "acceleration": "s",
    "year": "model year",
}


#: The hash's salt, chosen so that the sample's eight biggest makers get eight colours,
#: Toyota, Honda and Datsun three unlike ones, and the five most compared makers neither
#: the yellow (faint on white) nor the grey. Changing it recolours every manufacturer.
NAME_SALT = (84944).to_bytes(4, "big")


def _name_hash(manufacturer: str) -> int:
    # Stable across processes and versions (unlike hash()), and blind to case.
    name = manufacturer.strip().lower().encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8, salt=NAME_SALT).digest(), "big")


def manufacturer_colour(manufacturer: str) -> str:
    """The colour a manufacturer has everywhere (chart, table, details), from its name."""
    return PALETTE[_name_hash(manufacturer) % len(PALETTE)]


def manufacturer_symbol(manufacturer: str) -> str:
    """The marker shape a manufacturer has in every chart, from its name."""
    return SYMBOLS[_name_hash(manufacturer) // len(PALETTE) % len(SYMBOLS)]


def field_unit(field: str, units: str) -> str:
    """The unit of one axis field as a sentence says it: "hp", "lb", "mpg", "L/100 km"."""
    if field in FUEL_FIELDS:
        return "L/100 km" if units == "l100km" else "mpg"
    return FIELD_UNITS.get(field, field)


def id_array(ids: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    """Vehicle ids in a dtype plotly.js can read: it has no 64-bit integer typed arrays."""
    if ids.size == 0 or int(ids.max()) < 2**31:
        return ids.astype(np.int32)
    return ids.astype(np.float64)  # exact for every id below 2**53


def axis_values(values: npt.NDArray[np.float32], field: str, units: str) -> npt.NDArray[Any]:
    """An axis column in the unit shown: mpg becomes L/100 km when asked."""
    if field in FUEL_FIELDS and units == "l100km":
        return (L100KM_PER_MPG / values).astype(np.float32)
    return values


def axis_title(field: str, units: str, electric: bool = False) -> str:
    """The axis title with its unit; ``electric`` when the plot holds electric vehicles."""
    if field in FUEL_FIELDS and units == "l100km":
        return L100KM_TITLES[field]
    return MPGE_TITLES[field] if electric and field in FUEL_FIELDS else AXIS_TITLES[field]


def _hover_templates(template: str, electric: npt.NDArray[np.bool_]) -> str | list[str]:
    # Electric vehicles' fuel figures are MPGe: their points get a template that says so.
    if not electric.any() or "} mpg" not in template:
        return template
    mpge = template.replace("} mpg", "} MPGe")
    return [mpge if is_electric else template for is_electric in electric.tolist()]


def _hover_value(axis: str, field: str, units: str) -> str:
    if field in FUEL_FIELDS and units == "l100km":
        return "%{" + axis + ":.1f} L/100 km"
    return "%{" + axis + HOVER_FORMATS[field]


def _axis_name(field: str, units: str) -> str:
    if field in FUEL_FIELDS and units == "l100km":
        return "fuel consumption"
    return AXIS_NAMES.get(field, field)


def trend_line(x: npt.NDArray[Any], y: npt.NDArray[Any]) -> tuple[float, float] | None:
    """(slope, intercept) of the least-squares line through the points, or None if undefined."""
    if len(x) < 2:
        return None
    # The closed form of a degree-1 least-squares fit: a tenth of np.polyfit's cost.
    xs, ys = x.astype(np.float64), y.astype(np.float64)
    x_mean, y_mean = float(xs.sum()) / len(xs), float(ys.sum()) / len(ys)
    dx = xs - x_mean
    spread = float(dx @ dx)
    if spread == 0.0:
        return None
    slope = float(dx @ (ys - y_mean)) / spread
    return slope, y_mean - slope * x_mean


def selection_figure(selection: Selection, units: str = "mpg", trend: bool = False) -> Figure:
    """One scatter trace (and a trend line, shown when ``trend``) per manufacturer."""
    x_field, y_field = selection.x_field, selection.y_field
    names = ", ".join(plot_text(s.manufacturer) for s in selection.series)
    x_words, y_words = FIELD_WORDS.get(x_field, x_field), FIELD_WORDS.get(y_field, y_field)
    missing = f"{x_words} or {y_words}" if x_field != y_field else x_words
    if selection.plotted == 0:
        return empty_figure(_nothing_plotted(selection, missing))
    hovertemplate = (
        "<b>%{hovertext}</b><br>"
        + _hover_value("x", x_field, units)
        + ", "
        + _hover_value("y", y_field, units)
        + "<extra>%{fullData.name}</extra>"
    )
    data: list[dict[str, Any]] = []
    for series in selection.series:
        if series.plotted == 0:
            continue
        colour = manufacturer_colour(series.manufacturer)
        name = plot_text(series.manufacturer)
        x = axis_values(series.x, x_field, units)
        y = axis_values(series.y, y_field, units)
        data.append(
            {
                # SVG only: the basic plotly.js bundle has no scattergl, and the
                # point budget (DASH_POINT_BUDGET) keeps SVG fast.
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "legendgroup": name,
                "x": typed_array(x),
                "y": typed_array(y),
                "customdata": typed_array(id_array(series.ids)),
                # Escaped for the hover label; ``text`` stays raw for the table the
                # browser builds from this trace (it is not shown by plotly here).
                "hovertext": [plot_text(str(label)) for label in series.label.tolist()],
                "text": series.label.tolist(),
                "hovertemplate": _hover_templates(hovertemplate, series.electric),
                "marker": {
                    "size": 9,
                    "opacity": 0.85,
                    "color": colour,
                    "symbol": manufacturer_symbol(series.manufacturer),
                    "line": {"width": 1, "color": "rgba(0, 0, 0, 0.55)"},
                },
                # A picked vehicle (selectedpoints, set in the browser) stands out.
                "selected": {"marker": {"size": 16, "opacity": 1}},
                "unselected": {"marker": {"opacity": 0.25}},
                # The name unescaped, for the table the browser builds from this trace.
                "meta": {"manufacturer": series.manufacturer},
            }
        )
        line = trend_line(x, y)
        if line is not None:
            data.append(_trend_trace(name, colour, x, line, trend, units, x_field, y_field))
    electric = any(s.electric.any() for s in selection.series)
    plotted_note = (
        f"showing a sample of {selection.plotted:,} of {selection.available:,} vehicles"
        if selection.available > selection.plotted
        else f"{selection.plotted} vehicles plotted"
    )
    subtitle = f"{plotted_note}, " + (
        f"{selection.hidden} more hidden: missing {missing}" if selection.hidden else "none hidden"
    )
    if selection.unknown:
        unknown = ", ".join(plot_text(n) for n in selection.unknown)
        subtitle += f"; not in the store: {unknown}"
    return {
        "data": data,
        "layout": {
            **_BASE_LAYOUT,
            "title": {
                "text": f"{names}: {_axis_name(y_field, units)} vs {_axis_name(x_field, units)}",
                "subtitle": {"text": subtitle},
            },
            # automargin: the axis titles keep clear of the tick labels and the legend.
            "xaxis": {
                "title": {"text": axis_title(x_field, units, electric), "standoff": 10},
                "zeroline": False,
                "automargin": True,
            },
            "yaxis": {
                "title": {"text": axis_title(y_field, units, electric)},
                "zeroline": False,
                "automargin": True,
            },
            "showlegend": True,
            # Zoom survives a new filter, but not a change of what the axes mean.
            "uirevision": f"{x_field}/{y_field}/{units}",
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            # Below the x-axis title, at the foot of the figure, which grows to fit it.
            "legend": {
                "orientation": "h",
                "x": 0,
                "xanchor": "left",
                "yref": "container",
                "y": 0,
                "yanchor": "bottom",
            },
            "meta": {
                "plotted": selection.plotted,
                "hidden": selection.hidden,
                "available": selection.available,
            },
        },
    }


def _trend_trace(
    name: str,
    colour: str,
    x: npt.NDArray[Any],
    line: tuple[float, float],
    visible: bool,
    units: str,
    x_field: str,
    y_field: str,
) -> dict[str, Any]:
    slope, intercept = line
    ends = np.array([x.min(), x.max()], dtype=np.float64)
    y_unit, x_unit = field_unit(y_field, units), field_unit(x_field, units)
    return {
        "type": "scatter",
        "mode": "lines",
        "name": f"{name} trend ({slope:+.3g} {y_unit} per {x_unit})",
        "legendgroup": name,
        "x": typed_array(ends.astype(np.float32)),
        "y": typed_array((slope * ends + intercept).astype(np.float32)),
        "line": {"color": colour, "width": 2, "dash": "dash"},
        "hoverinfo": "name",
        "visible": visible,
        "meta": {"trend": True, "slope": slope},
    }


def _nothing_plotted(selection: Selection, missing: str) -> str:
    if not selection.series and selection.unknown:
        unknown = ", ".join(f"“{plot_text(n)}”" for n in selection.unknown)
        return f"No manufacturer named {unknown} is in the store."
    if not selection.series:
        return "Pick a manufacturer to plot its vehicles."
    names = ", ".join(plot_text(s.manufacturer) for s in selection.series)
    hidden = f" ({selection.hidden} hidden)." if selection.hidden else "."
    missing = missing.replace(" or ", " and ")
    return f"{names} has no vehicles with both {missing} to plot that match the filters{hidden}"


@dataclass(frozen=True, slots=True)
class Extreme:
    """The vehicle at one end of the selection's mpg range."""

    mpg: float
    label: str
    manufacturer: str
    #: Its figure is MPGe.
    electric: bool = False


@dataclass(frozen=True, slots=True)
class Summary:
    """Headline numbers for the plotted vehicles of a selection."""

    vehicles: int
    hidden: int
    median_mpg: float | None
    best: Extreme | None
    worst: Extreme | None


def summarize(selection: Selection) -> Summary:
    """Count, median mpg and best/worst vehicle by mpg over the plotted points."""
    if not selection.series:
        return Summary(0, selection.hidden, None, None, None)
    mpg = np.concatenate([s.mpg for s in selection.series])
    known = len(mpg) - int(np.count_nonzero(np.isnan(mpg)))
    if known == 0:
        return Summary(selection.plotted, selection.hidden, None, None, None)
    # One stable sort gives all three: the median, the worst (first) and the best mpg,
    # ties going to the earlier point. NaNs (mpg unknown) sort last.
    order = np.argsort(mpg, kind="stable")
    ranked = mpg[order[:known]].astype(np.float64)
    middle = known // 2
    median = ranked[middle] if known % 2 else (ranked[middle - 1] + ranked[middle]) / 2
    best = order[int(np.searchsorted(ranked, ranked[-1]))]
    return Summary(
        vehicles=selection.plotted,
        hidden=selection.hidden,
        median_mpg=float(median),
        best=_extreme(selection, int(best)),
        worst=_extreme(selection, int(order[0])),
    )


def _extreme(selection: Selection, index: int) -> Extreme:
    """The vehicle at ``index`` of the selection's points, counted across its series."""
    for series in selection.series:
        if index < series.plotted:
            electric = bool(series.electric.size and series.electric[index])
            mpg, label = float(series.mpg[index]), str(series.label[index])
            return Extreme(mpg, label, series.manufacturer, electric)
        index -= series.plotted
    raise IndexError(index)
