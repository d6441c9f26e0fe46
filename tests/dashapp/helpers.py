"""Helpers for talking to the Dash app the way its renderer does."""

import base64
from typing import Any

import numpy as np
from flask.testing import FlaskClient

from dashapp.figures import GRAPH_ID
from dashapp.layout import DROPDOWN_ID

UPDATE_URL = "/dash/_dash-update-component"


def callback_payload(value: Any) -> dict[str, Any]:
    """The body Dash's renderer posts when the manufacturer dropdown changes."""
    return {
        "output": f"{GRAPH_ID}.figure",
        "outputs": {"id": GRAPH_ID, "property": "figure"},
        "inputs": [{"id": DROPDOWN_ID, "property": "value", "value": value}],
        "changedPropIds": [f"{DROPDOWN_ID}.value"],
        "state": [],
    }


def post_figure(client: FlaskClient, value: Any) -> dict[str, Any]:
    """Post a dropdown value and return the figure the callback answered with."""
    response = client.post(UPDATE_URL, json=callback_payload(value))
    assert response.status_code == 200, response.data
    return response.get_json()["response"][GRAPH_ID]["figure"]


def decode_array(values: Any) -> np.ndarray:
    """Read a figure array in either form plotly writes: a typed-array spec or a list."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    return np.asarray(values)


def point_count(figure: dict[str, Any]) -> int:
    return sum(len(decode_array(trace["x"])) for trace in figure["data"])


def annotation_text(figure: dict[str, Any]) -> str:
    return " ".join(a["text"] for a in figure["layout"].get("annotations", []))
