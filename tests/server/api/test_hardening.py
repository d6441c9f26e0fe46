"""Hostile cursors, numbers and names on the API get a 4xx naming the problem, never a 500."""

import base64
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Manufacturer, Vehicle
from models.db import db
from tests.server.api.helpers import API, NEW_VEHICLE, bearer


def _cursor(*parts: Any) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("id", "WyJpZCIsMjE0NzQ4MzY1MywyMTQ3NDgzNjUzXQ"),  # ["id",2147483653,2147483653]
        ("id", _cursor("id", 2**31, 2**31)),
        ("id", _cursor("id", 1, -(2**31) - 1)),
        ("year", _cursor("year", 1980, 2**31)),
        ("year", _cursor("year", 2**31, 5)),
        ("-year", _cursor("-year", -(2**40), 5)),
        ("horsepower", _cursor("horsepower", 2**63, 5)),
        ("horsepower", "WyJob3JzZXBvd2VyIixOYU4sNV0"),  # ["horsepower",NaN,5]
        ("model", _cursor("model", "a\x00b", 5)),
        ("manufacturer", '["manufacturer","\\ud800",5]'),
        ("model", "WyJtb2RlbCIsIlx1ZDgwMCIsNV0"),  # ["model","\ud800",5]
    ],
)
def test_cursors_out_of_range_or_unstorable_are_refused(
    client: FlaskClient, sort: str, cursor: str
) -> None:
    if cursor.startswith("["):
        cursor = base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")
    response = client.get(f"{API}/vehicles", query_string={"sort": sort, "cursor": cursor})
    assert response.status_code in (400, 422), response.status_code
    assert response.content_type == "application/problem+json"
    assert list(response.get_json()["errors"]) == ["cursor"]


@pytest.mark.parametrize("name", ["ß" * 80, "ﬁ" * 80])
def test_a_name_that_case_mapping_lengthens_is_stored_as_given(
    app: Flask, client: FlaskClient, token: str, name: str
) -> None:
    body = {**NEW_VEHICLE, "manufacturer": name}
    response = client.post(f"{API}/vehicles", json=body, headers=bearer(token))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["manufacturer"] == name
    with app.app_context():
        assert db.session.scalar(select(Manufacturer.id).where(Manufacturer.name == name))


def test_a_name_one_longer_is_refused(client: FlaskClient, token: str) -> None:
    body = {**NEW_VEHICLE, "manufacturer": "ß" * 81}
    response = client.post(f"{API}/vehicles", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert response.get_json()["errors"]["manufacturer"] == ["is longer than 80 characters"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("year_min=1_980", "year_min"),
        ("year_min=١٩٨٠", "year_min"),
        ("year_max=1.98e3", "year_max"),
        ("limit=1_0", "limit"),
        ("cylinders=٤", "cylinders"),
        ("hp_min=1_00", "hp_min"),
        ("mpg_max=١٢", "mpg_max"),
        ("mpg_max=infinity", "mpg_max"),
    ],
)
def test_query_numbers_must_be_plain_decimals(
    client: FlaskClient, query: str, parameter: str
) -> None:
    response = client.get(f"{API}/vehicles?{query}")
    assert response.status_code == 422, response.status_code
    assert list(response.get_json()["errors"]) == [parameter]


def test_a_query_decimal_may_use_json_number_syntax(client: FlaskClient) -> None:
    assert client.get(f"{API}/vehicles?mpg_min=4e1&hp_max=1.5E2").status_code == 200


def test_json_numbers_stay_numbers(client: FlaskClient, token: str) -> None:
    body = {**NEW_VEHICLE, "year": 1.98e3, "horsepower": 1e2}
    response = client.post(f"{API}/vehicles", json=body, headers=bearer(token))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert (response.get_json()["year"], response.get_json()["horsepower"]) == (1980, 100.0)


def test_a_source_id_the_dataset_holds_is_a_409(
    app: Flask, client: FlaskClient, token: str
) -> None:
    """The unique (dataset, source id) constraint answered 500 (found by Schemathesis)."""
    first = client.post(
        f"{API}/vehicles", json={**NEW_VEHICLE, "source_id": "text"}, headers=bearer(token)
    )
    assert first.status_code == 201
    holder = first.get_json()["id"]
    again = client.post(
        f"{API}/vehicles", json={**NEW_VEHICLE, "source_id": "text"}, headers=bearer(token)
    )
    assert again.status_code == 409, again.get_data(as_text=True)
    assert again.mimetype == "application/problem+json"
    reason = f"vehicle {holder} of the dataset already has this source id"
    assert again.get_json()["errors"] == {"source_id": [reason]}
    other = client.post(f"{API}/vehicles", json=NEW_VEHICLE, headers=bearer(token)).get_json()["id"]
    taking = client.patch(
        f"{API}/vehicles/{other}", json={"source_id": "text"}, headers=bearer(token)
    )
    assert taking.status_code == 409
    # Its own source id again is no conflict; another dataset may hold the same one.
    own = client.patch(
        f"{API}/vehicles/{holder}",
        json={"source_id": "text", "model": "again"},
        headers=bearer(token),
    )
    assert own.status_code == 200
    elsewhere = {**NEW_VEHICLE, "source_id": "text", "dataset": "epa-1984-2015"}
    assert client.post(f"{API}/vehicles", json=elsewhere, headers=bearer(token)).status_code == 201
    with app.app_context():
        holders = db.session.scalars(select(Vehicle.id).where(Vehicle.source_id == "text"))
        assert len(list(holders)) == 2


def test_the_spec_says_what_a_new_vehicle_needs(app: Flask) -> None:
    spec, _operations = _spec_operations(app)
    new, patch = (
        spec["components"]["schemas"]["VehicleWrite"],
        spec["components"]["schemas"]["VehiclePatch"],
    )
    assert new["required"] == ["manufacturer", "model"] and "required" not in patch
    assert "nullable" not in new["properties"]["manufacturer"]
    assert new["properties"]["year"]["nullable"] is True
    assert new["properties"]["powertrain"]["pattern"].startswith(r"^\s*(?:[iI][cC][eE]|")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"model": "x"}, {"manufacturer": ["is required"]}),
        ({"manufacturer": None, "model": "x"}, {"manufacturer": ["is required"]}),
        (
            {"model": "x", "year": 1.5},
            {"manufacturer": ["is required"], "year": ["not a whole number"]},
        ),
    ],
)
def test_a_missing_or_null_required_field_is_reported_once(
    client: FlaskClient, token: str, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    response = client.post(f"{API}/vehicles", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert response.get_json()["errors"] == errors


def test_the_documented_max_length_counts_the_text_as_sent(client: FlaskClient, token: str) -> None:
    """81 characters of which one is a space (Python's \\x1f) were stored as 80, though the
    document promises that anything over maxLength 80 is refused (found by Schemathesis)."""
    body = {**NEW_VEHICLE, "manufacturer": "\x1f" + "*" * 80}
    response = client.post(f"{API}/vehicles", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"manufacturer": ["is longer than 80 characters"]}
    body = {**NEW_VEHICLE, "manufacturer": " " + "*" * 79}
    assert client.post(f"{API}/vehicles", json=body, headers=bearer(token)).status_code == 201


def test_a_powertrain_in_any_case_is_accepted(client: FlaskClient, token: str) -> None:
    body = {**NEW_VEHICLE, "powertrain": " plug-in   HYBRID "}
    response = client.post(f"{API}/vehicles", json=body, headers=bearer(token))
    assert response.status_code == 201
    assert response.get_json()["powertrain"] == "plug-in hybrid"


def test_measurements_are_bounded_so_aggregates_stay_finite(
    client: FlaskClient, token: str
) -> None:
    """Two valid horsepowers of 1.5e308 overflowed PostgreSQL's avg() in /stats (a 500,
    found by Schemathesis) and became infinite in the dashboard's 32-bit floats."""
    huge = {**NEW_VEHICLE, "horsepower": 1.5e308, "cylinders": 4}
    response = client.post(f"{API}/vehicles", json=huge, headers=bearer(token))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"horsepower": ["must be less than 1,000,000"]}
    largest = {**NEW_VEHICLE, "horsepower": 999_999.5, "combined_mpg": 999_999.5, "cylinders": 3}
    for _ in range(2):
        assert (
            client.post(f"{API}/vehicles", json=largest, headers=bearer(token)).status_code == 201
        )
    stats = client.get(f"{API}/stats?group_by=cylinders")
    assert stats.status_code == 200
    three = next(group for group in stats.get_json()["groups"] if group["key"] == 3)
    assert three["horsepower_max"] == 999_999.5


def _spec_operations(app: Flask) -> tuple[dict[str, Any], dict[tuple[str, str], Any]]:
    """The OpenAPI document and its operations by (method, path)."""
    spec = app.test_client().get(f"{API}/openapi.json").get_json()
    operations = {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }
    return spec, operations


def test_private_spec_marks_every_read_as_needing_credentials(make_app: Any, app: Flask) -> None:
    spec, operations = _spec_operations(make_app(FUELDASH_PRIVATE=True))
    reads = {path: op for (method, path), op in operations.items() if method == "GET"}
    assert len(reads) == 7
    for path, operation in reads.items():
        assert operation["security"] == [{"bearerAuth": []}, {"signInSession": []}], path
        assert operation["responses"]["401"] == {"$ref": "#/components/responses/UNAUTHORIZED"}
    # Writes take a token only, as before.
    writes = [op for (method, _path), op in operations.items() if method != "GET"]
    assert len(writes) == 3
    assert all(op["security"] == [{"bearerAuth": []}] for op in writes)
    assert spec["components"]["securitySchemes"]["signInSession"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The session cookie of a sign-in at /login.",
    }


def test_default_spec_leaves_reads_open(app: Flask) -> None:
    spec, operations = _spec_operations(app)
    reads = [op for (method, _path), op in operations.items() if method == "GET"]
    assert len(reads) == 7
    assert all("security" not in op and "401" not in op["responses"] for op in reads)
    writes = [op for (method, _path), op in operations.items() if method != "GET"]
    assert all(op["security"] == [{"bearerAuth": []}] for op in writes)
    assert "signInSession" not in spec["components"]["securitySchemes"]
