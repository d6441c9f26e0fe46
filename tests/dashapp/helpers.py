"""Helpers for talking to the Dash app the way its renderer does."""

import base64
from typing import Any

import numpy as np
from flask.testing import FlaskClient

from dashapp.callbacks import main_callback_body
from dashapp.figures import GRAPH_ID
from dashapp.layout import (
    DROPDOWN_ID,
    UNITS_ID,
    X_AXIS_ID,
    Y_AXIS_ID,
    YEARS_ID,
)

UPDATE_URL = "/dash/_dash-update-component"
#: The sample's model years, the year slider's bounds.
SAMPLE_YEARS = [1970, 1982]
DEFAULT_CONTROLS: dict[str, Any] = {
    YEARS_ID: SAMPLE_YEARS,
    "origin-filter": [],
    "cylinders-filter": [],
    X_AXIS_ID: "horsepower",
    Y_AXIS_ID: "mpg",
    UNITS_ID: "mpg",
}


def callback_payload(value: Any, trend: Any = None, **controls: Any) -> dict[str, Any]:
    """The body Dash's renderer posts when the manufacturer dropdown (or a filter) changes.

    ``controls`` override the other controls by id, with ``-`` written as ``_``.
    """
    values = {**DEFAULT_CONTROLS, **{k.replace("_", "-"): v for k, v in controls.items()}}
    values[DROPDOWN_ID] = value
    return main_callback_body(values, (trend or [], *SAMPLE_YEARS))


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
