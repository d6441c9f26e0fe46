"""Hostile cursors, numbers and names on the API get a 4xx naming the problem, never a 500."""

import base64
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Manufacturer
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
    assert len(reads) == 6
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
    assert len(reads) == 6
    assert all("security" not in op and "401" not in op["responses"] for op in reads)
    writes = [op for (method, _path), op in operations.items() if method != "GET"]
    assert all(op["security"] == [{"bearerAuth": []}] for op in writes)
    assert "signInSession" not in spec["components"]["securitySchemes"]
