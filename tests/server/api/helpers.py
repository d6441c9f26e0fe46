"""Helpers for the API tests: the raw sample (for independent expectations), row inserts,
and a counter of SQL statements."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert, select

from models import Manufacturer, Vehicle, bump_data_version, summary
from models.datasets import DEFAULT_DATASET, dataset_id_for
from models.db import db

API = "/api/v1"
NEW_VEHICLE = {"manufacturer": "vw", "model": "api beetle", "horsepower": 50, "combined_mpg": 31.5}


def bearer(secret: str) -> dict[str, str]:
    """Headers that send ``secret`` as a bearer token."""
    return {"Authorization": f"Bearer {secret}"}


def raw_sample() -> list[dict[str, Any]]:
    """The packaged cars.json exactly as shipped, without our normalization."""
    text = resources.files("vega_datasets").joinpath("_data/cars.json").read_text("utf-8")
    return json.loads(text)


def add_vehicles(app: Flask, count: int, manufacturer: str = "Toyota", **values: Any) -> None:
    """Insert ``count`` vehicles for an existing manufacturer, as a writer would."""
    with app.app_context(), db.engine.begin() as conn:
        maker_id = conn.scalar(select(Manufacturer.id).where(Manufacturer.name == manufacturer))
        row = {
            "model": "added",
            "year": 1985,
            "origin": "Japan",
            "dataset_id": dataset_id_for(conn, DEFAULT_DATASET),
            **values,
        }
        conn.execute(insert(Vehicle), [{"manufacturer_id": maker_id, **row}] * count)
        summary.rebuild(conn)  # count the rows in, as the writers do
        bump_data_version(conn)


@contextmanager
def counting_statements(app: Flask) -> Iterator[list[str]]:
    """Collect every SQL statement the app's engine runs inside the block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def vehicle_id(client: FlaskClient, last: bool = False) -> int:
    """The first (or last) vehicle id; ids are not 1..406 once PostgreSQL sequences moved on."""
    response = client.get(f"{API}/vehicles?limit=1&sort={'-id' if last else 'id'}")
    return response.get_json()["items"][0]["id"]
