"""The dashboard through the Flask test client: pages, layout and the callback."""

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dashapp.figures import GRAPH_ID
from dashapp.layout import DROPDOWN_ID
from models import Manufacturer, Vehicle
from models.datasets import dataset_id_for
from models.db import db
from tests.dashapp.helpers import (
    UPDATE_URL,
    annotation_text,
    callback_payload,
    decode_array,
    point_count,
    post_figure,
)


def find_component(node: Any, component_id: str) -> dict[str, Any] | None:
    """Depth-first search of a serialized Dash layout for a component id."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        for value in node.get("props", {}).values():
            found = find_component(value, component_id)
            if found:
                return found
    if isinstance(node, list):
        for item in node:
            found = find_component(item, component_id)
            if found:
                return found
    return None


def test_dash_page_is_served_on_the_flask_server(client: FlaskClient) -> None:
    response = client.get("/dash/")
    assert response.status_code == 200
    assert b"_dash-config" in response.data
    assert b"dashboard.css" in response.data


def test_layout_lists_manufacturers_from_the_database(client: FlaskClient) -> None:
    layout = client.get("/dash/_dash-layout").get_json()
    dropdown = find_component(layout, DROPDOWN_ID)
    assert dropdown is not None
    values = [option["value"] for option in dropdown["props"]["options"]]
    assert len(values) == 30
    assert values == sorted(values)
    assert {"Toyota", "Chevrolet", "Mercedes-Benz", "BMW"} <= set(values)
    assert dropdown["props"]["multi"] is True
    assert dropdown["props"]["value"] == ["Toyota"]
    graph = find_component(layout, GRAPH_ID)
    assert graph is not None
    assert "figure" not in graph["props"]
    notice = find_component(layout, "store-notice")
    assert notice is not None
    assert notice["props"]["children"].startswith("14 of 406 vehicles lack horsepower or mpg")


def test_layout_is_read_per_request(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        auto_mpg = dataset_id_for(db.session.connection(), "auto-mpg")
        tesla = Manufacturer(name="Tesla")
        db.session.add(Vehicle(manufacturer=tesla, dataset_id=auto_mpg, model="Model S"))
        db.session.add(Manufacturer(name="Nothing Yet"))
        db.session.commit()
    dropdown = find_component(client.get("/dash/_dash-layout").get_json(), DROPDOWN_ID)
    assert dropdown is not None
    labels = [option["label"] for option in dropdown["props"]["options"]]
    # Only makers with vehicles in the dataset are offered, counted by what they plot; one
    # with nothing to plot is offered disabled, saying why.
    assert "Toyota (26)" in labels
    (tesla_option,) = [o for o in dropdown["props"]["options"] if o["value"] == "Tesla"]
    assert tesla_option["disabled"] is True
    assert tesla_option["label"] == "Tesla (0: none has both horsepower and mpg)"
    assert not any(label.startswith("Nothing Yet") for label in labels)


def test_callback_runs_on_page_load() -> None:
    """The dependency is registered without prevent_initial_call."""
    from server import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    dependencies = app.test_client().get("/dash/_dash-dependencies").get_json()
    (callback,) = [d for d in dependencies if d["output"] == f"{GRAPH_ID}.figure"]
    assert callback["inputs"][0] == {"id": DROPDOWN_ID, "property": "value"}
    assert callback["prevent_initial_call"] is False


@pytest.mark.parametrize("name", ["Toyota", "Chevrolet", "Ford", "BMW", "Volkswagen", "Honda"])
def test_point_count_matches_the_database(app: Flask, client: FlaskClient, name: str) -> None:
    figure = post_figure(client, name)
    with app.app_context():
        horsepower = db.session.scalars(
            select(Vehicle.horsepower)
            .join(Manufacturer)
            .where(
                Manufacturer.name == name,
                Vehicle.horsepower.is_not(None),
                Vehicle.combined_mpg.is_not(None),
            )
        ).all()
    assert point_count(figure) == len(horsepower)
    drawn = decode_array(figure["data"][0]["x"]).tolist()
    assert sorted(drawn) == pytest.approx(sorted(horsepower))


def test_toyota_has_26_points(client: FlaskClient) -> None:
    figure = post_figure(client, "Toyota")
    assert point_count(figure) == 26
    assert figure["layout"]["title"]["text"] == "Toyota: fuel efficiency vs horsepower"


def test_hidden_rows_are_reported_in_the_figure(client: FlaskClient) -> None:
    figure = post_figure(client, "Ford")
    assert point_count(figure) == 49
    assert "5 more hidden" in figure["layout"]["title"]["subtitle"]["text"]


def test_a_vehicle_added_later_appears(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        toyota = db.session.scalar(select(Manufacturer).where(Manufacturer.name == "Toyota"))
        auto_mpg = dataset_id_for(db.session.connection(), "auto-mpg")
        prius = {"model": "prius", "year": 2001, "horsepower": 70, "combined_mpg": 41}
        db.session.add(Vehicle(manufacturer=toyota, dataset_id=auto_mpg, **prius))
        db.session.commit()
    assert point_count(post_figure(client, "Toyota")) == 27


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "Pick a manufacturer"),
        ("", "Pick a manufacturer"),
        ([], "Pick a manufacturer"),
        ({"$ne": 1}, "Pick a manufacturer"),
        (42, "Pick a manufacturer"),
        ("Nope", "No manufacturer named"),
        ("Toyota'; DROP TABLE vehicles; --", "No manufacturer named"),
        ("x" * 10_000, "at most 200 characters"),
        ("x" * 100, "No manufacturer named"),
        ("Citroen", "no vehicles with both horsepower and mpg"),
    ],
)
def test_bad_values_get_an_empty_state(client: FlaskClient, value: Any, message: str) -> None:
    figure = post_figure(client, value)
    assert figure["data"] == []
    assert message in annotation_text(figure)


def test_crafted_values_are_escaped(client: FlaskClient) -> None:
    figure = post_figure(client, "<img src=x onerror=alert(1)>")
    assert "<img" not in annotation_text(figure)
    assert "&lt;img" in annotation_text(figure)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        [],
        {},
        {"output": "nope.figure"},
        {"output": f"{GRAPH_ID}.figure"},
        {**callback_payload("Toyota"), "outputs": None},
        {**callback_payload("Toyota"), "inputs": []},
        {**callback_payload("Toyota"), "inputs": [{"id": "other", "property": "value"}]},
        {**callback_payload("Toyota"), "inputs": "Toyota"},
        {**callback_payload("Toyota"), "state": [{"id": "x", "property": "y"}]},
        {**callback_payload("Toyota"), "changedPropIds": [1]},
    ],
)
def test_malformed_callback_requests_get_400(client: FlaskClient, body: Any) -> None:
    if isinstance(body, str):
        response = client.post(UPDATE_URL, data=body, content_type="application/json")
    else:
        response = client.post(UPDATE_URL, json=body)
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    problem = json.loads(response.get_data(as_text=True))
    assert problem["type"] == "about:blank"
    assert (problem["status"], problem["title"]) == (400, "Bad Request")
    assert problem["detail"]
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "crafted",
    [
        {"first_year": "1970", "last_year": {"a": 1}},
        {"first_year": None, "last_year": None},
        {"years": "all", "trend": {"on": 1}},
    ],
)
def test_crafted_slider_ends_fall_back_to_defaults(
    client: FlaskClient, crafted: dict[str, Any]
) -> None:
    response = client.post(UPDATE_URL, json=callback_payload("Toyota", **crafted))
    assert response.status_code == 200
    figure = response.get_json()["response"][GRAPH_ID]["figure"]
    assert point_count(figure) == 26
    assert figure["layout"]["xaxis"]["title"]["text"] == "Horsepower (hp)"


def test_store_unchanged_by_bad_input(app: Flask, client: FlaskClient) -> None:
    post_figure(client, "Toyota'; DELETE FROM vehicles; --")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vehicle)) == 406


def test_empty_store_still_serves_the_dashboard(empty_app: Flask) -> None:
    client = empty_app.test_client()
    layout = client.get("/dash/_dash-layout").get_json()
    dropdown = find_component(layout, DROPDOWN_ID)
    assert dropdown is not None
    assert dropdown["props"]["options"] == []
    assert dropdown["props"]["value"] == []
    assert "store is empty" in find_component(layout, "store-notice")["props"]["children"]
    assert post_figure(client, None)["data"] == []


def test_database_down_gives_a_message_not_a_500(make_app: Any, tmp_path: Any) -> None:
    broken = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    client = broken.test_client()
    assert client.get("/dash/").status_code == 200
    layout = client.get("/dash/_dash-layout").get_json()
    assert "unavailable" in find_component(layout, "store-notice")["props"]["children"]
    figure = post_figure(client, "Toyota")
    assert "unavailable" in annotation_text(figure)
