"""One set of limits: the write API, the admin form, the import, the API's filters and the
dashboard's URL all accept the same bounds and refuse one step beyond them."""

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.state import parse_query
from models.datasets import DEFAULT_DATASET
from models.db import db
from models.importer import dry_run
from models.validation import MAX_CYLINDERS, MAX_YEAR, MIN_YEAR
from tests.server.admin.helpers import VEHICLE_FORM, post_form
from tests.server.api.helpers import NEW_VEHICLE, bearer

CASES = [
    ("year", MIN_YEAR, True),
    ("year", MAX_YEAR, True),
    ("year", MIN_YEAR - 1, False),
    ("year", 2101, False),
    ("cylinders", 1, True),
    ("cylinders", MAX_CYLINDERS, True),
    ("cylinders", 0, False),
    ("cylinders", MAX_CYLINDERS + 1, False),
]


@pytest.mark.parametrize(("field", "value", "accepted"), CASES)
def test_every_surface_draws_the_line_in_the_same_place(
    app: Flask,
    client: FlaskClient,
    auth: Any,
    token: str,
    tmp_path: Path,
    field: str,
    value: int,
    accepted: bool,
) -> None:
    api = client.post("/api/v1/vehicles", json={**NEW_VEHICLE, field: value}, headers=bearer(token))
    assert api.status_code == (201 if accepted else 422), api.get_json()

    auth.login()
    form = post_form(client, "/admin/vehicles/new", {**VEHICLE_FORM, field: str(value)})
    assert form.status_code == (302 if accepted else 200)

    path = tmp_path / "cars.csv"
    path.write_text(f"make,model,{field}\nFord,limit,{value}\n", encoding="utf-8")
    with app.app_context():
        report = dry_run(db.session.connection(), path, DEFAULT_DATASET)
    # An imported 0 cylinders is the EPA's way of writing "unknown", so it imports as such.
    read_as_unknown = (field, value) == ("cylinders", 0)
    assert (report.new, report.invalid) == ((1, 0) if accepted or read_as_unknown else (0, 1))

    query = f"{field}={value}" if field == "cylinders" else f"year_min={value}"
    assert client.get(f"/api/v1/vehicles?{query}").status_code == (200 if accepted else 422)
    assert bool(parse_query(query).problems) is not accepted


def test_the_api_documents_the_limits(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    fields = spec["components"]["schemas"]["VehicleWrite"]["properties"]
    assert (fields["year"]["minimum"], fields["year"]["maximum"]) == (MIN_YEAR, MAX_YEAR)
    assert fields["cylinders"]["maximum"] == MAX_CYLINDERS
    filters = {
        p["name"]: p["schema"] for p in spec["paths"]["/api/v1/vehicles"]["get"]["parameters"]
    }
    assert (filters["year_min"]["minimum"], filters["year_max"]["maximum"]) == (MIN_YEAR, MAX_YEAR)
