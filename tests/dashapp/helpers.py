"""Helpers for talking to the Dash app the way its renderer does."""

import base64
import csv
import gzip
import importlib.resources
from typing import Any

import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from dashapp.callbacks import CONTROL_IDS, MAIN_INPUTS, MAIN_STATE
from dashapp.figures import GRAPH_ID
from models import Vehicle, summary
from models.datasets import dataset_id_for
from models.db import db
from models.editing import manufacturer_id_for
from models.validation import combined_mpg
from models.vehicle import bump_data_version

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


#: The EPA's list as fueldash ships it.
EPA_FILE = importlib.resources.files("models") / "data" / "epa-vehicles-1984-2015.csv.gz"
EPA_DATASET = "epa-1984-2015"


def _number(text: str) -> float | None:
    return float(text) if text not in ("", "NA") else None


def add_epa_vehicles(app: Flask, makes: tuple[str, ...] = ("Chevrolet",)) -> int:
    """Store the EPA file's rows of ``makes`` in the EPA dataset, as the importer would
    (combined figure derived from city and highway); returns how many."""
    with gzip.open(str(EPA_FILE), "rt", encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["make"] in makes]
    with app.app_context(), db.engine.begin() as conn:
        dataset_id = dataset_id_for(conn, EPA_DATASET)
        makers: dict[str, int] = {}
        values = []
        for row in rows:
            city, highway = _number(row["cty"]), _number(row["hwy"])
            values.append(
                {
                    "dataset_id": dataset_id,
                    "manufacturer_id": manufacturer_id_for(conn, row["make"], makers),
                    "source_id": row["id"],
                    "model": row["model"],
                    "year": int(row["year"]),
                    "vehicle_class": row["class"],
                    "transmission": row["trans"] or None,
                    "drive": row["drive"] or None,
                    "cylinders": int(row["cyl"]) if row["cyl"] not in ("", "NA") else None,
                    "displacement": _number(row["displ"]) or None,  # 0 means none
                    "fuel_type": row["fuel"],
                    "powertrain": "EV" if row["fuel"] == "Electricity" else None,
                    "city_mpg": city,
                    "highway_mpg": highway,
                    "combined_mpg": combined_mpg(city, highway) if city and highway else None,
                    "combined_mpg_derived": bool(city and highway),
                }
            )
        conn.execute(insert(Vehicle), values)
        summary.rebuild(conn)  # count the rows in, as the writers do
        bump_data_version(conn)
    return len(values)
