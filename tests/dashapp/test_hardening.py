"""Dash inputs that once answered 500: each gets a 4xx, or a figure that falls back."""

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.callbacks import vehicle_in_link
from dashapp.figures import GRAPH_ID
from models import Vehicle
from models.db import db
from models.user import User, issue_token
from tests.dashapp.helpers import UPDATE_URL, callback_payload


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return problem


@pytest.mark.parametrize("depth", [900, 950, 970, 980, 990, 1_000, 5_000, 100_000])
def test_a_deeply_nested_callback_body_is_refused(client: FlaskClient, depth: int) -> None:
    body = f'{{"output": "{GRAPH_ID}.figure", "inputs": {nested(depth)}}}'
    response = client.post(UPDATE_URL, data=body, content_type="application/json")
    problem = assert_problem(response, 400)
    # Just under Python's recursion limit it parses, and is refused as no callback's body.
    assert depth < 1_000 or "nested" in problem["detail"]


@pytest.mark.parametrize("depth", [980, 5_000])
def test_a_deeply_nested_api_body_is_refused_and_writes_nothing(
    app: Flask, client: FlaskClient, users: dict[str, int], depth: int
) -> None:
    with app.app_context():
        _token, secret = issue_token(db.session, db.session.get(User, users["admin"]), "test")
        db.session.commit()
        before = db.session.query(Vehicle).count()
    body = f'{{"manufacturer": "Toyota", "model": {nested(depth)}}}'
    response = client.post(
        "/api/v1/vehicles",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    # Near Python's recursion limit it is either refused as too deep or as no vehicle.
    assert response.status_code in (400, 422), response.data[:300]
    assert response.mimetype == "application/problem+json"
    assert depth < 1_000 or "nested" in response.get_json()["detail"]
    with app.app_context():
        assert db.session.query(Vehicle).count() == before


@pytest.mark.parametrize(
    "years",
    [[float("nan"), 1], [1970, float("nan")], [float("inf"), 1982], [float("-inf"), 1e400]],
)
def test_non_finite_years_fall_back_to_every_year(client: FlaskClient, years: list[float]) -> None:
    # json.dumps writes NaN and Infinity as the literals Python's json (and Dash) accept.
    body = json.dumps(callback_payload(["Toyota"], years=years))
    response = client.post(UPDATE_URL, data=body, content_type="application/json")
    assert response.status_code == 200, response.data[:300]
    figure = response.get_json()["response"][GRAPH_ID]["figure"]
    assert figure == post_figure_with_view(client)


def post_figure_with_view(client: FlaskClient) -> Any:
    """The figure for Toyota over every year, as the callback answers it."""
    response = client.post(UPDATE_URL, json=callback_payload(["Toyota"]))
    assert response.status_code == 200
    return response.get_json()["response"][GRAPH_ID]["figure"]


@pytest.mark.parametrize(
    "path",
    [
        "/dash/_dash-component-suites/os/path.py",
        "/dash/_dash-component-suites/flask/app.py",
        "/dash/_dash-component-suites/no_such_package/x.js",
    ],
)
def test_unknown_component_suites_are_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_registered_component_suite_is_still_served(client: FlaskClient) -> None:
    page = client.get("/dash/").get_data(as_text=True)
    start = page.index("/dash/_dash-component-suites/")
    script = page[start : page.index('"', start)]
    assert client.get(script).status_code == 200


def test_unknown_dash_paths_are_404_but_the_dashboard_is_served(client: FlaskClient) -> None:
    assert client.get("/dash/anything-unknown").status_code == 404
    assert client.get("/dash/").status_code == 200
    assert client.get("/dash/?manufacturer=Honda").status_code == 200


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("?vehicle=12", 12),
        ("?vehicle=" + "9" * 5000, None),  # int() refuses over 4,300 digits: no 500
        ("?vehicle=99999999999999999999", None),
        ("?vehicle=١٢", None),
        ("?vehicle=-3", None),
    ],
)
def test_a_linked_vehicle_id_is_read_or_dropped(search: str, expected: int | None) -> None:
    assert vehicle_in_link(search) == expected
