"""Helpers for talking to the Dash app the way its renderer does."""

import base64
from typing import Any

import numpy as np
from flask.testing import FlaskClient

from dashapp.callbacks import CONTROL_IDS, MAIN_INPUTS, MAIN_STATE
from dashapp.figures import GRAPH_ID

UPDATE_URL = "/dash/_dash-update-component"
#: The main callback's arguments at the page's defaults on the sample, whose model years,
#: the year slider's ends, are 1970 to 1982.
DEFAULT_CONTROLS: dict[str, Any] = {
    "years": [1970, 1982],
    "origins": [],
    "cylinders": [],
    "x": "horsepower",
    "y": "combined_mpg",
    "units": "mpg",
    "trend": [],
    "first_year": 1970,
    "last_year": 1982,
}


def main_callback_body(values: dict[str, Any], changed: str = "manufacturers") -> dict[str, Any]:
    """The body Dash's renderer posts to the main callback, from its arguments by name
    (missing ones are None); ``changed`` names the control that triggered it."""

    def listed(dependencies: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"id": d.component_id, "property": d.component_property, "value": values.get(name)}
            for name, d in dependencies.items()
        ]

    return {
        "output": f"{GRAPH_ID}.figure",
        "outputs": {"id": GRAPH_ID, "property": "figure"},
        "inputs": listed(MAIN_INPUTS),
        "changedPropIds": [f"{MAIN_INPUTS[changed].component_id}.value"],
        "state": listed(MAIN_STATE),
    }


def callback_payload(value: Any, **controls: Any) -> dict[str, Any]:
    """The body Dash's renderer posts when the manufacturer dropdown (or a filter) changes.

    ``controls`` override the other controls by the callback's argument names (``x``,
    ``units``...) or by component id, with ``-`` written as ``_`` (``mpg_units``).
    """
    names = {id_.replace("-", "_"): name for name, id_ in CONTROL_IDS.items()}
    given = {names.get(key, key): v for key, v in controls.items()}
    return main_callback_body({**DEFAULT_CONTROLS, **given, "manufacturers": value})


def post_view(client: FlaskClient, value: Any, **controls: Any) -> dict[str, Any]:
    """Post a view's control values and return the figure with what it carries for the
    page (``layout.meta.view``: summary cards, CSV link, table columns)."""
    response = client.post(UPDATE_URL, json=callback_payload(value, **controls))
    assert response.status_code == 200, response.data
    return response.get_json()["response"][GRAPH_ID]["figure"]


def post_figure(client: FlaskClient, value: Any, **controls: Any) -> dict[str, Any]:
    """Post a dropdown value and return the figure the callback answered with, as drawn."""
    return without_view(post_view(client, value, **controls))


def without_view(figure: dict[str, Any]) -> dict[str, Any]:
    """The figure without what it carries for the page beside the chart."""
    meta = {k: v for k, v in figure["layout"]["meta"].items() if k != "view"}
    return {**figure, "layout": {**figure["layout"], "meta": meta}}


def decode_array(values: Any) -> np.ndarray:
    """Read a figure array in either form plotly writes: a typed-array spec or a list."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    return np.asarray(values)


def marker_traces(figure: dict[str, Any]) -> list[dict[str, Any]]:
    """The point traces of a figure, without its trend lines."""
    return [t for t in figure["data"] if t.get("mode") == "markers"]


def point_count(figure: dict[str, Any]) -> int:
    return sum(len(decode_array(trace["x"])) for trace in marker_traces(figure))


def annotation_text(figure: dict[str, Any]) -> str:
    return " ".join(a["text"] for a in figure["layout"].get("annotations", []))
